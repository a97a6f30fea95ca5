"""The Secrets Manager secret holding the access-token signing key set (kiln.domain.tokens).

Created holding an empty key set, not a generated value: a generated string is not a set of
JWKs, and generating the keys here would put private key material in the template. The first
key is written by `python -m kiln.bootstrap` (kiln.bootstrap.initialise_signing_keys), and
rotation steps go through the same adapter, so the keys exist only in the secret.

Why Secrets Manager rather than KMS: a KMS ECC_NIST_P256 key would never leave KMS, but every
token would then cost a KMS Sign call (latency on every token endpoint request, and a price per
call); with the key set in a secret, a function reads it once per container and signs locally.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, SecretValue
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge

EMPTY_KEY_SET = '{"keys": []}'


class SigningKeysSecret(Construct):
    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="Kiln: ES256 key set signing OAuth access tokens (JWKs with their rotation state)",
            # No key material: an empty set, filled outside the template (see the module docstring).
            secret_string_value=SecretValue.unsafe_plain_text(EMPTY_KEY_SET),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "The key set rotates by kiln.domain.tokens' rule (publish, then sign, then retire after the last "
            "token expires), not by a Secrets Manager rotation Lambda replacing the value at once.",
        )

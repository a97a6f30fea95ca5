"""The Secrets Manager secret that signs pagination cursors (functions read kiln.config.CURSOR_SECRET_ARN)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge


class CursorSecret(Construct):
    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="Kiln: HMAC key signing pagination cursors",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64,
                exclude_punctuation=True,
                include_space=False,
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Rotating the cursor key invalidates every outstanding pagination cursor; it is "
            "rotated by hand when needed (docs/deploy.md), not on a schedule.",
        )

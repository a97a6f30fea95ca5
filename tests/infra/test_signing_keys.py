"""The access-token signing key set's secret: no key material in the template or any function's
environment, and read by the JWKS function only, on that secret only."""

from __future__ import annotations

import json
import re

from infra.signing_keys import EMPTY_KEY_SET
from kiln.routes import ROUTES
from tests.infra.conftest import Synth
from tests.infra.test_stack import actions, function_key, functions, role_statements

# What a private key looks like in any serialization: a JWK's private member, PEM, base64 DER of a key.
KEY_MATERIAL = re.compile(r'"d"\s*:|PRIVATE KEY|MIG[HkT]AgEAMBMGByqGSM49', re.IGNORECASE)


def test_the_secret_holds_an_empty_key_set(main: Synth) -> None:
    secrets = [
        resource["Properties"]
        for _, resource in main.resources("AWS::SecretsManager::Secret").values()
        if "signing OAuth access tokens" in resource["Properties"].get("Description", "")
    ]
    assert len(secrets) == 1
    assert json.loads(secrets[0]["SecretString"]) == json.loads(EMPTY_KEY_SET) == {"keys": []}
    assert "GenerateSecretString" not in secrets[0]


def test_no_private_key_material_in_any_template_or_environment(main: Synth) -> None:
    for name, template in main.templates.items():
        assert not KEY_MATERIAL.search(json.dumps(template)), f"key material in {name}"
    for _, _, props in functions(main).values():
        environment = json.dumps(props.get("Environment", {}))
        assert not KEY_MATERIAL.search(environment)
        assert "KILN_SIGNING_KEYS\\u" not in environment  # only the ARN variable, never a value variable


def test_only_the_token_endpoints_read_the_key_set_secret(main: Synth) -> None:
    fns = functions(main)
    readers = [route for route in ROUTES if "signing-keys:read" in route.grants]
    # JWKS publishes the public keys, token signs, revoke and introspect verify what they are given.
    assert sorted(route.name for route in readers) == ["oauth_introspect", "oauth_jwks", "oauth_revoke", "oauth_token"]
    for route in ROUTES:
        stack, _, props = fns[function_key(route)]
        env = props["Environment"]["Variables"]
        statements = role_statements(main, stack, props)
        reads = [s for s in statements if s.get("Sid") == "SigningKeysRead"]
        if route in readers:
            assert "KILN_SIGNING_KEYS_SECRET_ARN" in env
            [statement] = reads
            assert statement["Action"] == "secretsmanager:GetSecretValue"
            assert "secretsmanager:PutSecretValue" not in actions(statements)
            resource = json.dumps(statement["Resource"])
            assert "*" not in resource and "SigningKeysSecretArn" in resource, resource
        else:
            assert not reads and "KILN_SIGNING_KEYS_SECRET_ARN" not in env
    metadata = next(route for route in ROUTES if route.name == "oauth_metadata")
    assert not metadata.grants


def test_the_rotation_worker_runs_hourly_and_alone_may_write_the_key_set(main: Synth) -> None:
    fns = functions(main)
    stack, logical_id, props = fns["kiln.workers.signing_keys_rotate.handler"]
    assert "KILN_SIGNING_KEYS_SECRET_ARN" in props["Environment"]["Variables"]
    statements = role_statements(main, stack, props)
    [rotate] = [s for s in statements if s.get("Sid") == "SigningKeysRotate"]
    assert sorted(rotate["Action"]) == ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
    assert "*" not in json.dumps(rotate["Resource"])
    # Nothing else this function could touch (its own logs and traces aside): no table, no bucket.
    assert actions(statements) - {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"} <= {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    rules = [
        resource["Properties"]
        for name, resource in main.resources("AWS::Events::Rule").values()
        if name == stack and logical_id in json.dumps(resource["Properties"].get("Targets", []))
    ]
    assert [rule["ScheduleExpression"] for rule in rules] == ["rate(1 hour)"]
    # No other function may write the secret.
    for key, (other_stack, _, other) in fns.items():
        if key != "kiln.workers.signing_keys_rotate.handler":
            assert "secretsmanager:PutSecretValue" not in actions(role_statements(main, other_stack, other)), key

"""The deployed authorizer: the REQUEST authorizer kiln.routes declares, and a least-privilege role."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template

from infra.api import deployment_fingerprint
from kiln import config
from kiln.routes import (
    AUTHORIZER_CACHE_TTL_SECONDS,
    AUTHORIZER_HANDLER,
    AUTHORIZER_IDENTITY_SOURCES,
    AUTHORIZER_TYPE,
    ROUTES,
)
from tests.infra.conftest import Synth
from tests.infra.test_stack import actions, functions, join, role_statements


def test_a_request_authorizer_without_identity_sources_or_gateway_cache(main: Synth) -> None:
    # A key caller sends no cookie and a browser no Authorization header: declaring either as an
    # identity source would make API Gateway answer 401 without asking the function.
    assert (AUTHORIZER_TYPE, AUTHORIZER_IDENTITY_SOURCES, AUTHORIZER_CACHE_TTL_SECONDS) == ("REQUEST", (), 0)
    template = Template.from_json(main.root)
    template.resource_count_is("AWS::ApiGateway::Authorizer", 1)
    [authorizer] = [
        v["Properties"] for v in main.root["Resources"].values() if v["Type"] == "AWS::ApiGateway::Authorizer"
    ]
    assert authorizer["Type"] == "REQUEST"
    assert not authorizer.get("IdentitySource")
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0
    _, logical_id, _ = functions(main)[AUTHORIZER_HANDLER]
    assert f"<{logical_id}.Arn>" in join(authorizer["AuthorizerUri"])


def test_the_authorizer_reads_the_key_set_and_the_table_and_writes_nothing_else(main: Synth) -> None:
    stack, _, props = functions(main)[AUTHORIZER_HANDLER]
    env = props["Environment"]["Variables"]
    assert "KILN_SIGNING_KEYS_SECRET_ARN" in env
    assert config.AUTHORIZER_CACHE_SECONDS not in env  # the 60 s default: documented revocation latency
    statements = role_statements(main, stack, props)
    [keys] = [s for s in statements if s.get("Sid") == "SigningKeysRead"]
    assert keys["Action"] == "secretsmanager:GetSecretValue"
    resource = json.dumps(keys["Resource"])
    assert "*" not in resource and "SigningKeys" in resource, resource
    granted = actions(statements)
    # Reads (keys, people, sessions, grants, workspaces) and the one conditional lastUsedAt write.
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem"} <= granted
    assert not granted & {
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:TransactWriteItems",
        "dynamodb:BatchWriteItem",
        "secretsmanager:PutSecretValue",
        "s3:GetObject",
        "s3:PutObject",
    }
    assert not any(action.startswith(("lambda:", "states:", "bedrock:", "apigateway:")) for action in granted)


def test_changing_the_authorizer_configuration_redeploys_the_stage(monkeypatch) -> None:
    from infra import api

    before = deployment_fingerprint(ROUTES)
    monkeypatch.setattr(api, "AUTHORIZER_IDENTITY_SOURCES", ("method.request.header.Authorization",))
    assert deployment_fingerprint(ROUTES) != before

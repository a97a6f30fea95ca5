"""Unit-test fixtures: moto in-process AWS, and API Gateway proxy events for handlers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from kiln import config, services
from kiln.adapters import aws
from kiln.adapters.schema import create_table_kwargs
from kiln.tiers import TIERS
from local import atomic

TABLE = "kiln-unit"
BUCKET = "kiln-unit-bucket"

# tests/conftest.py gives every test a valid local environment (these names) before collection.


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Forget the settings loaded at import, so each test's accessors read the environment it sets."""
    config.reset()
    yield
    config.reset()


@pytest.fixture(autouse=True)
def fresh_services() -> Iterator[None]:
    """Each test starts from a new composition root, as a new container would; a test that
    installs its own (`services.use(services.build(...))`) leaves nothing behind."""
    services.reset()
    yield
    services.reset()


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch):
    """A fresh moto account with Kiln's table, bucket, cursor secret and usage plans."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv(config.TABLE_NAME, TABLE)
    monkeypatch.setenv(config.BUCKET_NAME, BUCKET)
    monkeypatch.setenv(config.ENVIRONMENT, "local")
    # Handler tests revoke, rotate and expire credentials and ask the authorizer again at once:
    # its warm-container cache is tested on its own (tests/unit/kiln/domain/test_authentication.py).
    monkeypatch.setenv(config.AUTHORIZER_CACHE_SECONDS, "0")
    atomic.install()  # threads in tests see DynamoDB's atomic conditional writes
    with mock_aws():
        aws.reset()
        services.reset()  # a root built before this account would hold another account's secret
        boto3.client("dynamodb").create_table(**create_table_kwargs(TABLE))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        secret = boto3.client("secretsmanager").create_secret(Name="kiln-cursor", SecretString=uuid.uuid4().hex * 2)
        monkeypatch.setenv(config.CURSOR_SECRET_ARN, secret["ARN"])
        apigw = boto3.client("apigateway")
        plans = {
            name: apigw.create_usage_plan(
                name=f"kiln-{name}", throttle={"rateLimit": tier.rate_per_second, "burstLimit": tier.burst}
            )["id"]
            for name, tier in TIERS.items()
        }
        monkeypatch.setenv(config.USAGE_PLANS, json.dumps(plans))
        yield
        aws.reset()
        services.reset()


def principal_context(
    workspace_id: str = "ws_01m885m8rskqxxjknrtpgbxm1p",
    scopes: str = "project:read project:write ai:invoke admin",
    tier: str = "pro",
    allowed_paths: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "principalId": "key_01m885m8rskqxxjknrtpgbxm1q",
        "workspaceId": workspace_id,
        "keyId": "key_01m885m8rskqxxjknrtpgbxm1q",
        "scopes": scopes,
        "tier": tier,
        "allowedPaths": json.dumps(allowed_paths or []),
    }


def proxy_event(
    method: str,
    resource: str,
    path: str | None = None,
    *,
    body: Any = None,
    query: dict[str, str | list[str]] | None = None,
    headers: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy event as API Gateway sends it."""
    headers = dict(headers or {})
    if body is not None and raw_body is None:
        raw_body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    multi_query = {k: (v if isinstance(v, list) else [v]) for k, v in (query or {}).items()}
    return {
        "resource": resource,
        "path": path or resource,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "resourcePath": resource,
            "httpMethod": method,
            "stage": "prod",
            "authorizer": authorizer if authorizer is not None else principal_context(),
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def parse(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return response["statusCode"], (json.loads(response["body"]) if response["body"] else {})

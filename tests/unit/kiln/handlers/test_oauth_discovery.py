"""GET /.well-known/oauth-authorization-server and /.well-known/jwks.json, called as Lambda
would call them: unenveloped answers that validate against their documented models."""

from __future__ import annotations

import json

import boto3
import pytest

from kiln import config
from kiln.domain import tokens
from kiln.domain.oauth_views import AuthorizationServerMetadata, JsonWebKeySet
from kiln.domain.tokens import KeySet
from kiln.handlers import oauth_jwks, oauth_metadata
from tests.unit.conftest import proxy_event

NOW = 1_800_000_000


@pytest.fixture
def key_set(cloud, monkeypatch: pytest.MonkeyPatch) -> KeySet:
    """A key set mid-rotation (current and next) in the moto account's secret."""
    key_set = KeySet.initial(NOW).stage(NOW + 10)
    arn = boto3.client("secretsmanager").create_secret(Name="kiln-signing-keys", SecretString=key_set.to_json())["ARN"]
    monkeypatch.setenv(config.SIGNING_KEYS_SECRET_ARN, arn)
    oauth_jwks._cache["at"] = -tokens.SERVER_CACHE_SECONDS * 10
    return key_set


def test_jwks_publishes_every_key_public_members_only(key_set: KeySet) -> None:
    answer = oauth_jwks.handler(proxy_event("GET", "/.well-known/jwks.json"))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Cache-Control"] == f"public, max-age={tokens.JWKS_MAX_AGE_SECONDS}"
    published = JsonWebKeySet.model_validate_json(answer["body"])
    assert [key.kid for key in published.keys] == [key.kid for key in key_set.keys]
    assert '"d"' not in answer["body"]


def test_publishing_the_keys_loads_no_signing_code() -> None:
    """The JWKS is the stored public members: its function's cold start loads neither jwt nor cryptography."""
    import subprocess
    import sys
    from pathlib import Path

    key_set = KeySet.initial(NOW).stage(NOW + 10)
    script = (
        "import sys\n"
        "import kiln.handlers.oauth_jwks\n"
        "from kiln.domain.tokens import KeySet\n"
        "print(*[key['kid'] for key in KeySet.from_json(sys.argv[1]).jwks()['keys']])\n"
        "print(sorted({'jwt', 'cryptography'} & set(sys.modules)))\n"
    )
    functions = Path(__file__).resolve().parents[4] / "functions"
    out = subprocess.run(
        [sys.executable, "-c", script, key_set.to_json()], cwd=functions, capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == [" ".join(key.kid for key in key_set.keys), "[]"]


def test_jwks_reads_the_secret_once_per_server_cache_window(key_set: KeySet, monkeypatch) -> None:
    reads = []
    from kiln.adapters import secrets

    real = secrets.signing_keys
    monkeypatch.setattr(secrets, "signing_keys", lambda: reads.append(1) or real())
    for _ in range(5):
        oauth_jwks.handler(proxy_event("GET", "/.well-known/jwks.json"))
    assert len(reads) == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"Host": "abc123.execute-api.eu-west-1.amazonaws.com"},
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        ),
        ({"Host": "api.example.com", "X-Forwarded-Proto": "https"}, "https://api.example.com"),
        ({"Host": "localhost:3001", "X-Forwarded-Proto": "http"}, "http://localhost:3001"),
    ],
)
def test_the_issuer_is_where_the_request_arrived(headers: dict[str, str], expected: str) -> None:
    event = proxy_event("GET", "/.well-known/oauth-authorization-server", headers=headers)
    event["requestContext"]["stage"] = "prod"
    answer = oauth_metadata.handler(event)
    metadata = AuthorizationServerMetadata.model_validate_json(answer["body"])
    assert metadata.issuer == expected
    assert metadata.jwks_uri == f"{expected}/.well-known/jwks.json"
    assert metadata.token_endpoint == f"{expected}/oauth/token"
    assert "success" not in json.loads(answer["body"])


def test_a_configured_issuer_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.OAUTH_ISSUER, "https://kiln.example.org/")
    event = proxy_event(
        "GET", "/.well-known/oauth-authorization-server", headers={"Host": "x.execute-api.a.amazonaws.com"}
    )
    metadata = json.loads(oauth_metadata.handler(event)["body"])
    assert metadata["issuer"] == "https://kiln.example.org"
    assert metadata["authorization_endpoint"] == "https://kiln.example.org/oauth/authorize"


def test_bootstrap_gives_an_empty_deployed_key_set_its_first_key_once(cloud, monkeypatch) -> None:
    from infra.signing_keys import EMPTY_KEY_SET
    from kiln import bootstrap

    client = boto3.client("secretsmanager")
    arn = client.create_secret(Name="kiln-signing-keys-deployed", SecretString=EMPTY_KEY_SET)["ARN"]
    monkeypatch.setenv(config.SIGNING_KEYS_SECRET_ARN, arn)
    assert bootstrap.initialise_signing_keys(NOW) is True
    first = KeySet.from_json(client.get_secret_value(SecretId=arn)["SecretString"])
    assert [key.state for key in first.keys] == ["current"]
    assert bootstrap.initialise_signing_keys(NOW + 60) is False, "a key set with keys is left as it is"
    assert KeySet.from_json(client.get_secret_value(SecretId=arn)["SecretString"]) == first

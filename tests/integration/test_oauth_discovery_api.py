"""OAuth discovery over HTTP against the local cloud: the RFC 8414 metadata, the JWKS, and a
token signed with the provisioned key set verified by a stock client (pyjwt's PyJWKClient)."""

from __future__ import annotations

import time
from typing import get_args

import jwt
import pytest
import requests

from kiln.domain import tokens
from kiln.domain.tokens import KeySet
from kiln.routes import Scope

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

SECRET_NAME = "kiln-local/token-signing-keys"


def test_metadata_names_the_endpoints_under_the_issuer(local_cloud):
    answer = requests.get(f"{local_cloud.url}/.well-known/oauth-authorization-server", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    metadata = answer.json()
    assert "success" not in metadata, "RFC 8414 metadata is not enveloped"
    issuer = metadata["issuer"]
    assert issuer == local_cloud.url
    assert metadata["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert metadata["token_endpoint"] == f"{issuer}/oauth/token"
    assert metadata["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["none"]
    assert metadata["scopes_supported"] == list(get_args(Scope))


def test_jwks_publishes_public_keys_only(local_cloud):
    answer = requests.get(f"{local_cloud.url}/.well-known/jwks.json", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == f"public, max-age={tokens.JWKS_MAX_AGE_SECONDS}"
    keys = answer.json()["keys"]
    assert keys, "the local cloud provisions a key set"
    for key in keys:
        assert set(key) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
        assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("EC", "P-256", "sig", "ES256")


def test_a_token_signed_with_the_provisioned_keys_verifies_through_the_published_jwks(local_cloud):
    stored = local_cloud.aws("secretsmanager").get_secret_value(SecretId=SECRET_NAME)["SecretString"]
    key_set = KeySet.from_json(stored)
    metadata = requests.get(f"{local_cloud.url}/.well-known/oauth-authorization-server", timeout=30).json()
    token = tokens.issue(
        key_set.signing_key(),
        issuer=metadata["issuer"],
        audience=metadata["issuer"],
        subject="usr_integration",
        client_id="cli_integration",
        scopes=("project:read",),
        workspace="ws_integration",
        now=int(time.time()),
        grant_id="grant_integration",
    )
    client = jwt.PyJWKClient(metadata["jwks_uri"])
    signing_key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=["ES256"],
        audience=metadata["issuer"],
        issuer=metadata["issuer"],
        options={"require": ["exp", "iat", "jti"]},
    )
    assert claims["sub"] == "usr_integration" and claims["workspace"] == "ws_integration"
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"

    # A token from a key set the server never published is refused by the same client.
    stranger = tokens.issue(
        KeySet.initial(int(time.time())).signing_key(),
        issuer=metadata["issuer"],
        audience=metadata["issuer"],
        subject="usr_x",
        client_id="cli_x",
        scopes=(),
        workspace="ws_x",
        now=int(time.time()),
        grant_id="grant_x",
    )
    with pytest.raises(jwt.PyJWKClientError):
        client.get_signing_key_from_jwt(stranger)

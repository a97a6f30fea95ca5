"""Hostile access tokens over HTTP against the local cloud: what the authorizer refuses, each
case on its own. Real tokens come from the real flow (tests.integration.oauth_helpers);
forged ones are signed here with pyjwt and cryptography, starting from a real token's claims
so that each forgery differs from an accepted token in one respect only. The first test
shows the starting point is sound: the same claims signed with the set's current key (read
from the local cloud's Secrets Manager) are accepted, so every refusal below is the one
difference's doing.

Two hostile cases of the issue live with the feature they attack: a cookie request without
the CSRF token (tests/integration/test_sessions_api.py,
test_the_cookie_works_and_changes_need_the_csrf_token) and brute-forced sign-in (same file,
test_brute_force_is_throttled_and_wrong_email_or_password_look_alike)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from kiln.domain.tokens import KeySet
from local.constants import NAME_PREFIX
from tests.integration.oauth_helpers import call, form, new_client, new_person, tokens

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

SIGNING_KEYS_SECRET = f"{NAME_PREFIX}-local/token-signing-keys"  # local/provision.py


@pytest.fixture(scope="module")
def client(local_cloud) -> dict:
    return new_client(local_cloud, ["project:read"], name="Token Tester")


@pytest.fixture(scope="module")
def real(local_cloud, client) -> dict:
    """A real token answer of a person holding project:read."""
    person = new_person(local_cloud, ["project:read"])
    return tokens(local_cloud, person["email"], client)


@pytest.fixture(scope="module")
def claims(real) -> dict:
    return jwt.decode(real["access_token"], options={"verify_signature": False})


@pytest.fixture(scope="module")
def header(real) -> dict:
    return jwt.get_unverified_header(real["access_token"])


@pytest.fixture(scope="module")
def server_key(local_cloud, header) -> ec.EllipticCurvePrivateKey:
    """The private key that signed the real token, as the token endpoint reads it."""
    stored = local_cloud.aws("secretsmanager").get_secret_value(SecretId=SIGNING_KEYS_SECRET)["SecretString"]
    key = KeySet.from_json(stored).signing_key()
    assert key.kid == header["kid"]
    return key.private_key()


def refused(cloud, token: str) -> None:
    """The API answers 401 UNAUTHORIZED with the Bearer challenge, on a read and a change alike."""
    for method, body in (("GET", None), ("POST", {"name": "Forged", "description": "Made with a forged token."})):
        answer = call(cloud, method, "/v1/projects", key=token, json=body)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "UNAUTHORIZED"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned_parts(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def test_the_real_claims_signed_with_the_current_key_are_accepted(local_cloud, real, claims, header, server_key):
    assert call(local_cloud, "GET", "/v1/projects", key=real["access_token"]).status_code == 200
    resigned = jwt.encode({**claims, "jti": secrets.token_urlsafe(16)}, server_key, algorithm="ES256", headers=header)
    assert resigned != real["access_token"]
    answer = call(local_cloud, "GET", "/v1/projects", key=resigned)
    assert answer.status_code == 200, answer.text


def test_an_expired_token_is_refused(local_cloud, claims, header, server_key):
    # Past the 60 s of clock skew the verifier allows, signed with the very key that signs now.
    now = int(time.time())
    expired = {**claims, "iat": now - 20 * 60, "exp": now - 5 * 60}
    refused(local_cloud, jwt.encode(expired, server_key, algorithm="ES256", headers=header))


def test_the_token_of_a_deleted_person_is_refused(local_cloud, client):
    person = new_person(local_cloud, ["project:read"])
    answer = tokens(local_cloud, person["email"], client)
    assert call(local_cloud, "GET", "/v1/projects", key=answer["access_token"]).status_code == 200  # now cached
    assert call(local_cloud, "DELETE", f"/v1/users/{person['id']}").status_code == 204
    refused(local_cloud, answer["access_token"])
    again = form(
        local_cloud,
        "/oauth/token",
        grant_type="refresh_token",
        refresh_token=answer["refresh_token"],
        client_id=client["clientId"],
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_token_signed_with_a_key_not_in_the_set_is_refused(local_cloud, claims, header):
    # The published kid, a key of the attacker's own: the signature cannot verify.
    stranger = ec.generate_private_key(ec.SECP256R1())
    refused(local_cloud, jwt.encode(claims, stranger, algorithm="ES256", headers=header))


def test_alg_none_is_refused(local_cloud, claims, header):
    token = unsigned_parts({**header, "alg": "none"}, claims) + "."
    assert jwt.get_unverified_header(token)["alg"] == "none"
    refused(local_cloud, token)


def test_hs256_signed_with_the_published_public_key_is_refused(local_cloud, claims, header):
    # The key confusion attack: a verifier that let the header choose the algorithm would take
    # the public key (which anyone can fetch) as an HMAC secret. pyjwt refuses to sign this,
    # so the token is put together by hand.
    published = requests.get(f"{local_cloud.url}/.well-known/jwks.json", timeout=30).json()["keys"]
    jwk = next(key for key in published if key["kid"] == header["kid"])
    public = ECAlgorithm.from_jwk(json.dumps(jwk))
    assert isinstance(public, ec.EllipticCurvePublicKey)
    for pem in (
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        json.dumps(jwk).encode(),
    ):
        signing_input = unsigned_parts({**header, "alg": "HS256"}, claims)
        signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
        refused(local_cloud, f"{signing_input}.{b64(signature)}")


def test_a_forged_kid_is_refused(local_cloud, claims, header, server_key):
    # Signed with the real key, but naming kids the set does not hold: a verifier must not
    # fall back to another key, nor fetch the set anew for each of them.
    for kid in (secrets.token_urlsafe(12), "../" + header["kid"], ""):
        refused(local_cloud, jwt.encode(claims, server_key, algorithm="ES256", headers={**header, "kid": kid}))
    still = call(local_cloud, "GET", "/v1/projects", key=jwt.encode(claims, server_key, "ES256", headers=header))
    assert still.status_code == 200, still.text


def test_a_token_of_a_revoked_grant_is_refused_at_once(local_cloud, client):
    person = new_person(local_cloud, ["project:read"])
    answer = tokens(local_cloud, person["email"], client)
    # Used first, so the authorizer holds its answer in its own cache: revocation must bite anyway.
    assert call(local_cloud, "GET", "/v1/projects", key=answer["access_token"]).status_code == 200
    revoked = form(
        local_cloud,
        "/oauth/revoke",
        token=answer["refresh_token"],
        token_type_hint="refresh_token",
        client_id=client["clientId"],
    )
    assert revoked.status_code == 200, revoked.text
    refused(local_cloud, answer["access_token"])

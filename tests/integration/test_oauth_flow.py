"""The whole OAuth 2.1 authorization code flow over HTTP against the local cloud, as a
third-party app does it with a stock OAuth client library (Authlib's httpx client, PKCE S256,
no client secret): discovery, registration, sign-in and consent through Kiln's HTML forms,
the code exchanged for tokens, the API called with them within and beyond their scopes,
a refresh, a replayed refresh token revoking its family, and revocation."""

from __future__ import annotations

import secrets
from urllib.parse import urljoin

import jwt
import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from tests.html_pages import read_page
from tests.integration.oauth_helpers import PASSWORD, REDIRECT, new_client, new_person

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


@pytest.fixture(scope="module")
def metadata(local_cloud) -> dict:
    answer = requests.get(f"{local_cloud.url}/.well-known/oauth-authorization-server", timeout=30)
    assert answer.status_code == 200
    return answer.json()


@pytest.fixture(scope="module")
def person(local_cloud) -> str:
    """A person holding project:read and project:write; the app will only ask for project:read."""
    return new_person(local_cloud, ["project:read", "project:write"])["email"]


@pytest.fixture(scope="module")
def client_id(local_cloud) -> str:
    """The app, registered by the workspace's admin with the admin key."""
    return new_client(local_cloud, ["project:read"], name="Flow Test App")["clientId"]


def app(client_id: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=client_id,
        redirect_uri=REDIRECT,
        scope="project:read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        timeout=30,
    )


def person_authorizes(url: str, email: str) -> str:
    """A browser without JavaScript: the sign-in form, the consent form, Approve. Returns the
    URL the browser is finally sent to (the app's redirect URI with the code)."""
    shown = requests.get(url, allow_redirects=False, timeout=30)
    assert shown.status_code == 200, shown.text
    sign_in = read_page(shown.text).forms[0]
    signed = requests.post(
        urljoin(url, sign_in.action),
        data=sign_in.submit("sign_in", email=email, password=PASSWORD),
        allow_redirects=False,
        timeout=30,
    )
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["Set-Cookie"].split(";")[0]  # a browser keeps it; requests would not (Secure, http)
    consent = read_page(signed.text)
    assert "Flow Test App" in consent.text
    approved = requests.post(
        urljoin(url, consent.forms[0].action),
        data=consent.forms[0].submit("approve"),
        headers={"Cookie": cookie},
        allow_redirects=False,
        timeout=30,
    )
    assert approved.status_code == 303, approved.text
    return approved.headers["Location"]


def authorized_app(metadata: dict, client_id: str, email: str) -> OAuth2Client:
    """An app holding tokens: authorization URL, consent, code exchanged with the verifier."""
    client = app(client_id)
    verifier = secrets.token_urlsafe(64)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    back = person_authorizes(url, email)
    assert back.startswith(REDIRECT + "?")
    client.fetch_token(metadata["token_endpoint"], authorization_response=back, code_verifier=verifier, state=state)
    return client


def bearer(local_cloud, token: str, method: str = "GET", path: str = "/v1/projects", **kwargs) -> requests.Response:
    return requests.request(
        method, f"{local_cloud.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kwargs
    )


def test_discovery_names_every_endpoint_the_flow_uses(metadata, local_cloud):
    assert metadata["issuer"] == local_cloud.url
    for name, path in (
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ):
        assert metadata[name] == local_cloud.url + path
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["none"]


def test_code_tokens_api_refresh_and_a_replayed_refresh_token(metadata, client_id, person, local_cloud):
    client = authorized_app(metadata, client_id, person)
    first = dict(client.token)
    assert first["token_type"] == "Bearer" and first["scope"] == "project:read" and first["expires_in"] == 900

    # The access token is an RFC 9068 JWT that verifies against the published keys.
    signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(first["access_token"])
    claims = jwt.decode(
        first["access_token"],
        signing_key.key,
        algorithms=["ES256"],
        audience=metadata["issuer"],
        issuer=metadata["issuer"],
    )
    assert claims["client_id"] == client_id and claims["scope"] == "project:read" and claims["gid"]

    # Within its scopes the API answers; beyond them (project:write, which the person holds but
    # the app did not get) 403 with the insufficient_scope challenge.
    listed = client.get(f"{local_cloud.url}/v1/projects")
    assert listed.status_code == 200, listed.text
    assert listed.json()["success"] is True
    created = client.post(f"{local_cloud.url}/v1/projects", json={"name": "Nope", "description": "Not allowed here."})
    assert created.status_code == 403, created.text
    assert created.json()["error"]["code"] == "FORBIDDEN"
    assert 'error="insufficient_scope"' in created.headers["WWW-Authenticate"]

    # Refresh: a new access token and a new refresh token; the new access token works.
    second = dict(client.refresh_token(metadata["token_endpoint"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert bearer(local_cloud, second["access_token"]).status_code == 200

    # The old refresh token again: a replay. invalid_grant, and the whole family is revoked:
    # the access token just refreshed stops working, and so does the newest refresh token.
    with pytest.raises(OAuthError) as replayed:
        client.refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert replayed.value.error == "invalid_grant"
    refused = bearer(local_cloud, second["access_token"])
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "UNAUTHORIZED"
    with pytest.raises(OAuthError) as spent:
        client.refresh_token(metadata["token_endpoint"], refresh_token=second["refresh_token"])
    assert spent.value.error == "invalid_grant"


def test_revoking_the_refresh_token_ends_the_grant(metadata, client_id, person, local_cloud):
    client = authorized_app(metadata, client_id, person)
    token = dict(client.token)
    assert bearer(local_cloud, token["access_token"]).status_code == 200

    revoked = client.revoke_token(
        metadata["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200, revoked.text
    assert bearer(local_cloud, token["access_token"]).status_code == 401
    with pytest.raises(OAuthError) as refused:
        client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"


def test_a_code_is_single_use_and_its_reuse_revokes_what_it_gave(metadata, client_id, person, local_cloud):
    client = app(client_id)
    verifier = secrets.token_urlsafe(64)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    back = person_authorizes(url, person)
    first = client.fetch_token(
        metadata["token_endpoint"], authorization_response=back, code_verifier=verifier, state=state
    )
    assert bearer(local_cloud, first["access_token"]).status_code == 200
    with pytest.raises(OAuthError) as again:
        app(client_id).fetch_token(
            metadata["token_endpoint"], authorization_response=back, code_verifier=verifier, state=state
        )
    assert again.value.error == "invalid_grant"
    # The code was intercepted or replayed: the tokens it gave stop working (OAuth 2.1 section 4.1.3).
    assert bearer(local_cloud, first["access_token"]).status_code == 401

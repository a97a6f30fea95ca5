"""People, sessions and OAuth tokens obtained over HTTP the way their users obtain them, for
the integration tests of identity: a person made through /v1/users, a browser session from
POST /v1/sessions, and an access token from the /oauth/authorize pages (sign in, approve with
the session's CSRF token) exchanged at /oauth/token with the PKCE verifier. Nothing here
shortcuts the service: every token a test holds went through the real flow."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import requests

from kiln.domain.oauth import s256

PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:8765/callback"
COOKIE = "__Host-kiln_session"


def call(cloud, method: str, path: str, key: str | None = None, **kwargs) -> requests.Response:
    """A request with `Authorization: Bearer <key>` (the admin key by default)."""
    headers = {"Authorization": f"Bearer {key or cloud.admin_key}", **kwargs.pop("headers", {})}
    return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


def form(cloud, path: str, **fields: str) -> requests.Response:
    """An application/x-www-form-urlencoded POST with no credential, as the token endpoints take."""
    return requests.post(cloud.url + path, data=fields, timeout=30, allow_redirects=False)


def pkce() -> tuple[str, str]:
    """(verifier, its S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def new_person(
    cloud,
    scopes: Sequence[str] = ("project:read", "project:write"),
    key: str | None = None,
    workspace_id: str | None = None,
) -> dict:
    """A person with a unique email (the sign-in throttle counts per email), made with `key`
    (the admin key by default); the answer holds its `id` and `email`."""
    email = f"person-{secrets.token_hex(6)}@example.com"
    body: dict = {"email": email, "name": "Ada", "password": PASSWORD, "scopes": list(scopes)}
    if workspace_id:
        body["workspaceId"] = workspace_id
    created = call(cloud, "POST", "/v1/users", key=key, json=body)
    assert created.status_code == 201, created.text
    return created.json()["data"]


def new_client(cloud, scopes: list[str], key: str | None = None, name: str = "Planner") -> dict:
    """An OAuth client registered in the workspace of `key` (the admin's by default)."""
    body = {"name": name, "redirectUris": [REDIRECT], "scopes": scopes}
    created = call(cloud, "POST", "/v1/oauth/clients", key=key, json=body)
    assert created.status_code == 201, created.text
    return created.json()["data"]


def signed_in(cloud, email: str, password: str = PASSWORD) -> tuple[str, str]:
    """(the session cookie's token, the session's CSRF token) of a new sign-in."""
    response = requests.post(cloud.url + "/v1/sessions", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 201, response.text
    name, _, rest = response.headers["Set-Cookie"].partition("=")
    assert name == COOKIE
    return rest.split(";")[0], response.json()["data"]["csrfToken"]


def with_cookie(cloud, method: str, path: str, token: str, csrf: str | None = None, **kwargs) -> requests.Response:
    """A request as a browser page sends it: the cookie as a `Cookie:` header (requests' jar keeps
    `Secure` cookies off plain-HTTP localhost), the CSRF token when given."""
    headers = {"Cookie": f"{COOKIE}={token}", **kwargs.pop("headers", {})}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


def authorize(cloud, email: str, client_id: str, challenge: str, scope: str) -> str:
    """A code through the real pages: sign in, then approve with the session's CSRF token."""
    request = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    signed = requests.post(
        cloud.url + "/oauth/authorize",
        data={**request, "action": "sign_in", "email": email, "password": PASSWORD},
        timeout=30,
        allow_redirects=False,
    )
    assert signed.status_code == 200, signed.text
    cookie = signed.headers["Set-Cookie"].split(";")[0]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', signed.text)
    assert csrf, signed.text
    approved = requests.post(
        cloud.url + "/oauth/authorize",
        data={**request, "action": "approve", "csrf_token": csrf.group(1)},
        headers={"Cookie": cookie},
        timeout=30,
        allow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    location = urlsplit(approved.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(cloud, client_id: str, code: str, verifier: str) -> requests.Response:
    return form(
        cloud,
        "/oauth/token",
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id=client_id,
        code_verifier=verifier,
    )


def tokens(cloud, email: str, client: dict, scope: str | None = None) -> dict:
    """The token answer (access_token, refresh_token, scope...) of a whole authorization: the
    client's registered scopes are asked unless `scope` says otherwise."""
    verifier, challenge = pkce()
    code = authorize(cloud, email, client["clientId"], challenge, scope or " ".join(client["scopes"]))
    answer = exchange(cloud, client["clientId"], code, verifier)
    assert answer.status_code == 200, answer.text
    return answer.json()

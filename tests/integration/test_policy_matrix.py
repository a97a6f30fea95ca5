"""The policy of every route, over HTTP against the local cloud, for each of the three
credentials the authorizer accepts: an API key, an OAuth access token (through the real
authorization flow) and a session cookie (with `X-CSRF-Token` on changes, as a page sends it).

- scopes: a credential lacking a route's scope gets 403 with the insufficient_scope challenge;
- tenancy: a credential of another workspace gets exactly the answer a missing id gets, on
  every route that addresses a project;
- limits: every credential is metered, and its answers carry the rate-limit headers;
- idempotency: an `Idempotency-Key` replays for the credential that sent it, never for the
  principal of another workspace.

Every case runs for all three kinds, not a sample of routes for tokens and cookies: a route
skipped there is exactly where a slip in the route table would hide, and the whole matrix
costs about a minute more than keys alone (15 s to 80 s on two cores), within budget."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
import requests

from kiln.routes import ROUTES, Route
from tests.integration.oauth_helpers import new_client, new_person, signed_in, tokens

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

ALL_SCOPES = ["project:read", "project:write", "ai:invoke", "admin"]
KINDS = ("key", "token", "session")
CHANGES = ("POST", "PATCH", "PUT", "DELETE")
# Well-formed ids that exist nowhere.
MISSING = {
    "projectId": "proj_01m885m8rskqxxjknrtpgbxzzz",
    "runId": "run_01m885m8rskqxxjknrtpgbxzzz",
    "exportId": "exp_01m885m8rskqxxjknrtpgbxzzz",
    "callbackId": "conv_01m885m8rskqxxjknrtpgbxzzz",
    "workspaceId": "ws_01m885m8rskqxxjknrtpgbxzzz",
    "keyId": "key_01m885m8rskqxxjknrtpgbxzzz",
    "userId": "usr_01m885m8rskqxxjknrtpgbxzzz",
    "webhookId": "wh_01m885m8rskqxxjknrtpgbxzzz",
    "deliveryId": "dlv_01m885m8rskqxxjknrtpgbxzzz",
    "clientId": "client_01m885m8rskqxxjknrtpgbxzzz",
    "deploymentId": "dep_01m885m8rskqxxjknrtpgbxzzz",
    "taskId": "task-001",
    "path": "README.md",
}


@dataclass(frozen=True)
class Credential:
    """What a client of one kind sends: its credential header, plus, for a session, the CSRF
    token on changes (without it every change would be 403 csrf, hiding the policy checked)."""

    kind: str
    headers: Mapping[str, str]
    change_headers: Mapping[str, str] = field(default_factory=dict)

    def send(self, cloud, method: str, path: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **(self.change_headers if method in CHANGES else {}), **kwargs.pop("headers", {})}
        return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


def concrete(route: Route, values: dict[str, str]) -> str:
    unknown = set(re.findall(r"{([^}+]+)\+?}", route.path)) - set(values)
    assert not unknown, f"{route.path}: add a well-formed missing id for {sorted(unknown)} to MISSING"
    return re.sub(r"{([^}+]+)\+?}", lambda m: values[m.group(1)], route.path)


def mint(cloud, scopes: list[str], workspace_id: str | None = None, by: str | None = None) -> str:
    """A key holding `scopes`, minted by `by` (the admin key by default) or for `workspace_id`."""
    body = {"name": "matrix", "scopes": scopes}
    if workspace_id:
        body["workspaceId"] = workspace_id
    response = requests.post(
        f"{cloud.url}/v1/api-keys", json=body, timeout=30, headers={"Authorization": f"Bearer {by or cloud.admin_key}"}
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["secret"]


def credentials_of(cloud, scopes: list[str], admin_key: str | None = None) -> dict[str, Credential]:
    """A key, an access token and a session holding exactly `scopes`, in the workspace of
    `admin_key` (the admin's by default). The token and the session are one person's; the
    token is asked for every scope its client registered, and gets only what the person holds."""
    workspace_key = admin_key or cloud.admin_key
    key = mint(cloud, scopes, by=workspace_key)
    person = new_person(cloud, scopes, key=workspace_key)
    client = new_client(cloud, ALL_SCOPES, key=workspace_key, name="Matrix")
    access = tokens(cloud, person["email"], client)
    assert sorted(access["scope"].split()) == sorted(scopes), access
    cookie, csrf = signed_in(cloud, person["email"])
    return {
        "key": Credential("key", {"Authorization": f"Bearer {key}"}),
        "token": Credential("token", {"Authorization": f"Bearer {access['access_token']}"}),
        "session": Credential("session", {"Cookie": f"__Host-kiln_session={cookie}"}, {"X-CSRF-Token": csrf}),
    }


@pytest.fixture(scope="module")
def lacking(local_cloud) -> dict[str, dict[str, Credential]]:
    """Per scope, the three credentials holding every other scope, in the admin's workspace."""
    return {missing: credentials_of(local_cloud, [s for s in ALL_SCOPES if s != missing]) for missing in ALL_SCOPES}


SCOPED = [r for r in ROUTES if r.scopes]


def _body(route: Route) -> dict:
    return {"json": {}} if route.method in ("POST", "PATCH") else {}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("route", SCOPED, ids=lambda r: f"{r.method} {r.path}")
def test_a_credential_missing_the_route_scope_is_refused(local_cloud, lacking, route, kind):
    missing = route.scopes[0]
    response = lacking[missing][kind].send(local_cloud, route.method, concrete(route, MISSING), **_body(route))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert f'scope="{missing}"' in response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


PROJECT_ROUTES = [r for r in ROUTES if "{projectId}" in r.path]


@pytest.fixture(scope="module")
def project(local_cloud) -> str:
    """A project of the admin's workspace."""
    admin = {"Authorization": f"Bearer {local_cloud.admin_key}"}
    created = requests.post(
        f"{local_cloud.url}/v1/projects", headers=admin, timeout=30, json={"name": "Mine", "description": "Not yours."}
    )
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"]


@pytest.fixture(scope="module")
def elsewhere(local_cloud) -> dict[str, Credential]:
    """The three credentials of another workspace, holding every scope but admin."""
    admin = {"Authorization": f"Bearer {local_cloud.admin_key}"}
    workspace = requests.post(
        f"{local_cloud.url}/v1/workspaces", headers=admin, timeout=30, json={"name": "Elsewhere", "tier": "enterprise"}
    ).json()["data"]["id"]
    their_admin = mint(local_cloud, ALL_SCOPES, workspace)
    return credentials_of(local_cloud, ["project:read", "project:write", "ai:invoke"], their_admin)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("route", PROJECT_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_another_workspace_sees_exactly_what_a_missing_id_gets(local_cloud, project, elsewhere, route, kind):
    def answer(project_id: str) -> requests.Response:
        path = concrete(route, {**MISSING, "projectId": project_id})
        return elsewhere[kind].send(local_cloud, route.method, path, **_body(route))

    theirs, missing = answer(project), answer(MISSING["projectId"])
    assert theirs.status_code == missing.status_code, (theirs.text, missing.text)
    assert theirs.status_code in (400, 404), theirs.text
    if theirs.status_code == 404:
        assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "NOT_FOUND"
        assert set(theirs.json()["error"]["details"]) == set(missing.json()["error"]["details"])


@pytest.mark.parametrize("kind", KINDS)
def test_every_credential_is_metered_with_the_limit_headers(local_cloud, lacking, kind):
    credential = lacking["admin"][kind]  # project:read, project:write and ai:invoke
    for method, path, policy, body in (
        ("GET", "/v1/projects", "read", None),
        ("POST", "/v1/projects", "write", {"name": "Metered", "description": "Counted against its window."}),
    ):
        answer = credential.send(local_cloud, method, path, json=body)
        assert answer.status_code in (200, 201), answer.text
        assert answer.headers["RateLimit-Policy"].startswith(f'"{policy}";q=')
        assert f'"{policy}";r=' in answer.headers["RateLimit"]
        assert int(answer.headers["X-RateLimit-Remaining"]) < int(answer.headers["X-RateLimit-Limit"])
        assert int(answer.headers["X-RateLimit-Reset"]) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_an_idempotency_key_replays_for_its_principal_only(local_cloud, lacking, elsewhere, kind):
    idempotency = {"Idempotency-Key": secrets.token_urlsafe(16)}
    body = {"name": f"Once {kind}", "description": "Created once, however often it is sent."}
    mine = lacking["admin"][kind]
    first = mine.send(local_cloud, "POST", "/v1/projects", json=body, headers=idempotency)
    again = mine.send(local_cloud, "POST", "/v1/projects", json=body, headers=idempotency)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]

    # The same key from another workspace's principal is a request of its own, never a replay
    # of this one (which would hand it this workspace's project).
    theirs = elsewhere[kind].send(local_cloud, "POST", "/v1/projects", json=body, headers=idempotency)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers, theirs.text
    assert theirs.json()["data"]["id"] != first.json()["data"]["id"]

"""The policy of every route, over HTTP against the local cloud: a key lacking a route's
scope gets 403 with the insufficient_scope challenge, and a key of another workspace gets
exactly the answer a missing id gets, on every route that addresses a resource."""

from __future__ import annotations

import re

import pytest
import requests

from kiln.routes import ROUTES, Route

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

ALL_SCOPES = ["project:read", "project:write", "ai:invoke", "admin"]
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
    "taskId": "task-001",
    "path": "README.md",
}


def concrete(route: Route, values: dict[str, str]) -> str:
    return re.sub(r"{([^}+]+)\+?}", lambda m: values[m.group(1)], route.path)


def mint(cloud, scopes: list[str], workspace_id: str | None = None) -> str:
    body = {"name": "matrix", "scopes": scopes}
    if workspace_id:
        body["workspaceId"] = workspace_id
    response = requests.post(
        f"{cloud.url}/v1/api-keys", json=body, timeout=30, headers={"Authorization": f"Bearer {cloud.admin_key}"}
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["secret"]


@pytest.fixture(scope="module")
def keys(local_cloud) -> dict[str, str]:
    """One key per scope it lacks (all the others held), in the admin's workspace."""
    return {missing: mint(local_cloud, [s for s in ALL_SCOPES if s != missing]) for missing in ALL_SCOPES}


SCOPED = [r for r in ROUTES if r.scopes]


@pytest.mark.parametrize("route", SCOPED, ids=lambda r: f"{r.method} {r.path}")
def test_a_key_missing_the_route_scope_is_refused(local_cloud, keys, route):
    missing = route.scopes[0]
    response = requests.request(
        route.method,
        local_cloud.url + concrete(route, MISSING),
        timeout=30,
        headers={"Authorization": f"Bearer {keys[missing]}"},
        **({"json": {}} if route.method in ("POST", "PATCH") else {}),
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert f'scope="{missing}"' in response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


PROJECT_ROUTES = [r for r in ROUTES if "{projectId}" in r.path]


@pytest.fixture(scope="module")
def other_workspace(local_cloud) -> tuple[str, str]:
    """A project of the admin's workspace, and a full-scope key of another workspace."""
    admin = {"Authorization": f"Bearer {local_cloud.admin_key}"}
    project = requests.post(
        f"{local_cloud.url}/v1/projects", headers=admin, timeout=30, json={"name": "Mine", "description": "Not yours."}
    ).json()["data"]["id"]
    workspace = requests.post(
        f"{local_cloud.url}/v1/workspaces", headers=admin, timeout=30, json={"name": "Elsewhere", "tier": "enterprise"}
    ).json()["data"]["id"]
    return project, mint(local_cloud, ["project:read", "project:write", "ai:invoke"], workspace)


@pytest.mark.parametrize("route", PROJECT_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_another_workspace_sees_exactly_what_a_missing_id_gets(local_cloud, other_workspace, route):
    project, key = other_workspace
    headers = {"Authorization": f"Bearer {key}"}
    body = {"json": {}} if route.method in ("POST", "PATCH") else {}

    def answer(project_id: str) -> requests.Response:
        return requests.request(
            route.method,
            local_cloud.url + concrete(route, {**MISSING, "projectId": project_id}),
            headers=headers,
            timeout=30,
            **body,
        )

    theirs, missing = answer(project), answer(MISSING["projectId"])
    assert theirs.status_code == missing.status_code, (theirs.text, missing.text)
    assert theirs.status_code in (400, 404), theirs.text
    if theirs.status_code == 404:
        assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "NOT_FOUND"
        assert set(theirs.json()["error"]["details"]) == set(missing.json()["error"]["details"])

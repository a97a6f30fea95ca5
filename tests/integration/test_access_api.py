"""Workspaces and API keys over real HTTP against the local cloud, as an operator uses them.

API Gateway does not cache the authorizer's answers (a REQUEST authorizer without identity
sources, kiln.routes); the authorizer function keeps its own answers for keys for 60 s per
warm container (KILN_AUTHORIZER_CACHE_SECONDS; the local cloud runs it in one warm process).
Its cache key is the SHA-256 of the Authorization header's exact value, so a request spelled
differently (`Bearer` followed by another number of spaces, which the authorizer accepts) is
checked afresh: that shows what a key gets once its cached answer has expired, without
waiting 60 s.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime

import pytest
import requests

from kiln.config import AUTHORIZER_CACHE_DEFAULT_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

GRACE_SECONDS = 4
_spaces = itertools.count(2)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def uncached(secret: str) -> dict[str, str]:
    """A header no earlier request used: the authorizer checks it afresh, not from its cache."""
    return {"Authorization": "Bearer" + " " * next(_spaces) + secret}


def call(cloud, method: str, path: str, headers: dict[str, str] | None = None, **kwargs) -> requests.Response:
    return requests.request(method, cloud.url + path, headers=headers or bearer(cloud.admin_key), timeout=30, **kwargs)


def error_code(response: requests.Response) -> str:
    return response.json()["error"]["code"]


def plan_name_of_workspace(cloud, workspace_id: str) -> str:
    apigateway = cloud.aws("apigateway")
    (key,) = [k for k in apigateway.get_api_keys()["items"] if k["name"] == f"kiln-{workspace_id}"]
    (plan,) = apigateway.get_usage_plans(keyId=key["id"])["items"]
    return plan["name"]


def test_workspace_keys_allow_lists_scopes_tiers_and_revocation(local_cloud):
    created = call(local_cloud, "POST", "/v1/workspaces", json={"name": "Integration", "tier": "pro"})
    assert created.status_code == 201, created.text
    workspace = created.json()["data"]
    assert call(local_cloud, "GET", f"/v1/workspaces/{workspace['id']}").json()["data"] == workspace
    assert plan_name_of_workspace(local_cloud, workspace["id"]).endswith("-pro")

    # The admin mints keys for the new workspace: a reader limited to the projects endpoints
    # (`*` is one path segment, so the list itself is named too) and a writer.
    minted = call(
        local_cloud,
        "POST",
        "/v1/api-keys",
        json={
            "name": "reader",
            "scopes": ["project:read"],
            "allowedPaths": ["/v1/projects", "/v1/projects/*"],
            "workspaceId": workspace["id"],
        },
    )
    assert minted.status_code == 201, minted.text
    assert minted.headers["Cache-Control"] == "no-store"
    reader = minted.json()["data"]
    assert reader["workspaceId"] == workspace["id"] and reader["prefix"] == reader["secret"][:12]
    writer = call(
        local_cloud,
        "POST",
        "/v1/api-keys",
        json={"name": "writer", "scopes": ["project:read", "project:write"], "workspaceId": workspace["id"]},
    ).json()["data"]

    project = call(
        local_cloud,
        "POST",
        "/v1/projects",
        bearer(writer["secret"]),
        json={"name": "Tenant app", "description": "Belongs to the integration workspace."},
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["data"]["id"]

    first_use = time.monotonic()
    listed = call(local_cloud, "GET", "/v1/projects", bearer(reader["secret"]))
    assert listed.status_code == 200, listed.text
    assert [p["id"] for p in listed.json()["data"]] == [project_id]  # its own workspace's only
    assert call(local_cloud, "GET", f"/v1/projects/{project_id}", bearer(reader["secret"])).status_code == 200

    # Outside the allow-list the route does not exist for this key.
    for path in (f"/v1/projects/{project_id}/runs", "/v1/api-keys"):
        outside = call(local_cloud, "GET", path, bearer(reader["secret"]))
        assert outside.status_code == 404 and error_code(outside) == "ENDPOINT_NOT_FOUND", path
    # Inside it, a missing scope is a 403 with the RFC 6750 challenge.
    denied = call(local_cloud, "POST", "/v1/projects", bearer(reader["secret"]), json={"name": "x", "description": "y"})
    assert denied.status_code == 403 and error_code(denied) == "FORBIDDEN"
    assert denied.headers["WWW-Authenticate"] == (
        'Bearer realm="kiln", error="insufficient_scope", scope="project:write"'
    )

    # The writer can manage its workspace's keys, never beyond its own scopes.
    escalation = call(
        local_cloud,
        "POST",
        "/v1/api-keys",
        bearer(writer["secret"]),
        json={"name": "x", "scopes": ["project:read", "admin"]},
    )
    assert escalation.status_code == 403 and escalation.json()["error"]["details"]["missingScopes"] == ["admin"]
    keys = call(local_cloud, "GET", "/v1/api-keys", bearer(writer["secret"]))
    assert keys.status_code == 200
    assert {k["id"] for k in keys.json()["data"]} == {reader["id"], writer["id"]}
    assert reader["secret"] not in keys.text and writer["secret"] not in keys.text
    # ...and never another workspace's: the admin key's id is simply not there.
    admin_key_id = call(local_cloud, "GET", "/v1/api-keys").json()["data"][-1]["id"]
    assert call(local_cloud, "DELETE", f"/v1/api-keys/{admin_key_id}", bearer(writer["secret"])).status_code == 404

    # A tier change moves the workspace's usage key to the new plan.
    changed = call(local_cloud, "PATCH", f"/v1/workspaces/{workspace['id']}", json={"tier": "enterprise"})
    assert changed.status_code == 200 and changed.json()["data"]["tier"] == "enterprise"
    assert plan_name_of_workspace(local_cloud, workspace["id"]).endswith("-enterprise")
    assert call(local_cloud, "GET", "/v1/projects", uncached(reader["secret"])).status_code == 200

    revoked = call(local_cloud, "DELETE", f"/v1/api-keys/{reader['id']}", params={"workspaceId": workspace["id"]})
    assert revoked.status_code == 200 and revoked.json()["data"]["status"] == "revoked"
    again = call(local_cloud, "DELETE", f"/v1/api-keys/{reader['id']}", params={"workspaceId": workspace["id"]})
    assert again.status_code == 200 and again.json()["data"] == revoked.json()["data"]
    if time.monotonic() - first_use < AUTHORIZER_CACHE_DEFAULT_SECONDS - 10:
        # The authorizer's cached answer still admits the exact header it was given for...
        assert call(local_cloud, "GET", "/v1/projects", bearer(reader["secret"])).status_code == 200
    # ...but a fresh check refuses the key: that is every request once the cached answer expires.
    refused = call(local_cloud, "GET", "/v1/projects", uncached(reader["secret"]))
    assert refused.status_code == 401 and error_code(refused) == "UNAUTHORIZED"


@pytest.fixture(scope="module")
def short_grace_cloud(local_cloud_factory):
    """A local cloud whose rotated keys keep their previous secret for a few seconds only."""
    cloud = local_cloud_factory(env={"KILN_KEY_ROTATION_GRACE_SECONDS": str(GRACE_SECONDS)})
    yield cloud
    cloud.stop()  # now rather than at the session's end


def test_rotation_keeps_the_old_secret_for_the_grace_period_only(short_grace_cloud):
    cloud = short_grace_cloud
    key = call(cloud, "POST", "/v1/api-keys", json={"name": "rotating", "scopes": ["project:read"]}).json()["data"]
    assert call(cloud, "GET", "/v1/projects", bearer(key["secret"])).status_code == 200

    rotated = call(cloud, "POST", f"/v1/api-keys/{key['id']}/rotate")
    assert rotated.status_code == 201, rotated.text
    assert rotated.headers["Cache-Control"] == "no-store"
    new = rotated.json()["data"]
    assert new["id"] == key["id"] and new["secret"] != key["secret"] and new["status"] == "rotated"
    grace_end = datetime.fromisoformat(new["previousSecretExpiresAt"].replace("Z", "+00:00"))
    assert (
        0
        < (grace_end - datetime.fromisoformat(new["rotatedAt"].replace("Z", "+00:00"))).total_seconds()
        == GRACE_SECONDS
    )

    # Both secrets work during the grace period.
    assert call(cloud, "GET", "/v1/projects", uncached(new["secret"])).status_code == 200
    assert call(cloud, "GET", "/v1/projects", uncached(key["secret"])).status_code == 200

    time.sleep(max(0.0, grace_end.timestamp() - time.time()) + 0.2)
    old = call(cloud, "GET", "/v1/projects", uncached(key["secret"]))
    assert old.status_code == 401 and error_code(old) == "UNAUTHORIZED"
    assert call(cloud, "GET", "/v1/projects", uncached(new["secret"])).status_code == 200
    listed = [k for k in call(cloud, "GET", "/v1/api-keys").json()["data"] if k["id"] == key["id"]]
    assert len(listed) == 1 and listed[0]["status"] == "active" and listed[0]["prefix"] == new["secret"][:12]

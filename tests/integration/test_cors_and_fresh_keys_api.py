"""Fresh keys work on their first request, and CORS, over real HTTP against local clouds."""

from __future__ import annotations

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

APP = "https://app.example.com"
DEV = "http://localhost:5173"
OTHER = "https://evil.example.com"


def call(cloud, method: str, path: str, secret: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {secret or cloud.admin_key}", **kwargs.pop("headers", {})}
    return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


# --- fresh keys --------------------------------------------------------------------------------------


def test_a_key_of_a_workspace_created_a_moment_ago_works_on_its_first_request(local_cloud):
    # Each round creates a workspace (a new usage key in a usage plan), mints a key and uses it
    # at once: the gateway's view of the usage plans must not lag behind (it did, for ~0.2 s).
    for round_ in range(6):
        workspace = call(local_cloud, "POST", "/v1/workspaces", json={"name": f"Fresh {round_}", "tier": "free"})
        assert workspace.status_code == 201, workspace.text
        minted = call(
            local_cloud,
            "POST",
            "/v1/api-keys",
            json={
                "name": "first",
                "scopes": ["project:read", "project:write"],
                "workspaceId": workspace.json()["data"]["id"],
            },
        )
        assert minted.status_code == 201, minted.text
        secret = minted.json()["data"]["secret"]
        created = call(
            local_cloud,
            "POST",
            "/v1/projects",
            secret,
            json={"name": "First call", "description": "Made by a key minted a moment ago."},
        )
        assert created.status_code == 201, (round_, created.status_code, created.text)
        assert call(local_cloud, "GET", "/v1/projects", secret).status_code == 200


# --- CORS ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cors_cloud(local_cloud_factory):
    """A local cloud allowing two origins (so gateway errors echo the request's Origin)."""
    cloud = local_cloud_factory(env={"KILN_CORS_ALLOWED_ORIGINS": f"{APP},{DEV}"})
    yield cloud
    cloud.stop()  # now rather than at the session's end


def preflight(cloud, path: str, origin: str, method: str) -> requests.Response:
    return requests.options(
        cloud.url + path,
        timeout=30,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )


def test_a_preflight_from_an_allowed_origin_succeeds(cors_cloud):
    response = preflight(cors_cloud, "/v1/projects", APP, "POST")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert "POST" in response.headers["Access-Control-Allow-Methods"].split(", ")
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert response.headers["Vary"] == "Origin"


def test_a_preflight_from_another_origin_is_not_usable(cors_cloud):
    response = preflight(cors_cloud, "/v1/projects", OTHER, "POST")
    assert not [h for h in response.headers if h.lower().startswith("access-control-allow")]


def test_actual_answers_tell_allowed_origins_only(cors_cloud):
    listed = call(cors_cloud, "GET", "/v1/projects", headers={"Origin": DEV})
    assert listed.status_code == 200
    assert listed.headers["Access-Control-Allow-Origin"] == DEV
    assert "Origin" in listed.headers["Vary"]
    exposed = {h.strip() for h in listed.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"X-Request-Id", "X-RateLimit-Remaining", "RateLimit", "Retry-After", "Location"} <= exposed

    other = call(cors_cloud, "GET", "/v1/projects", headers={"Origin": OTHER})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers


def test_the_gateway_s_own_errors_are_readable_by_the_page(cors_cloud):
    refused = requests.get(cors_cloud.url + "/v1/projects", headers={"Origin": APP}, timeout=30)
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == APP
    assert "X-Request-Id" in refused.headers["Access-Control-Expose-Headers"]


def test_without_origins_there_is_no_cors(local_cloud):
    response = preflight(local_cloud, "/v1/projects", APP, "POST")
    assert response.status_code == 204  # answered by the gateway, never the 405 function
    assert "Access-Control-Allow-Origin" not in response.headers
    listed = call(local_cloud, "GET", "/v1/projects", headers={"Origin": APP})
    assert "Access-Control-Allow-Origin" not in listed.headers

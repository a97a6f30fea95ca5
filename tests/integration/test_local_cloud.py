"""The local cloud's API Gateway behaviour over real HTTP: errors, auth, usage plans, shutdown."""

from __future__ import annotations

import signal
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from local.usage_plans import DEFAULT_CACHE_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


def error_of(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    request_id = response.headers["X-Request-Id"]
    assert request_id
    body = response.json()
    assert body["success"] is False and body["data"] is None
    assert body["error"]["code"] == code
    return body["error"] | {"requestId": request_id}


def test_health_is_public(local_cloud):
    response = requests.get(f"{local_cloud.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["components"] == {"database": "ok", "storage": "ok", "workflows": "ok"}
    assert response.headers["X-Request-Id"]


def test_unknown_route_is_endpoint_not_found(local_cloud):
    response = requests.get(f"{local_cloud.url}/v1/nothing-here", timeout=10)
    error = error_of(response, 404, "ENDPOINT_NOT_FOUND")
    assert error["details"]["requestId"] == error["requestId"]


def test_wrong_method_is_405_with_allow(local_cloud):
    response = requests.put(f"{local_cloud.url}/v1/projects", timeout=10)
    error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "POST"}


@pytest.mark.parametrize("authorization", [None, "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer kiln_" + "A" * 43])
def test_missing_or_bad_credentials_are_401(local_cloud, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{local_cloud.url}/v1/projects", headers=headers, timeout=10)
    error_of(response, 401, "UNAUTHORIZED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_admin_key_reaches_the_handler_with_the_authorizer_context(local_cloud, api):
    response = api.get(f"{local_cloud.url}/v1/projects", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    assert response.headers["X-Request-Id"]


def test_body_over_10_mb_is_413(local_cloud, api):
    response = api.post(
        f"{local_cloud.url}/v1/projects",
        data=b"x" * (10 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    error_of(response, 413, "PAYLOAD_TOO_LARGE")


# --- usage plans, on a cloud whose admin workspace is on the free tier -----------------------


@pytest.fixture(scope="module")
def free_cloud(local_cloud_factory):
    """A separate local cloud whose bootstrap admin is a free-tier workspace (1 rps, burst 5)."""
    cloud = local_cloud_factory(env={"KILN_LOCAL_ADMIN_TIER": "free"})
    yield cloud
    cloud.stop()  # now rather than at the session's end


def admin_usage_key(cloud) -> tuple[str, str]:
    """(API key id, usage plan id) of the only workspace of the cloud: its admin."""
    apigateway = cloud.aws("apigateway")
    (key,) = apigateway.get_api_keys()["items"]
    (plan,) = apigateway.get_usage_plans(keyId=key["id"])["items"]
    return key["id"], plan["id"]


def test_free_tier_key_is_throttled_by_its_token_bucket(free_cloud):
    apigateway = free_cloud.aws("apigateway")
    _, plan_id = admin_usage_key(free_cloud)
    throttle = apigateway.get_usage_plan(usagePlanId=plan_id)["throttle"]
    assert (throttle["rateLimit"], throttle["burstLimit"]) == (1.0, 5)

    session = free_cloud.session()
    responses = [session.get(f"{free_cloud.url}/v1/projects", timeout=10) for _ in range(12)]
    statuses = [r.status_code for r in responses]
    assert statuses[0] == 200
    throttled = [r for r in responses if r.status_code == 429]
    assert throttled, statuses
    assert statuses.count(200) <= 5 + 2  # the burst, plus what ~1 rps refills meanwhile
    error_of(throttled[0], 429, "TOO_MANY_REQUESTS")
    assert 1 <= int(throttled[0].headers["Retry-After"]) <= 2

    time.sleep(1.1)  # one token refilled
    assert session.get(f"{free_cloud.url}/v1/projects", timeout=10).status_code == 200


def test_daily_quota_of_the_key_s_usage_plan_is_enforced(free_cloud):
    """Moves the admin's key to a plan with a 3-request daily quota, as a tier change would."""
    apigateway = free_cloud.aws("apigateway")
    key_id, free_plan_id = admin_usage_key(free_cloud)
    stages = apigateway.get_usage_plan(usagePlanId=free_plan_id)["apiStages"]
    tiny = apigateway.create_usage_plan(
        name=f"test-tiny-quota-{uuid.uuid4().hex[:6]}",
        apiStages=stages,
        throttle={"rateLimit": 100.0, "burstLimit": 100},
        quota={"limit": 3, "period": "DAY", "offset": 0},
    )
    apigateway.delete_usage_plan_key(usagePlanId=free_plan_id, keyId=key_id)
    apigateway.create_usage_plan_key(usagePlanId=tiny["id"], keyId=key_id, keyType="API_KEY")
    try:
        time.sleep(DEFAULT_CACHE_SECONDS + 0.5)  # the gateway re-reads plans every few seconds
        session = free_cloud.session()
        statuses = [session.get(f"{free_cloud.url}/v1/projects", timeout=10) for _ in range(5)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        error_of(statuses[3], 429, "USAGE_LIMIT_EXCEEDED")
        now = datetime.now(UTC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        retry_after = int(statuses[3].headers["Retry-After"])
        assert abs(retry_after - (midnight - now).total_seconds()) <= 5
    finally:
        apigateway.delete_usage_plan_key(usagePlanId=tiny["id"], keyId=key_id)
        apigateway.create_usage_plan_key(usagePlanId=free_plan_id, keyId=key_id, keyType="API_KEY")
        apigateway.delete_usage_plan(usagePlanId=tiny["id"])


# --- shutdown ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_signal_stops_both_servers_with_exit_code_0(local_cloud_factory, sig):
    cloud = local_cloud_factory()
    assert requests.get(f"{cloud.url}/health", timeout=10).status_code == 200
    assert cloud.stop(sig) == 0, cloud.log()
    assert "Stopped." in cloud.log()
    for url in (f"{cloud.url}/health", cloud.moto_url):
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=2)

"""The authoritative limits over HTTP, on a local cloud whose admin workspace is on the free tier.

The gateway's own token bucket (1 rps, burst 5) answers TOO_MANY_REQUESTS before Kiln's
counters see a request, so `send` waits those out. Counters are seeded in the emulated
DynamoDB where a test needs a state that would otherwise take minutes (or a day) to reach:
the seeded item is exactly what other containers' requests would have written, and the
counter is the authority, not the gateway.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from kiln import ids
from kiln.tiers import TIERS

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

TABLE = "kiln-local"
FREE = TIERS["free"]


@pytest.fixture(scope="module")
def cloud(local_cloud_factory):
    cloud = local_cloud_factory(env={"KILN_LOCAL_ADMIN_TIER": "free"})
    yield cloud
    cloud.stop()  # now rather than at the session's end


@pytest.fixture(scope="module")
def http(cloud):
    return cloud.session()


@pytest.fixture(scope="module")
def identity(cloud) -> tuple[str, str]:
    """(workspace id, key id) of the admin key, as the authorizer resolves it."""
    secret_hash = hashlib.sha256(cloud.admin_key.encode()).hexdigest()
    item = cloud.aws("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"APIKEY#{secret_hash}"}, "sk": {"S": "APIKEY"}}
    )["Item"]
    return item["workspaceId"]["S"], item["id"]["S"]


def send(http: requests.Session, cloud: Any, method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request, waiting out the gateway's token bucket (a different 429 than Kiln's)."""
    for _ in range(20):
        response = http.request(method, cloud.url + path, timeout=30, **kwargs)
        if response.status_code != 429 or response.json()["error"]["code"] != "TOO_MANY_REQUESTS":
            return response
        time.sleep(float(response.headers["Retry-After"]))
    raise AssertionError("the gateway kept throttling")


def seed(cloud: Any, pk: str, sk: str, **numbers: int) -> None:
    cloud.aws("dynamodb").put_item(
        TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"N": str(v)} for k, v in numbers.items()}}
    )


def forget(cloud: Any, pk: str, sk: str) -> None:
    cloud.aws("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}})


def refused(response: requests.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code
    assert response.headers["X-Request-Id"]
    details = body["error"]["details"]
    assert int(response.headers["Retry-After"]) == details["retryAfterSeconds"] >= 1
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Limit"] == str(details["limit"])
    assert f'"{details["policy"]}";r=0;' in response.headers["RateLimit"]
    return details


def between(retry_after: int, reopens_at: float, sent: float, received: float) -> bool:
    """Retry-After as computed at some moment of the request's life, in whole seconds."""
    return max(1, math.ceil(reopens_at - received)) <= retry_after <= max(1, math.ceil(reopens_at - sent))


def missing_project() -> str:
    return ids.new_id("project")


def test_every_authenticated_answer_carries_the_meters(cloud, http):
    listed = send(http, cloud, "GET", "/v1/projects")
    assert listed.status_code == 200
    assert listed.headers["RateLimit-Policy"] == f'"read";q={FREE.read_per_minute};w=60, "day";q=1000;w=86400'
    assert listed.headers["X-RateLimit-Limit"] == str(FREE.read_per_minute)  # the tighter of the two
    assert int(listed.headers["X-RateLimit-Remaining"]) < FREE.read_per_minute
    assert int(listed.headers["X-RateLimit-Reset"]) >= time.time()

    not_found = send(http, cloud, "GET", f"/v1/projects/{missing_project()}")
    assert not_found.status_code == 404 and "RateLimit" in not_found.headers
    invalid = send(http, cloud, "POST", "/v1/projects", json={"name": ""})
    assert invalid.status_code == 400
    assert invalid.headers["RateLimit-Policy"].startswith(f'"write";q={FREE.write_per_minute};w=60')


def test_the_ai_window_refuses_the_request_over_the_limit(cloud, http):
    path = f"/v1/projects/{missing_project()}/clarify"
    answers = [send(http, cloud, "POST", path, json={}) for _ in range(FREE.ai_per_minute)]
    assert {a.status_code for a in answers} == {404}, [a.text for a in answers]  # counted all the same
    assert [a.headers["X-RateLimit-Remaining"] for a in answers][-1] == "0"
    # Five calls within the last few seconds weigh more than four whatever the window split.
    details = refused(send(http, cloud, "POST", path, json={}), "RATE_LIMIT_EXCEEDED")
    assert details["policy"] == "ai" and details["limit"] == FREE.ai_per_minute and details["window"] == 60


def test_retry_after_of_a_window_is_the_moment_it_really_reopens(cloud, http, identity):
    _, key_id = identity
    time.sleep(FREE.burst / FREE.rate_per_second)  # a full gateway bucket: the timed requests pass it
    now = time.time()
    if now % 60 > 54:
        time.sleep(61 - now % 60)  # leave room in this window for the reopening
        now = time.time()
    start = int(now // 60 * 60)
    elapsed = now - start
    # A previous window far over today's limit (the workspace was on a bigger tier a minute
    # ago) that decays below it about three seconds from now.
    previous = math.ceil((FREE.ai_per_minute - 1) * 60 / (60 - elapsed - 3))
    seed(cloud, f"RATE#{key_id}", "ai", win=start, prev=previous, cur=0)
    reopens_at = start + (60_000 - (FREE.ai_per_minute - 1) * 60_000 // previous) / 1000
    path = f"/v1/projects/{missing_project()}/clarify"

    sent = time.time()
    response = http.post(cloud.url + path, json={}, timeout=30)
    received = time.time()
    retry_after = refused(response, "RATE_LIMIT_EXCEEDED")["retryAfterSeconds"]
    assert between(retry_after, reopens_at, sent, received), (retry_after, reopens_at - sent)

    time.sleep(max(0.0, sent + retry_after - 1 - 0.2 - time.time()))
    early = http.post(cloud.url + path, json={}, timeout=30)  # a second before: still closed
    refused(early, "RATE_LIMIT_EXCEEDED")
    time.sleep(max(0.0, received + retry_after + 0.05 - time.time()))
    assert http.post(cloud.url + path, json={}, timeout=30).status_code == 404  # admitted, then not found


def test_the_daily_quota_is_authoritative_and_reopens_at_utc_midnight(cloud, http, identity):
    workspace_id, _ = identity
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    seed(cloud, f"USAGE#{workspace_id}", f"DAY#{today}", n=FREE.requests_per_day)
    try:
        sent = time.time()
        response = send(http, cloud, "GET", "/v1/projects")
        received = time.time()
        details = refused(response, "USAGE_LIMIT_EXCEEDED")
        assert details["policy"] == "day" and details["limit"] == 1000 and details["window"] == 86400
        midnight = (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        assert between(details["retryAfterSeconds"], midnight.timestamp(), sent, received)
        assert response.headers["X-RateLimit-Reset"] == str(int(midnight.timestamp()))
    finally:
        forget(cloud, f"USAGE#{workspace_id}", f"DAY#{today}")
    assert send(http, cloud, "GET", "/v1/projects").status_code == 200


def test_the_annual_build_quota_refuses_before_the_handler(cloud, http, identity):
    workspace_id, _ = identity
    year = datetime.now(UTC).year
    seed(cloud, f"USAGE#{workspace_id}", f"BUILDS#{year}", n=FREE.builds_per_year)
    try:
        sent = time.time()
        response = send(http, cloud, "POST", f"/v1/projects/{missing_project()}/runs")
        received = time.time()
        details = refused(response, "USAGE_LIMIT_EXCEEDED")  # not the handler's 404
        assert details["policy"] == "builds" and details["limit"] == FREE.builds_per_year
        new_year = datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()
        assert between(details["retryAfterSeconds"], new_year, sent, received)
    finally:
        forget(cloud, f"USAGE#{workspace_id}", f"BUILDS#{year}")
    # Without the seed the same call reaches the handler, and a 404 takes no build.
    assert send(http, cloud, "POST", f"/v1/projects/{missing_project()}/runs").status_code == 404
    item = (
        cloud.aws("dynamodb")
        .get_item(
            TableName=TABLE,
            Key={"pk": {"S": f"USAGE#{workspace_id}"}, "sk": {"S": f"BUILDS#{year}"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    assert item is not None and item["n"]["N"] == "0"

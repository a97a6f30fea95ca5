"""The authoritative limits in the request path: sliding windows, quotas, headers, 429s.

The clock is pinned (`Clock`), the counters live in moto. Requests go through the real
pipeline (`dispatch`) with a stand-in handler, so what is checked is what a client sees.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from kiln.adapters.dynamodb.limits import LimitStore
from kiln.envelope import ErrorCode, KilnError
from kiln.http import limits
from kiln.http.api import dispatch
from kiln.http.limits import Limiter
from kiln.http.response import Response, ok
from kiln.tiers import TIERS
from tests.unit.conftest import TABLE, parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp()  # a window start (a multiple of 60)
FREE = principal_context(tier="free")
PRO = principal_context(tier="pro")
ENTERPRISE = principal_context(tier="enterprise")
WORKSPACE = FREE["workspaceId"]
KEY = FREE["keyId"]
PROJECT = "prj_01m885m8rskqxxjknrtpgbxm1r"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingStore(LimitStore):
    """The real store, counting the DynamoDB calls it makes."""

    def __init__(self) -> None:
        self.calls = 0

    def _update(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return super()._update(*args, **kwargs)

    def read_window(self, key_id: str, category: str) -> Any:
        self.calls += 1
        return super().read_window(key_id, category)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def limiter(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Limiter:
    """One container's limiter, used by the pipeline for the test's requests."""
    instance = Limiter(CountingStore(), clock)
    monkeypatch.setattr(limits, "limiter", lambda: instance)
    return instance


class Handler:
    """A stand-in handler that answers `status` and counts its calls."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls = 0

    def __call__(self, request: Any) -> Response:
        self.calls += 1
        if self.status == 404:
            raise KilnError(ErrorCode.NOT_FOUND, "Project not found.")
        if self.status == 409:
            raise KilnError(ErrorCode.CONFLICT)
        return ok({"n": self.calls}, self.status)


def write(authorizer: dict[str, Any] = FREE, handler: Handler | None = None, **kwargs: Any) -> dict[str, Any]:
    event = proxy_event("POST", "/v1/projects", body={"name": "x", "description": "y"}, authorizer=authorizer, **kwargs)
    return dispatch(handler or Handler(201), event)


def read(authorizer: dict[str, Any] = FREE, handler: Handler | None = None) -> dict[str, Any]:
    return dispatch(handler or Handler(), proxy_event("GET", "/v1/projects", authorizer=authorizer))


def build(authorizer: dict[str, Any] = FREE, handler: Handler | None = None) -> dict[str, Any]:
    event = proxy_event(
        "POST",
        "/v1/projects/{projectId}/runs",
        f"/v1/projects/{PROJECT}/runs",
        path_params={"projectId": PROJECT},
        authorizer=authorizer,
    )
    return dispatch(handler or Handler(201), event)


def item(pk: str, sk: str) -> dict[str, Any]:
    raw = (
        boto3.client("dynamodb")
        .get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        .get("Item")
        or {}
    )
    return {k: int(v["N"]) if "N" in v else v.get("S") for k, v in raw.items()}


def seed(pk: str, sk: str, **numbers: int) -> None:
    boto3.client("dynamodb").put_item(
        TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"N": str(v)} for k, v in numbers.items()}}
    )


def rejected(response: dict[str, Any], code: str) -> dict[str, Any]:
    status, body = parse(response)
    assert status == 429, body
    assert body["error"]["code"] == code
    return body["error"]["details"]


# --- the sliding window ------------------------------------------------------------------


def test_a_fresh_window_admits_the_limit_then_refuses_until_it_really_reopens(limiter, clock):
    clock.now = NOON + 10
    limit = TIERS["free"].write_per_minute
    for sent in range(1, limit + 1):
        response = write()
        assert response["statusCode"] == 201
        assert response["headers"]["RateLimit-Policy"] == f'"write";q={limit};w=60, "day";q=1000;w=86400'
        assert response["headers"]["X-RateLimit-Remaining"] == str(limit - sent)

    refused = write()
    details = rejected(refused, "RATE_LIMIT_EXCEEDED")
    # 20 in this window: the next one fits once 20 * (share of this window still counted) <= 19,
    # i.e. 3 s into the next window: 63 s after the window start, 53 s from now.
    assert refused["headers"]["Retry-After"] == "53"
    assert details == {"policy": "write", "limit": limit, "window": 60, "retryAfterSeconds": 53}
    assert refused["headers"]["X-RateLimit-Remaining"] == "0"
    assert refused["headers"]["X-RateLimit-Reset"] == str(int(NOON + 63))
    assert '"write";r=0;t=53' in refused["headers"]["RateLimit"]

    clock.now = NOON + 62.999
    assert write()["statusCode"] == 429  # not a millisecond early
    clock.now = NOON + 63
    assert write()["statusCode"] == 201
    assert item(f"RATE#{KEY}", "write") | {"expiresAtEpoch": 0} == {
        "pk": f"RATE#{KEY}",
        "sk": "write",
        "win": int(NOON + 60),
        "prev": limit,
        "cur": 1,
        "expiresAtEpoch": 0,
    }


def test_the_previous_window_counts_by_the_share_still_inside_the_last_minute(limiter, clock):
    clock.now = NOON + 50
    for _ in range(20):
        assert write()["statusCode"] == 201
    # 15 s into the next window 3/4 of the previous one is still counted: 15, so 5 more fit.
    clock.now = NOON + 75
    remaining = [write()["headers"]["X-RateLimit-Remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    refused = write()
    rejected(refused, "RATE_LIMIT_EXCEEDED")
    # 20 * (60 - e) / 60 + 5 + 1 <= 20 from e = 18 s: 3 s from now.
    assert refused["headers"]["Retry-After"] == "3"
    clock.now = NOON + 77.999
    assert write()["statusCode"] == 429
    clock.now = NOON + 78
    assert write()["statusCode"] == 201


def test_the_edge_of_a_window(limiter, clock):
    clock.now = NOON + 59.999
    for _ in range(20):
        assert write()["statusCode"] == 201
    assert write()["statusCode"] == 429
    clock.now = NOON + 60  # the first millisecond of the next window: all 20 still weigh fully
    refused = write()
    rejected(refused, "RATE_LIMIT_EXCEEDED")
    assert refused["headers"]["Retry-After"] == "3"


def test_a_window_older_than_the_previous_one_is_forgotten(limiter, clock):
    clock.now = NOON + 30
    for _ in range(20):
        write()
    clock.now = NOON + 120  # two windows later: nothing counts any more
    response = write()
    assert response["statusCode"] == 201
    assert response["headers"]["X-RateLimit-Remaining"] == "19"


def test_categories_and_keys_have_their_own_windows(limiter, clock):
    for _ in range(20):
        write()
    assert write()["statusCode"] == 429
    assert read()["statusCode"] == 200  # reads have their own window
    other_key = {**FREE, "keyId": "key_01m885m8rskqxxjknrtpgbxzzz", "principalId": "key_01m885m8rskqxxjknrtpgbxzzz"}
    assert write(other_key)["statusCode"] == 201  # so does another key of the workspace


def test_a_refused_request_does_not_count(limiter, clock):
    for _ in range(20):
        write()
    for _ in range(5):
        assert write()["statusCode"] == 429
    assert item(f"RATE#{KEY}", "write")["cur"] == 20
    assert item(f"USAGE#{WORKSPACE}", "DAY#2025-03-01")["n"] == 20


def test_the_steady_state_costs_one_write_per_check(limiter, clock):
    store = limiter.store
    write(ENTERPRISE)  # enterprise: no daily quota, so one check
    assert store.calls == 1
    write(ENTERPRISE)
    assert store.calls == 2
    write(PRO)  # pro: the window and the daily quota
    assert store.calls == 4


def test_another_container_catches_up_from_the_failed_write(limiter, clock):
    for _ in range(3):
        write(ENTERPRISE)
    other = Limiter(CountingStore(), clock)  # a second container that has never seen the key
    response = dispatch_with(other, ENTERPRISE)
    assert response["statusCode"] == 201
    assert other.store.calls == 2  # the wrong guess returns the item, the second write counts
    assert response["headers"]["X-RateLimit-Remaining"] == str(TIERS["enterprise"].write_per_minute - 4)
    dispatch_with(other, ENTERPRISE)
    assert other.store.calls == 3


def dispatch_with(instance: Limiter, authorizer: dict[str, Any]) -> dict[str, Any]:
    original = limits.limiter
    limits.limiter = lambda: instance  # type: ignore[assignment]
    try:
        return write(authorizer)
    finally:
        limits.limiter = original  # type: ignore[assignment]


def test_a_stale_memory_never_refuses_without_looking(limiter, clock):
    for _ in range(20):
        write()
    assert write()["statusCode"] == 429
    # The counts drop out of the table (TTL) while this container still remembers them.
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": f"RATE#{KEY}"}, "sk": {"S": "write"}})
    assert write()["statusCode"] == 201


def test_concurrent_requests_never_exceed_the_limit(limiter, clock):
    clock.now = NOON + 5
    containers = [Limiter(LimitStore(), clock) for _ in range(4)]
    results: list[bool] = []
    lock = threading.Lock()

    def attempt(instance: Limiter) -> None:
        from kiln.http.request import Headers, Request, principal_of
        from kiln.routes import find_route

        event = proxy_event("POST", "/v1/projects", body={}, authorizer=FREE)
        request = Request(
            event, find_route("POST", "/v1/projects"), "r", Headers.from_event(event), principal_of(event)
        )
        try:
            instance.admit(request)
            admitted = True
        except KilnError as error:
            assert error.code is ErrorCode.RATE_LIMIT_EXCEEDED, error
            admitted = False
        with lock:
            results.append(admitted)

    threads = [threading.Thread(target=attempt, args=(containers[i % 4],)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 20
    assert item(f"RATE#{KEY}", "write")["cur"] == 20
    assert item(f"USAGE#{WORKSPACE}", "DAY#2025-03-01")["n"] == 20


# --- the daily quota ----------------------------------------------------------------------


def test_the_daily_quota_is_per_workspace_and_resets_at_utc_midnight(limiter, clock):
    clock.now = datetime(2025, 3, 1, 23, 59, 30, tzinfo=UTC).timestamp()
    seed(f"USAGE#{WORKSPACE}", "DAY#2025-03-01", n=999)
    response = read()
    assert response["statusCode"] == 200
    # The day (1 left... now 0) is tighter than the read window (59 left).
    assert response["headers"]["X-RateLimit-Limit"] == "1000"
    assert response["headers"]["X-RateLimit-Remaining"] == "0"
    assert response["headers"]["X-RateLimit-Reset"] == str(int(datetime(2025, 3, 2, tzinfo=UTC).timestamp()))

    refused = write()  # another category, same workspace: the day is spent
    details = rejected(refused, "USAGE_LIMIT_EXCEEDED")
    assert refused["headers"]["Retry-After"] == "30"
    assert details == {"policy": "day", "limit": 1000, "window": 86400, "retryAfterSeconds": 30}
    assert '"day";r=0;t=30' in refused["headers"]["RateLimit"]
    # The write window gave back the unit the refused request had taken.
    assert item(f"RATE#{KEY}", "write")["cur"] == 0

    clock.now = datetime(2025, 3, 1, 23, 59, 59, 999_000, tzinfo=UTC).timestamp()
    assert read()["statusCode"] == 429
    clock.now = datetime(2025, 3, 2, tzinfo=UTC).timestamp()
    response = write()
    assert response["statusCode"] == 201
    assert '"day";r=999;t=86400' in response["headers"]["RateLimit"]
    assert item(f"USAGE#{WORKSPACE}", "DAY#2025-03-02")["n"] == 1


def test_enterprise_has_no_daily_quota(limiter, clock):
    response = read(ENTERPRISE)
    assert response["headers"]["RateLimit-Policy"] == '"read";q=6000;w=60'
    assert item(f"USAGE#{WORKSPACE}", "DAY#2025-03-01") == {}


def test_concurrent_requests_never_exceed_the_daily_quota(limiter, clock):
    # Pro reads: 600 a minute per key, so only the workspace's day refuses.
    seed(f"USAGE#{WORKSPACE}", "DAY#2025-03-01", n=TIERS["pro"].requests_per_day - 10)
    outcomes: list[int] = []

    def one() -> None:
        outcomes.append(read(PRO)["statusCode"])

    threads = [threading.Thread(target=one) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [200] * 10 + [429] * 20
    assert item(f"USAGE#{WORKSPACE}", "DAY#2025-03-01")["n"] == TIERS["pro"].requests_per_day


# --- the annual quotas --------------------------------------------------------------------


def test_a_build_counts_only_when_it_starts(limiter, clock):
    assert build()["statusCode"] == 201
    assert item(f"USAGE#{WORKSPACE}", "BUILDS#2025")["n"] == 1
    response = build(handler=Handler(409))  # the project was not approved: nothing started
    assert response["statusCode"] == 409
    assert item(f"USAGE#{WORKSPACE}", "BUILDS#2025")["n"] == 1
    assert '"builds";q=500;w=31536000' in response["headers"]["RateLimit-Policy"]

    class Crash(Handler):
        def __call__(self, request: Any) -> Response:
            raise RuntimeError("bug")

    assert build(handler=Crash())["statusCode"] == 500
    assert item(f"USAGE#{WORKSPACE}", "BUILDS#2025")["n"] == 1


def test_the_annual_quota_refuses_before_the_handler_until_new_year(limiter, clock):
    seed(f"USAGE#{WORKSPACE}", "BUILDS#2025", n=TIERS["free"].builds_per_year)
    handler = Handler(201)
    refused = build(handler=handler)
    details = rejected(refused, "USAGE_LIMIT_EXCEEDED")
    assert handler.calls == 0
    new_year = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert refused["headers"]["Retry-After"] == str(int(new_year - NOON))
    assert details["policy"] == "builds" and details["limit"] == 500 and details["window"] == 365 * 86400
    assert refused["headers"]["X-RateLimit-Limit"] == "500"
    # The refused request gave back its units of the window and the day.
    assert item(f"RATE#{KEY}", "write")["cur"] == 0
    assert item(f"USAGE#{WORKSPACE}", "DAY#2025-03-01")["n"] == 0
    clock.now = new_year
    assert build(handler=handler)["statusCode"] == 201


def test_enterprise_builds_are_unmetered(limiter, clock):
    response = build(ENTERPRISE)
    assert response["statusCode"] == 201
    assert "builds" not in response["headers"]["RateLimit-Policy"]


# --- headers and failures -----------------------------------------------------------------


def test_every_authenticated_answer_carries_the_headers(limiter, clock):
    not_found = dispatch(
        Handler(404),
        proxy_event(
            "GET",
            "/v1/projects/{projectId}",
            f"/v1/projects/{PROJECT}",
            path_params={"projectId": PROJECT},
            authorizer=FREE,
        ),
    )
    assert not_found["statusCode"] == 404
    assert not_found["headers"]["X-RateLimit-Limit"] == "60"
    invalid = dispatch(
        lambda request: ok(request.json()),
        proxy_event(
            "POST", "/v1/projects", raw_body="{oops", authorizer=FREE, headers={"Content-Type": "application/json"}
        ),
    )
    assert invalid["statusCode"] == 400 and invalid["headers"]["X-RateLimit-Remaining"] == "19"
    assert invalid["headers"]["RateLimit"] == '"write";r=19;t=63, "day";r=998;t=43200'
    forbidden = write({**FREE, "scopes": "project:read"})
    assert forbidden["statusCode"] == 403 and forbidden["headers"]["X-RateLimit-Remaining"] == "18"


def test_a_route_outside_the_allow_list_says_nothing_about_limits(limiter, clock):
    hidden = read({**FREE, "allowedPaths": json.dumps(["/v1/projects/*"])})
    assert hidden["statusCode"] == 404
    assert not any(name.lower().startswith(("x-ratelimit", "ratelimit")) for name in hidden["headers"])
    assert limiter.store.calls == 0


def test_public_routes_are_not_metered(limiter, clock):
    response = dispatch(lambda request: ok({}), proxy_event("GET", "/", authorizer={}))
    assert response["statusCode"] == 200 and "X-RateLimit-Limit" not in response["headers"]
    assert limiter.store.calls == 0


def test_the_limiter_fails_closed_when_dynamodb_throttles(limiter, monkeypatch):
    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem"
        )

    monkeypatch.setattr(limiter.store, "_update", throttled)
    handler = Handler(201)
    response = write(handler=handler)
    status, body = parse(response)
    assert status == 503 and body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response["headers"]["Retry-After"] == "1"
    assert handler.calls == 0


def test_reopening_arithmetic_matches_admission_to_the_millisecond():
    """For every count and moment, the computed reopening is the first admitted millisecond."""
    from kiln.http.limits import _ceil_div, _reopen_ms

    w, limit = 60_000, 7

    def admits(previous: int, current: int, at: int) -> bool:
        if at >= w:  # the next window: current becomes previous
            return _ceil_div(current * (2 * w - at), w) <= limit - 1
        return current <= limit - 1 - _ceil_div(previous * (w - at), w)

    for previous in range(0, limit + 1):
        for current in range(0, limit + 1):
            for now in (0, 1, 17_333, 59_999):
                reopen = _reopen_ms(previous, current, 0, w, limit, now)
                assert reopen >= now
                assert admits(previous, current, reopen), (previous, current, now, reopen)
                if reopen > now:
                    assert not admits(previous, current, reopen - 1), (previous, current, now, reopen)


def test_the_routes_that_start_builds_and_exports_carry_their_quota():
    from kiln.routes import ROUTES

    assert {r.name: r.quota for r in ROUTES if r.quota} == {
        "runs_create": "builds",
        "runs_retry": "builds",
        "exports_create": "exports",
        "exports_current_kiln": "exports",
        "exports_create_legacy": "exports",
    }

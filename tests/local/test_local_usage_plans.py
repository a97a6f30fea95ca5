"""Usage plans of the local gateway: token bucket, quota periods, plan lookup in moto."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from local.usage_plans import (
    INVALID_API_KEY,
    QUOTA_EXCEEDED,
    THROTTLED,
    KeyPlan,
    PlanLimits,
    Quota,
    TokenBucket,
    UsagePlanDirectory,
    UsagePlanEnforcer,
    period_end,
)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_bucket_serves_burst_then_refills_at_rate():
    bucket = TokenBucket(rate=1.0, burst=5, now=0.0)
    assert [bucket.take(0.0) for _ in range(5)] == [0.0] * 5
    assert bucket.take(0.0) == pytest.approx(1.0)  # empty: one token needs a second
    assert bucket.take(0.5) == pytest.approx(0.5)  # half a token refilled
    assert bucket.take(1.0) == 0.0
    assert bucket.take(1.0) == pytest.approx(1.0)


def test_bucket_never_holds_more_than_burst():
    bucket = TokenBucket(rate=10.0, burst=3, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    assert [bucket.take(3600.0) for _ in range(3)] == [0.0] * 3
    assert bucket.take(3600.0) > 0


def test_fractional_rate_waits_longer():
    bucket = TokenBucket(rate=0.5, burst=1, now=0.0)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("now", "period", "end"),
    [
        ("2026-03-14T15:09:26", "DAY", "2026-03-15T00:00:00"),
        ("2026-03-14T00:00:00", "DAY", "2026-03-15T00:00:00"),
        ("2026-12-31T23:59:59", "DAY", "2027-01-01T00:00:00"),
        ("2026-03-14T15:09:26", "WEEK", "2026-03-16T00:00:00"),  # a Saturday: next Monday
        ("2026-02-10T08:00:00", "MONTH", "2026-03-01T00:00:00"),
        ("2026-12-10T08:00:00", "MONTH", "2027-01-01T00:00:00"),
    ],
)
def test_quota_periods_end_on_utc_boundaries(now, period, end):
    assert period_end(epoch(now), period) == epoch(end)


def test_quota_counts_until_midnight_then_resets():
    now = epoch("2026-03-14T23:59:00")
    quota = Quota(limit=2, period="DAY", now=now)
    assert quota.consume(now) == 0.0
    assert quota.consume(now + 1) == 0.0
    assert quota.consume(now + 2) == pytest.approx(58.0)  # seconds to midnight UTC
    assert quota.consume(epoch("2026-03-15T00:00:00")) == 0.0
    assert quota.used == 1


class StaticDirectory:
    def __init__(self, keys: dict[str, KeyPlan]) -> None:
        self.keys = keys

    def lookup(self, value: str) -> KeyPlan | None:
        return self.keys.get(value)


FREE = PlanLimits("plan-free", rate_per_second=1.0, burst=5, quota_limit=1000, quota_period="DAY")


def enforcer(keys: dict[str, KeyPlan], clock: FakeClock) -> UsagePlanEnforcer:
    return UsagePlanEnforcer(StaticDirectory(keys), clock=clock)  # type: ignore[arg-type]


def test_enforcer_throttles_per_key_with_retry_after():
    clock = FakeClock(epoch("2026-03-14T12:00:00"))
    gate = enforcer({"v1": KeyPlan("k1", True, FREE), "v2": KeyPlan("k2", True, FREE)}, clock)
    assert all(gate.admit("v1").admitted for _ in range(5))
    refused = gate.admit("v1")
    assert refused.refusal == THROTTLED and refused.retry_after == 1
    assert gate.admit("v2").admitted  # another key has its own bucket
    clock.advance(1.0)
    assert gate.admit("v1").admitted


def test_enforcer_applies_the_daily_quota():
    clock = FakeClock(epoch("2026-03-14T18:00:00"))
    tiny = PlanLimits("plan-tiny", rate_per_second=100.0, burst=100, quota_limit=3, quota_period="DAY")
    gate = enforcer({"v": KeyPlan("k", True, tiny)}, clock)
    assert [gate.admit("v").admitted for _ in range(3)] == [True] * 3
    refused = gate.admit("v")
    assert refused.refusal == QUOTA_EXCEEDED
    assert refused.retry_after == 6 * 3600
    clock.now = epoch("2026-03-15T00:00:01")
    assert gate.admit("v").admitted


def test_plan_without_throttle_or_quota_is_unlimited():
    clock = FakeClock(0.0)
    gate = enforcer({"v": KeyPlan("k", True, PlanLimits("p", None, None, None))}, clock)
    assert all(gate.admit("v").admitted for _ in range(500))


@pytest.mark.parametrize(
    "keys",
    [{}, {"v": KeyPlan("k", False, FREE)}, {"v": KeyPlan("k", True, None)}],
    ids=["unknown", "disabled", "in-no-plan"],
)
def test_an_unusable_api_key_is_api_gateway_s_invalid_api_key(keys):
    assert enforcer(keys, FakeClock(0.0)).admit("v").refusal == INVALID_API_KEY


def test_absent_usage_key_is_invalid():
    assert enforcer({}, FakeClock(0.0)).admit(None).refusal == INVALID_API_KEY


def test_counters_are_per_plan_so_moving_a_key_starts_fresh():
    clock = FakeClock(epoch("2026-03-14T12:00:00"))
    keys = {"v": KeyPlan("k", True, FREE)}
    gate = enforcer(keys, clock)
    for _ in range(5):
        gate.admit("v")
    assert not gate.admit("v").admitted
    keys["v"] = KeyPlan("k", True, PlanLimits("plan-pro", 10.0, 20, 50_000, "DAY"))
    assert gate.admit("v").admitted


def test_plan_limits_from_api_gateway_json():
    limits = PlanLimits.from_plan(
        {
            "id": "p",
            "throttle": {"rateLimit": 1.0, "burstLimit": 5},
            "quota": {"limit": 1000, "period": "DAY", "offset": 0},
        }
    )
    assert limits == PlanLimits("p", 1.0, 5, 1000, "DAY")
    assert PlanLimits.from_plan({"id": "q"}) == PlanLimits("q", None, None, None, None)


@pytest.fixture
def apigateway(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.client(
            "apigateway", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )


def test_directory_reads_plans_and_keys_from_api_gateway(apigateway):
    stages = [{"apiId": "api1", "stage": "prod"}]
    plan = apigateway.create_usage_plan(
        name="free",
        apiStages=stages,
        throttle={"rateLimit": 1.0, "burstLimit": 5},
        quota={"limit": 1000, "period": "DAY"},
    )
    other_stage = apigateway.create_usage_plan(name="elsewhere", apiStages=[{"apiId": "api2", "stage": "prod"}])
    member = apigateway.create_api_key(name="member", enabled=True, value="m" * 30)
    stranger = apigateway.create_api_key(name="stranger", enabled=True, value="s" * 30)
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=member["id"], keyType="API_KEY")
    apigateway.create_usage_plan_key(usagePlanId=other_stage["id"], keyId=stranger["id"], keyType="API_KEY")

    clock = FakeClock(0.0)
    directory = UsagePlanDirectory(apigateway, "api1", "prod", cache_seconds=2.0, clock=clock)
    found = directory.lookup("m" * 30)
    assert found == KeyPlan(member["id"], True, PlanLimits(plan["id"], 1.0, 5, 1000, "DAY"))
    assert directory.lookup("s" * 30) == KeyPlan(stranger["id"], True, None)  # plan of another stage
    assert directory.lookup("nope" * 10) is None


def test_directory_sees_a_moved_key_after_its_cache_expires(apigateway):
    stages = [{"apiId": "api1", "stage": "prod"}]
    free = apigateway.create_usage_plan(name="free", apiStages=stages, throttle={"rateLimit": 1.0, "burstLimit": 5})
    pro = apigateway.create_usage_plan(name="pro", apiStages=stages, throttle={"rateLimit": 10.0, "burstLimit": 20})
    key = apigateway.create_api_key(name="k", enabled=True, value="k" * 30)
    apigateway.create_usage_plan_key(usagePlanId=free["id"], keyId=key["id"], keyType="API_KEY")
    clock = FakeClock(0.0)
    directory = UsagePlanDirectory(apigateway, "api1", "prod", cache_seconds=2.0, clock=clock)
    assert directory.lookup("k" * 30).limits.plan_id == free["id"]

    apigateway.delete_usage_plan_key(usagePlanId=free["id"], keyId=key["id"])
    apigateway.create_usage_plan_key(usagePlanId=pro["id"], keyId=key["id"], keyType="API_KEY")
    clock.advance(1.0)
    assert directory.lookup("k" * 30).limits.plan_id == free["id"]  # still cached
    clock.advance(1.0)
    assert directory.lookup("k" * 30).limits.plan_id == pro["id"]


def test_directory_finds_a_key_created_after_its_last_snapshot_at_once(apigateway):
    # The race behind fresh keys answering 401: a snapshot taken a moment before the workspace
    # was created used to be trusted for a key it could not know. The clock does not move here.
    stages = [{"apiId": "api1", "stage": "prod"}]
    plan = apigateway.create_usage_plan(name="free", apiStages=stages)
    clock = FakeClock(0.0)
    directory = UsagePlanDirectory(apigateway, "api1", "prod", cache_seconds=60.0, clock=clock)
    assert directory.lookup("n" * 30) is None
    key = apigateway.create_api_key(name="new", enabled=True, value="n" * 30)
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    assert directory.lookup("n" * 30).key_id == key["id"]


def test_directory_sees_a_key_join_a_plan_at_once(apigateway):
    # Between CreateApiKey and CreateUsagePlanKey (or the two halves of a tier change) a
    # snapshot shows the key in no plan; the next request must not be refused on that snapshot.
    stages = [{"apiId": "api1", "stage": "prod"}]
    plan = apigateway.create_usage_plan(name="free", apiStages=stages)
    key = apigateway.create_api_key(name="k", enabled=True, value="k" * 30)
    clock = FakeClock(0.0)
    directory = UsagePlanDirectory(apigateway, "api1", "prod", cache_seconds=60.0, clock=clock)
    assert directory.lookup("k" * 30) == KeyPlan(key["id"], True, None)
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    assert directory.lookup("k" * 30).limits.plan_id == plan["id"]


class CountingClient:
    """Counts the snapshots a directory takes (one GetApiKeys each)."""

    def __init__(self, client) -> None:
        self.client = client
        self.snapshots = 0

    def get_paginator(self, name: str):
        if name == "get_api_keys":
            self.snapshots += 1
        return self.client.get_paginator(name)


def test_a_known_key_costs_no_snapshot_and_an_unknown_one_a_fresh_one_per_request(apigateway):
    stages = [{"apiId": "api1", "stage": "prod"}]
    plan = apigateway.create_usage_plan(name="free", apiStages=stages)
    key = apigateway.create_api_key(name="k", enabled=True, value="k" * 30)
    apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    counting = CountingClient(apigateway)
    directory = UsagePlanDirectory(counting, "api1", "prod", cache_seconds=60.0, clock=FakeClock(0.0))
    for _ in range(3):
        assert directory.lookup("k" * 30) is not None
    assert counting.snapshots == 1
    for _ in range(2):
        assert directory.lookup("x" * 30) is None
    assert counting.snapshots == 3

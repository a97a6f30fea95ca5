"""API Gateway usage plans: which plan an API key belongs to, its token bucket and its quota.

The plans, keys and key-to-plan links live in moto's API Gateway, written by the same calls
the deployed system makes (bootstrap attaches keys with CreateUsagePlanKey, a tier change moves
a key between plans). The emulator only reads them, so the limits a request meets locally are
whatever the control plane says, not a copy of `kiln.tiers`.
"""

from __future__ import annotations

import calendar
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Clock = Callable[[], float]

# How long a snapshot of moto's plans and keys is trusted; short so that moving a key to
# another plan (a tier change) takes effect within seconds, as it does in AWS.
DEFAULT_CACHE_SECONDS = 2.0

# API Gateway's own refusals, by gateway response type (rendered as infra/gateway_responses.py
# deploys them).
INVALID_API_KEY = "INVALID_API_KEY"
THROTTLED = "THROTTLED"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"


@dataclass(frozen=True)
class PlanLimits:
    plan_id: str
    rate_per_second: float | None  # token refill; None: the plan does not throttle
    burst: int | None  # bucket size
    quota_limit: int | None  # requests per period; None: unlimited
    quota_period: str | None = None  # DAY, WEEK or MONTH

    @classmethod
    def from_plan(cls, plan: dict[str, Any]) -> PlanLimits:
        throttle = plan.get("throttle") or {}
        quota = plan.get("quota") or {}
        rate = throttle.get("rateLimit")
        burst = throttle.get("burstLimit")
        return cls(
            plan_id=plan["id"],
            rate_per_second=float(rate) if rate is not None else None,
            burst=int(burst) if burst is not None else None,
            quota_limit=int(quota["limit"]) if quota.get("limit") is not None else None,
            quota_period=(quota.get("period") or "DAY").upper() if quota.get("limit") is not None else None,
        )


@dataclass(frozen=True)
class KeyPlan:
    key_id: str
    enabled: bool
    limits: PlanLimits | None  # None: the key exists but no plan of this stage lists it


class TokenBucket:
    """API Gateway's throttle: `burst` tokens, refilled at `rate` per second, one per request."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise seconds until one will be available."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self.tokens) / self.rate


def period_end(now: float, period: str) -> float:
    """Epoch seconds at which the quota period containing `now` ends (UTC boundaries)."""
    moment = datetime.fromtimestamp(now, UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "WEEK":
        end = midnight + timedelta(days=7 - moment.weekday())  # next Monday
    elif period == "MONTH":
        days = calendar.monthrange(moment.year, moment.month)[1]
        end = midnight.replace(day=1) + timedelta(days=days)
    else:
        end = midnight + timedelta(days=1)
    return end.timestamp()


class Quota:
    """Requests per period; the count resets when the period ends (UTC midnight for DAY)."""

    def __init__(self, limit: int, period: str, now: float) -> None:
        self.limit = limit
        self.period = period
        self.used = 0
        self.resets_at = period_end(now, period)

    def consume(self, now: float) -> float:
        """0 when the request fits; otherwise seconds until the quota resets."""
        if now >= self.resets_at:
            self.used = 0
            self.resets_at = period_end(now, self.period)
        if self.used >= self.limit:
            return self.resets_at - now
        self.used += 1
        return 0.0


class UsagePlanDirectory:
    """Resolves an API key value to its key and usage plan by reading moto's API Gateway.

    A key the snapshot does not know, or knows as disabled or in no plan, is looked up again in
    a snapshot started after the request arrived before it is refused: a workspace created (or
    a key moved) a moment ago is then found at once. API Gateway itself takes a few seconds to
    propagate a new key; the deployed answer in that window is INVALID_API_KEY's retryable 503,
    which the emulator gives only for keys that are really not usable.
    """

    def __init__(
        self,
        client: Any,
        api_id: str,
        stage: str,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = client
        self.api_id = api_id
        self.stage = stage
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, KeyPlan] = {}
        self._loaded_at: float | None = None
        # Snapshots started so far, and the number of the one in _keys: a snapshot numbered
        # above what a request saw on arrival began after it, so it shows every key created
        # before the request. Concurrent requests missing the same key share one such snapshot.
        self._started = 0
        self._current = 0

    def lookup(self, key_value: str) -> KeyPlan | None:
        arrived_after = self._started  # read before waiting for the lock
        with self._lock:
            now = self.clock()
            stale = self._loaded_at is None or now - self._loaded_at >= self.cache_seconds
            found = self._keys.get(key_value)
            unusable = found is None or not found.enabled or found.limits is None
            if stale or (unusable and self._current <= arrived_after):
                self._started += 1
                number = self._started
                self._keys = self._snapshot()
                self._loaded_at, self._current = now, number
            return self._keys.get(key_value)

    def _snapshot(self) -> dict[str, KeyPlan]:
        keys = [
            k
            for page in self.client.get_paginator("get_api_keys").paginate(includeValues=True)
            for k in page.get("items", [])
        ]
        plans = [p for page in self.client.get_paginator("get_usage_plans").paginate() for p in page.get("items", [])]
        plan_of_key: dict[str, PlanLimits] = {}
        for plan in plans:
            # A plan only governs the stages it is associated with, as in API Gateway.
            if not any(
                s.get("apiId") == self.api_id and s.get("stage") == self.stage for s in plan.get("apiStages") or []
            ):
                continue
            limits = PlanLimits.from_plan(plan)
            for page in self.client.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan["id"]):
                for plan_key in page.get("items", []):
                    plan_of_key.setdefault(plan_key["id"], limits)
        return {
            k["value"]: KeyPlan(k["id"], bool(k.get("enabled", True)), plan_of_key.get(k["id"]))
            for k in keys
            if k.get("value")
        }


@dataclass(frozen=True)
class Admission:
    refusal: str | None = None  # API Gateway's gateway response type; None: admitted
    retry_after: int | None = None  # seconds, for 429s
    api_key_id: str | None = None

    @property
    def admitted(self) -> bool:
        return self.refusal is None


class UsagePlanEnforcer:
    """Per API key and plan: token bucket first, then the period quota, like API Gateway."""

    def __init__(self, directory: UsagePlanDirectory, clock: Clock = time.time) -> None:
        self.directory = directory
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._quotas: dict[tuple[str, str], Quota] = {}

    def admit(self, key_value: str | None) -> Admission:
        key = self.directory.lookup(key_value) if key_value else None
        if key is None or not key.enabled or key.limits is None:
            # No such key, disabled, or in no plan of this stage (even in a fresh snapshot).
            return Admission(INVALID_API_KEY)
        return self.charge(key.key_id, key.limits)

    def charge(self, key_id: str, limits: PlanLimits) -> Admission:
        state = (limits.plan_id, key_id)  # usage is counted per key within a plan
        now = self.clock()
        with self._lock:
            if limits.rate_per_second is not None and limits.burst is not None:
                bucket = self._buckets.get(state)
                if bucket is None or (bucket.rate, bucket.burst) != (limits.rate_per_second, limits.burst):
                    # A plan whose throttle was just changed starts from its new burst, capped
                    # by what the old bucket still held.
                    fresh = TokenBucket(limits.rate_per_second, limits.burst, now)
                    if bucket is not None:
                        fresh.tokens = min(fresh.tokens, bucket.tokens)
                    self._buckets[state] = bucket = fresh
                wait = bucket.take(now)
                if wait > 0:
                    return Admission(THROTTLED, _seconds(wait), key_id)
            if limits.quota_limit is not None:
                quota = self._quotas.get(state)
                if quota is None or quota.period != limits.quota_period:
                    quota = self._quotas[state] = Quota(limits.quota_limit, limits.quota_period or "DAY", now)
                quota.limit = limits.quota_limit
                wait = quota.consume(now)
                if wait > 0:
                    return Admission(QUOTA_EXCEEDED, _seconds(wait), key_id)
        return Admission(api_key_id=key_id)


def _seconds(wait: float) -> int:
    """Retry-After is whole seconds, never 0 (a client retrying at once would fail again)."""
    if math.isinf(wait):
        return 3600
    return max(1, math.ceil(wait))

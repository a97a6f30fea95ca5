"""What a container's first check of a key costs, by what the table already holds for it.

A fresh limiter remembers no window, so its first write guesses one (a new window). The guess
is right when the key's item is absent or older than the previous window; otherwise the write
fails its condition and returns the item as it was (ReturnValuesOnConditionCheckFailure), and
the second write is decided on that: two UpdateItems, never a GetItem. Counted here as
DynamoDB sees them, on the real pipeline, with the admission's headers a client would read.
"""

from __future__ import annotations

from typing import Any

import pytest

from kiln.adapters import aws
from kiln.adapters.dynamodb.limits import LimitStore
from kiln.http import limits
from kiln.http.api import dispatch
from kiln.http.limits import Limiter
from kiln.http.response import ok
from kiln.tiers import TIERS
from tests.unit.conftest import principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

NOON = 1_740_830_400.0  # 2025-03-01T12:00:00Z, a window start
ENTERPRISE = principal_context(tier="enterprise")  # no daily quota: the window check alone
LIMIT = TIERS["enterprise"].write_per_minute


@pytest.fixture
def calls() -> list[str]:
    """The DynamoDB operations made from here on, in order."""
    seen: list[str] = []
    aws.client("dynamodb").meta.events.register(
        "before-call.dynamodb", lambda model, **_: seen.append(model.name), unique_id="test-limits-fresh"
    )
    return seen


def post(at: float) -> dict[str, Any]:
    """POST /v1/projects at `at`, through a container that has never seen the key."""
    fresh = Limiter(LimitStore(), lambda: at)
    original = limits.limiter
    limits.limiter = lambda: fresh  # type: ignore[assignment]
    try:
        event = proxy_event("POST", "/v1/projects", body={"name": "x"}, authorizer=ENTERPRISE)
        return dispatch(lambda request: ok({}, 201), event)
    finally:
        limits.limiter = original  # type: ignore[assignment]


def test_a_fresh_container_against_this_minutes_window_writes_twice_and_never_reads(calls):
    for _ in range(3):
        assert post(NOON + 5)["statusCode"] == 201
    calls.clear()
    response = post(NOON + 10)
    assert response["statusCode"] == 201
    assert calls == ["UpdateItem", "UpdateItem"]
    assert response["headers"]["X-RateLimit-Remaining"] == str(LIMIT - 4)


def test_a_fresh_container_against_the_previous_window_writes_twice(calls):
    for _ in range(3):
        post(NOON + 50)
    calls.clear()
    response = post(NOON + 90)  # half of the previous window's 3 still counts: 2
    assert calls == ["UpdateItem", "UpdateItem"]
    assert response["headers"]["X-RateLimit-Remaining"] == str(LIMIT - 2 - 1)


@pytest.mark.parametrize("earlier", [None, 120.0], ids=["no-item", "two-windows-old"])
def test_a_fresh_container_guesses_right_when_nothing_recent_counts(calls, earlier):
    if earlier is not None:
        post(NOON + 10)
    calls.clear()
    response = post(NOON + 10 + (earlier or 0))
    assert calls == ["UpdateItem"]
    assert response["headers"]["X-RateLimit-Remaining"] == str(LIMIT - 1)

"""The delivery engine over in-memory ports: schedule, Retry-After, 410, the 5-day disable,
fan-out idempotency and redelivery."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from kiln.domain.deliveries import (
    JITTER,
    MAX_RETRY_AFTER_SECONDS,
    SCHEDULE,
    DeliveryService,
    NotYetVisible,
    retry_delay,
)
from kiln.domain.table_changes import TableChange
from kiln.domain.webhook_signing import new_secret
from kiln.domain.webhooks import AttemptOutcome, Subscription
from kiln.envelope import KilnError
from tests.fakes import FakeDeliveryLog, FakeDeliveryQueue, FakeSubscriptions

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


# --- the schedule -------------------------------------------------------------------------------


def test_the_schedule_is_the_contracts():
    assert SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    assert 70 * 3600 < sum(SCHEDULE) < 80 * 3600  # "about three days"


@given(failures=st.integers(1, len(SCHEDULE)), draw=st.floats(0, 1, exclude_max=True))
def test_each_wait_stays_within_the_jitter_of_its_step(failures: int, draw: float):
    wait = retry_delay(failures, None, lambda: draw)
    base = SCHEDULE[failures - 1]
    assert wait is not None and base * (1 - JITTER) <= wait <= base * (1 + JITTER)


def test_jitter_spreads_waits_around_the_step():
    assert retry_delay(2, None, lambda: 0.0) == pytest.approx(270)
    assert retry_delay(2, None, lambda: 0.5) == pytest.approx(300)
    assert retry_delay(2, None, lambda: 0.999999) == pytest.approx(330, rel=1e-4)


def test_no_wait_is_left_after_the_last_retry():
    assert retry_delay(len(SCHEDULE) + 1) is None
    assert retry_delay(0) is None


def test_a_longer_retry_after_is_honoured_a_shorter_one_is_not():
    assert retry_delay(1, 120, lambda: 0.5) == 120  # 5 s scheduled, the receiver asked for 2 min
    assert retry_delay(2, 10, lambda: 0.5) == pytest.approx(300)  # never earlier than the schedule
    assert retry_delay(1, 10 * 86400, lambda: 0.5) == MAX_RETRY_AFTER_SECONDS  # capped at a day


# --- the engine over fakes ----------------------------------------------------------------------


class Receiver:
    """Answers each attempt from a script (the last answer repeats) and keeps what it got."""

    def __init__(self, *answers: AttemptOutcome) -> None:
        self.answers = list(answers)
        self.got: list[tuple[str, bytes, dict[str, str]]] = []

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> AttemptOutcome:
        self.got.append((url, body, headers))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def status(code: int, retry_after: float | None = None) -> AttemptOutcome:
    ok = 200 <= code < 300
    return AttemptOutcome(code, 12, None if ok else f"answered {code}", retry_after, "body")


def subscription(**changes: Any) -> Subscription:
    base = Subscription(
        id="wh_1",
        workspace_id="ws_1",
        url="https://example.com/hook",
        events=("custom.*", "webhook.*"),
        description=None,
        status="enabled",
        secret=new_secret(),
        created_at="2025-01-01T00:00:00.000Z",
        updated_at="2025-01-01T00:00:00.000Z",
    )
    return replace(base, **changes)


def custom_event(event_id: str = "evt_01", name: str = "custom.deployed") -> TableChange:
    return TableChange(
        kind="insert",
        pk="WS#ws_1",
        sk=f"CUSTOMEVENT#{event_id}",
        sequence="100",
        at="2025-03-01T12:00:00.000Z",
        new={"type": name, "data": '{"version": 7}', "createdAt": "2025-03-01T12:00:00.000Z"},
    )


def engine(
    *answers: AttemptOutcome, sub: Subscription | None = None
) -> tuple[DeliveryService, FakeDeliveryLog, FakeDeliveryQueue, FakeSubscriptions, Receiver, Clock]:
    log, queue, hooks = FakeDeliveryLog(), FakeDeliveryQueue(), FakeSubscriptions(sub or subscription())
    receiver, clock = Receiver(*answers), Clock()
    service = DeliveryService(log, queue, hooks, receiver, clock, draw=lambda: 0.5)
    return service, log, queue, hooks, receiver, clock


def run_due(service: DeliveryService, queue: FakeDeliveryQueue, clock: Clock) -> list[str]:
    """Hand every queued message to the worker at its due time, as the queue would."""
    outcomes = []
    while queue.sent:
        message = queue.pop()
        clock.now = max(clock.now, datetime.fromisoformat(message["dueAt"].replace("Z", "+00:00")))
        outcomes.append(service.attempt(message))
    return outcomes


def test_fan_out_queues_one_signed_delivery_per_matching_webhook_and_once_per_change():
    service, log, queue, hooks, receiver, clock = engine(status(204))
    hooks.subs["wh_2"] = subscription(id="wh_2", events=("run.*",))  # does not take custom.*
    assert service.fan_out([custom_event()]) == 1
    assert len(queue.sent) == 1 and queue.sent[0][1] == 0
    # Handed again before the attempt: its first message may have been lost, so it is sent
    # again; the worker makes the attempt once.
    assert service.fan_out([custom_event()]) == 1
    assert run_due(service, queue, clock) == ["succeeded", "done"]
    assert service.fan_out([custom_event()]) == 0  # and after it, nothing at all
    [(url, body, headers)] = receiver.got
    assert url == "https://example.com/hook"
    # The reference implementation's signature of the exact bytes sent, at the attempt's moment.
    expected = Webhook(hooks.subs["wh_1"].secret).sign("evt_01", START, body.decode())
    assert headers["webhook-signature"] == expected and headers["webhook-timestamp"] == str(int(START.timestamp()))
    payload = json.loads(body)
    assert payload == {"type": "custom.deployed", "timestamp": "2025-03-01T12:00:00.000Z", "data": {"version": 7}}
    assert headers["webhook-id"] == "evt_01"
    [delivery] = log.items.values()
    assert delivery.status == "succeeded" and delivery.attempts[0].statusCode == 204
    assert log.expiry[delivery.id] == int((START + timedelta(days=30)).timestamp())


def test_failures_follow_the_schedule_until_success():
    service, log, queue, hooks, receiver, clock = engine(status(500), status(502), status(200))
    service.fan_out([custom_event()])
    assert run_due(service, queue, clock) == ["retry", "retry", "succeeded"]
    [delivery] = log.items.values()
    assert [a.statusCode for a in delivery.attempts] == [500, 502, 200]
    assert [a.at for a in delivery.attempts] == [
        "2025-03-01T12:00:00.000Z",
        "2025-03-01T12:00:05.000Z",  # +5 s
        "2025-03-01T12:05:05.000Z",  # +5 min
    ]
    assert delivery.status == "succeeded" and delivery.nextAttemptAt is None
    assert hooks.subs["wh_1"].failing_since is None  # the success ended the streak


def test_retry_after_longer_than_the_step_delays_the_next_attempt():
    service, log, queue, hooks, receiver, clock = engine(status(429, retry_after=60), status(200))
    service.fan_out([custom_event()])
    service.attempt(queue.pop())
    [(message, delay)] = queue.sent
    assert delay == 60 and message["dueAt"] == "2025-03-01T12:01:00.000Z"


def test_a_wait_past_the_queues_limit_hops():
    service, log, queue, hooks, receiver, clock = engine(status(500))
    delivery = service.enqueue(subscription(), service_event())
    assert delivery is not None
    message = {**queue.pop(), "dueAt": "2025-03-01T14:00:00.000Z"}  # two hours away
    assert service.attempt(message) == "hop"
    [(again, delay)] = queue.sent
    assert again == message and delay == 900
    assert receiver.got == []


def service_event() -> Any:
    from kiln.domain.workspace_events import WorkspaceEvent

    return WorkspaceEvent("evt_x", "ws_1", "custom.x", "2025-03-01T12:00:00.000Z", {})


def test_every_retry_spent_fails_the_delivery():
    service, log, queue, hooks, receiver, clock = engine(status(500), sub=subscription())
    service._disable_after = timedelta(days=30)  # keep the 5-day rule out of this test
    service.fan_out([custom_event()])
    outcomes = run_due(service, queue, clock)
    assert outcomes == ["retry"] * len(SCHEDULE) + ["failed"]
    [delivery] = log.items.values()
    assert delivery.status == "failed" and len(delivery.attempts) == len(SCHEDULE) + 1
    assert hooks.subs["wh_1"].status == "enabled"


def test_410_fails_the_delivery_and_disables_the_webhook():
    service, log, queue, hooks, receiver, clock = engine(status(410))
    service.fan_out([custom_event()])
    assert run_due(service, queue, clock) == ["gone"]
    assert hooks.disabled == [("wh_1", "gone")]
    [delivery] = log.items.values()
    assert delivery.status == "failed" and delivery.nextAttemptAt is None


def test_five_days_of_failures_disable_the_webhook():
    failing_since = "2025-02-24T11:00:00.000Z"  # five days and an hour before START
    service, log, queue, hooks, receiver, clock = engine(status(503), sub=subscription(failing_since=failing_since))
    service.fan_out([custom_event()])
    assert run_due(service, queue, clock) == ["disabled"]
    assert hooks.disabled == [("wh_1", "failing")]
    assert [d.status for d in log.items.values()] == ["failed"]


def test_four_days_of_failures_do_not():
    service, log, queue, hooks, receiver, clock = engine(
        status(503), sub=subscription(failing_since="2025-02-25T13:00:00.000Z")
    )
    service.fan_out([custom_event()])
    assert service.attempt(queue.pop()) == "retry"
    assert hooks.disabled == []


def test_a_first_failure_starts_the_streak():
    service, log, queue, hooks, receiver, clock = engine(status(500))
    service.fan_out([custom_event()])
    service.attempt(queue.pop())
    assert hooks.subs["wh_1"].failing_since == "2025-03-01T12:00:00.000Z"


def test_duplicate_and_early_messages():
    service, log, queue, hooks, receiver, clock = engine(status(500))
    service.fan_out([custom_event()])
    first = queue.pop()
    assert service.attempt(first) == "retry"
    assert service.attempt(first) == "duplicate"  # the queue handed it twice: one attempt
    assert len(receiver.got) == 1
    ahead = {**first, "attempt": 3}
    with pytest.raises(NotYetVisible):
        service.attempt(ahead)


def test_a_delivery_to_a_webhook_disabled_meanwhile_is_closed_without_sending():
    service, log, queue, hooks, receiver, clock = engine(status(200))
    service.fan_out([custom_event()])
    hooks.subs["wh_1"] = replace(hooks.subs["wh_1"], status="disabled")
    assert service.attempt(queue.pop()) == "closed"
    assert receiver.got == [] and [d.status for d in log.items.values()] == ["failed"]


def test_redeliver_makes_a_new_delivery_of_the_same_event():
    service, log, queue, hooks, receiver, clock = engine(status(200))
    service.fan_out([custom_event()])
    run_due(service, queue, clock)
    [original] = log.items.values()
    copy = service.redeliver("ws_1", "wh_1", original.id)
    assert copy.id != original.id and copy.redeliveryOf == original.id and copy.eventId == original.eventId
    assert run_due(service, queue, clock) == ["succeeded"]
    assert receiver.got[0][1] == receiver.got[1][1]  # the same body
    with pytest.raises(KilnError) as missing:
        service.redeliver("ws_1", "wh_1", "dlv_nope")
    assert missing.value.status == 404
    with pytest.raises(KilnError) as other_workspace:
        service.redeliver("ws_2", "wh_1", original.id)
    assert other_workspace.value.status == 404


def test_redeliver_to_a_disabled_webhook_is_a_conflict_and_queues_nothing():
    service, log, queue, hooks, receiver, clock = engine(status(200))
    service.fan_out([custom_event()])
    run_due(service, queue, clock)
    hooks.subs["wh_1"] = replace(hooks.subs["wh_1"], status="disabled")
    with pytest.raises(KilnError) as refused:
        service.redeliver("ws_1", "wh_1", next(iter(log.items)))
    assert refused.value.status == 409 and queue.sent == [] and len(log.items) == 1

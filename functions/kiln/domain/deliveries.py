"""Webhook deliveries: fan-out of workspace events, attempts, the retry schedule. No AWS here.

A delivery is one event on its way to one webhook. The table stream's fan-out consumer
(kiln.workers.table_stream) turns each change into workspace events (kiln.domain.
workspace_events), and `fan_out` queues a delivery for every enabled webhook whose filter
takes the event. The delivery worker (kiln.workers.webhook_deliver) makes each attempt:

- a 2xx within 15 s is success; anything else (another status, a refused address, a timeout,
  a connection error) is a failed attempt, retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
  14 h, 20 h and 24 h (`SCHEDULE`), each wait drawn within +-10 % (`JITTER`) so a receiver that
  came back is not hit by every delivery at once. A `Retry-After` longer than the scheduled
  wait is honoured (up to the longest wait of the schedule); a shorter one is not, so a
  receiver cannot make Kiln retry faster than the schedule. After the last retry the delivery
  is `failed`.
- `410 Gone` fails the delivery at once and disables the webhook (`disabled_reason: gone`).
- A webhook failing for `DISABLE_AFTER` (5 days: the first failure of the current streak is
  the subscription's `failing_since`; any success ends the streak) is disabled
  (`disabled_reason: failing`). Disabling writes the subscription, and the stream turns that
  change into a `webhook.disabled` event for the workspace's other webhooks.

Delivery is at least once. Ids are deterministic (event id + webhook id), so a stream batch
handed twice queues nothing twice; each queue message names the attempt it is for, so a
duplicate message finds the attempt already recorded and is dropped. A crash between sending
and recording can still send one attempt twice: receivers deduplicate on `webhook-id` (the
event id, the same on every attempt), as Standard Webhooks asks.

The delivery log keeps each delivery 30 days (TTL), with every attempt's moment, status code,
duration, error and the first 1 KiB of the answer.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from kiln.clock import Clock, iso, utc_now
from kiln.domain.table_changes import TableChange
from kiln.domain.webhook_signing import sign
from kiln.domain.webhooks import AttemptOutcome, Sender, Subscription
from kiln.domain.workspace_events import WorkspaceEvent, events_from, stable_id
from kiln.envelope import ErrorCode, KilnError, not_found

DeliveryStatus = Literal["pending", "succeeded", "failed"]

# Seconds to wait after the 1st, 2nd, ... failed attempt (CONTRACT section 8): about three days.
SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.1  # each wait is drawn in [w * 0.9, w * 1.1]
MAX_RETRY_AFTER_SECONDS = SCHEDULE[-1]  # a Retry-After never parks a delivery longer than this
DISABLE_AFTER = timedelta(days=5)
LOG_RETENTION = timedelta(days=30)
DELIVERY_PREFIX = "dlv"
EXCERPT_BYTES = 1024


class DeliveryAttempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: str
    statusCode: int | None = None
    durationMs: int = 0
    error: str | None = None
    responseExcerpt: str | None = None


class Delivery(BaseModel):
    """One event on its way to one webhook, with every attempt so far."""

    model_config = ConfigDict(extra="forbid")

    id: str
    webhookId: str
    workspaceId: str
    eventId: str
    eventType: str
    payload: dict[str, Any]  # the delivered body: {type, timestamp, data}
    status: DeliveryStatus = "pending"
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    nextAttemptAt: str | None = None
    createdAt: str
    redeliveryOf: str | None = None

    def view(self) -> dict[str, Any]:
        """What GET /v1/webhooks/{id}/deliveries answers for it (CONTRACT section 8)."""
        return {
            "id": self.id,
            "webhookId": self.webhookId,
            "eventId": self.eventId,
            "eventType": self.eventType,
            "status": self.status,
            "attempts": [a.model_dump() for a in self.attempts],
            "nextAttemptAt": self.nextAttemptAt,
            "createdAt": self.createdAt,
            "redeliveryOf": self.redeliveryOf,
        }


class DeliveryLog(Protocol):
    def create(self, delivery: Delivery, expires_at_epoch: int) -> bool:
        """Store a new delivery; False when one with its id exists already (a replayed batch)."""
        ...

    def get(self, workspace_id: str, webhook_id: str, delivery_id: str) -> Delivery | None: ...

    def record(self, delivery: Delivery, previous_attempts: int) -> bool:
        """Replace the stored delivery if it still has `previous_attempts` attempts; False otherwise."""
        ...

    def page(
        self, workspace_id: str, webhook_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Delivery], dict[str, Any] | None]:
        """A webhook's deliveries, newest first, from `after` (the previous page's last key)."""
        ...


class DeliveryQueue(Protocol):
    def send(self, message: dict[str, Any], delay_seconds: int) -> None:
        """Queue `message` for the delivery worker, visible after `delay_seconds` (0 to 900)."""
        ...


class Webhooks(Protocol):
    """What deliveries need of kiln.domain.webhooks.WebhookService."""

    def enabled_for(self, workspace_id: str) -> list[Subscription]: ...

    def find(self, workspace_id: str, webhook_id: str) -> Subscription | None: ...

    def record_failing(self, workspace_id: str, webhook_id: str, since: str | None) -> None: ...

    def disable(self, workspace_id: str, webhook_id: str, reason: str) -> bool: ...


class NotYetVisible(Exception):
    """A message for an attempt whose predecessor's record is not readable yet: retry it later."""


# The longest a queue message can be delayed (SQS DelaySeconds); longer waits hop.
MAX_QUEUE_DELAY_SECONDS = 900


def retry_delay(
    failures: int, retry_after: float | None = None, draw: Callable[[], float] = random.random
) -> float | None:
    """Seconds to wait after the `failures`-th failed attempt, or None when none is left.

    The scheduled wait with +-JITTER; a Retry-After longer than that wins, capped at the
    schedule's longest wait."""
    if failures < 1 or failures > len(SCHEDULE):
        return None
    base = SCHEDULE[failures - 1]
    wait = base * (1 + JITTER * (2 * draw() - 1))
    if retry_after is not None and retry_after > wait:
        wait = min(float(retry_after), float(MAX_RETRY_AFTER_SECONDS))
    return wait


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


class DeliveryService:
    """Fan-out, attempts and the delivery log; `retry_scale` shrinks every wait (the local
    cloud's KILN_LOCAL_WEBHOOK_RETRY_SCALE, 0.01 there; 1 when deployed)."""

    def __init__(
        self,
        log: DeliveryLog,
        queue: DeliveryQueue,
        webhooks: Webhooks,
        sender: Sender,
        clock: Clock = utc_now,
        *,
        retry_scale: float = 1.0,
        draw: Callable[[], float] = random.random,
        disable_after: timedelta = DISABLE_AFTER,
    ) -> None:
        self._log = log
        self._queue = queue
        self._webhooks = webhooks
        self._sender = sender
        self._clock = clock
        self._scale = retry_scale
        self._draw = draw
        self._disable_after = disable_after

    # --- capture: the stream consumer ------------------------------------------------------------

    def fan_out(self, changes: Sequence[TableChange]) -> int:
        """Queue a delivery for each event of `changes` and each enabled webhook taking it;
        answers how many first attempts were queued (a replayed batch queues none whose first
        attempt was made)."""
        subscribers: dict[str, list[Subscription]] = {}
        queued = 0
        for change in changes:
            for event in events_from(change):
                if event.workspace_id not in subscribers:
                    subscribers[event.workspace_id] = self._webhooks.enabled_for(event.workspace_id)
                for subscription in subscribers[event.workspace_id]:
                    if subscription.takes(event.type):
                        queued += int(self.enqueue(subscription, event) is not None)
        return queued

    def enqueue(self, subscription: Subscription, event: WorkspaceEvent) -> Delivery | None:
        """Store the delivery of `event` to `subscription` and queue its first attempt; None
        when it was stored before and has been attempted already (nothing to do again)."""
        delivery = Delivery(
            id=stable_id(DELIVERY_PREFIX, event.timestamp, event.id, subscription.id),
            webhookId=subscription.id,
            workspaceId=subscription.workspace_id,
            eventId=event.id,
            eventType=event.type,
            payload=event.body(),
            createdAt=iso(self._clock()),
        )
        if not self._store(delivery):
            stored = self._log.get(delivery.workspaceId, delivery.webhookId, delivery.id)
            if stored is None or stored.status != "pending" or stored.attempts:
                return None
            delivery = stored  # stored, but its first message may never have been sent: send it
        self._queue.send(self._message(delivery, attempt=1, due=self._clock()), 0)
        return delivery

    # --- the API's reads and actions -------------------------------------------------------------

    def list_for(
        self, workspace_id: str, webhook_id: str, limit: int = 20, after: dict[str, Any] | None = None
    ) -> tuple[list[Delivery], dict[str, Any] | None]:
        return self._log.page(workspace_id, webhook_id, limit, after)

    def get(self, workspace_id: str, webhook_id: str, delivery_id: str) -> Delivery:
        delivery = self._log.get(workspace_id, webhook_id, delivery_id)
        if delivery is None:
            raise not_found("delivery", delivery_id)
        return delivery

    def redeliver(self, workspace_id: str, webhook_id: str, delivery_id: str) -> Delivery:
        """A new delivery of the same event (same payload and webhook-id), attempted now."""
        original = self.get(workspace_id, webhook_id, delivery_id)
        subscription = self._webhooks.find(workspace_id, webhook_id)
        if subscription is None:
            raise not_found("webhook", webhook_id)
        if subscription.status != "enabled":
            raise KilnError(
                ErrorCode.CONFLICT,
                "The webhook is disabled; enable it before redelivering.",
                {"reason": "webhook_disabled", "currentStatus": subscription.status},
            )
        moment = self._clock()
        copy = original.model_copy(
            update={
                # Random, not derived: each redelivery is a new request of its own.
                "id": stable_id(DELIVERY_PREFIX, iso(moment), original.id, secrets.token_hex(10)),
                "status": "pending",
                "attempts": [],
                "nextAttemptAt": None,
                "createdAt": iso(moment),
                "redeliveryOf": original.id,
            }
        )
        self._store(copy)
        self._queue.send(self._message(copy, attempt=1, due=moment), 0)
        return copy

    # --- the worker: one attempt -----------------------------------------------------------------

    def attempt(self, message: dict[str, Any]) -> str:
        """Handle one queue message; answers what happened (for the log and the tests).

        NotYetVisible when the message is ahead of the log (retry it later)."""
        now = self._clock()
        due = _parse(message["dueAt"])
        if (due - now).total_seconds() > 1:
            # SQS delays stop at 15 minutes: a longer wait is a chain of hops.
            self._queue.send(message, min(MAX_QUEUE_DELAY_SECONDS, math.ceil((due - now).total_seconds())))
            return "hop"
        number = int(message["attempt"])
        delivery = self._log.get(message["workspaceId"], message["webhookId"], message["deliveryId"])
        if delivery is None or delivery.status != "pending":
            return "done"
        if len(delivery.attempts) >= number:
            return "duplicate"
        if len(delivery.attempts) < number - 1:
            raise NotYetVisible(f"delivery {delivery.id}: attempt {number - 1} is not recorded yet")
        subscription = self._webhooks.find(delivery.workspaceId, delivery.webhookId)
        if subscription is None or subscription.status != "enabled":
            reason = "the webhook was deleted" if subscription is None else "the webhook is disabled"
            closed = delivery.model_copy(update={"status": "failed", "nextAttemptAt": None})
            closed.attempts.append(DeliveryAttempt(at=iso(now), error=reason))
            self._log.record(closed, len(delivery.attempts))
            return "closed"
        outcome = self._send(subscription, delivery, now)
        return self._conclude(subscription, delivery, outcome, now, number)

    def _send(self, subscription: Subscription, delivery: Delivery, now: datetime) -> AttemptOutcome:
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = sign(subscription.signing_secrets(now), delivery.eventId, int(now.timestamp()), body)
        headers["content-type"] = "application/json"
        return self._sender.send(subscription.url, body, headers)

    def _conclude(
        self, subscription: Subscription, delivery: Delivery, outcome: AttemptOutcome, now: datetime, number: int
    ) -> str:
        attempt = DeliveryAttempt(
            at=iso(now),
            statusCode=outcome.status_code,
            durationMs=outcome.duration_ms,
            error=outcome.error,
            responseExcerpt=outcome.response_excerpt.encode()[:EXCERPT_BYTES].decode("utf-8", "ignore") or None,
        )
        attempts = [*delivery.attempts, attempt]
        ws, webhook_id = delivery.workspaceId, delivery.webhookId
        if outcome.succeeded:
            self._record(delivery, attempts, "succeeded", None)
            if subscription.failing_since is not None:
                self._webhooks.record_failing(ws, webhook_id, None)
            return "succeeded"
        if outcome.status_code == 410:
            self._record(delivery, attempts, "failed", None)
            self._webhooks.disable(ws, webhook_id, "gone")
            return "gone"
        failing_since = subscription.failing_since or attempt.at
        if subscription.failing_since is None:
            self._webhooks.record_failing(ws, webhook_id, attempt.at)
        if now - _parse(failing_since) >= self._disable_after * self._scale:
            self._record(delivery, attempts, "failed", None)
            self._webhooks.disable(ws, webhook_id, "failing")
            return "disabled"
        wait = retry_delay(len(attempts), outcome.retry_after_seconds, self._draw)
        if wait is None:
            self._record(delivery, attempts, "failed", None)
            return "failed"
        wait *= self._scale
        due = now + timedelta(seconds=wait)
        # Queued before it is recorded: if recording fails (or this worker dies) the message is
        # handled again and this attempt repeated; the extra next message is then a duplicate.
        self._queue.send(self._message(delivery, number + 1, due), min(MAX_QUEUE_DELAY_SECONDS, math.ceil(wait)))
        self._record(delivery, attempts, "pending", iso(due))
        return "retry"

    # --- internals -------------------------------------------------------------------------------

    def _record(
        self, delivery: Delivery, attempts: list[DeliveryAttempt], status: DeliveryStatus, next_at: str | None
    ) -> None:
        updated = delivery.model_copy(update={"attempts": attempts, "status": status, "nextAttemptAt": next_at})
        self._log.record(updated, len(delivery.attempts))

    def _store(self, delivery: Delivery) -> bool:
        expires = int((_parse(delivery.createdAt) + LOG_RETENTION).timestamp())
        return self._log.create(delivery, expires)

    @staticmethod
    def _message(delivery: Delivery, attempt: int, due: datetime) -> dict[str, Any]:
        return {
            "workspaceId": delivery.workspaceId,
            "webhookId": delivery.webhookId,
            "deliveryId": delivery.id,
            "attempt": attempt,
            "dueAt": iso(due),
        }

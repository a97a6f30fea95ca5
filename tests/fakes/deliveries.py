"""The webhook delivery engine's ports in memory (kiln.domain.deliveries): the delivery log with
kiln.adapters.dynamodb.deliveries' guards (create once per id, record only over the attempts the
caller read), a queue that keeps what was sent and its delay, and the subscriptions the engine
reads and marks (what kiln.domain.webhooks.WebhookService provides in production)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kiln.domain.deliveries import Delivery
from kiln.domain.webhooks import Subscription


class FakeDeliveryLog:
    def __init__(self) -> None:
        self.items: dict[str, Delivery] = {}
        self.expiry: dict[str, int] = {}

    def create(self, delivery: Delivery, expires_at_epoch: int) -> bool:
        if delivery.id in self.items:
            return False
        self.items[delivery.id] = delivery
        self.expiry[delivery.id] = expires_at_epoch
        return True

    def get(self, workspace_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        found = self.items.get(delivery_id)
        return found if found and found.workspaceId == workspace_id and found.webhookId == webhook_id else None

    def record(self, delivery: Delivery, previous_attempts: int) -> bool:
        if len(self.items[delivery.id].attempts) != previous_attempts:
            return False
        self.items[delivery.id] = delivery
        return True

    def page(
        self, workspace_id: str, webhook_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Delivery], dict[str, Any] | None]:
        # One page only: the engine's tests never hold more deliveries than a page.
        return [d for d in self.items.values() if d.webhookId == webhook_id][:limit], None


class FakeDeliveryQueue:
    """Keeps each message with its delay; `pop` hands the oldest to the test, as the queue would."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []

    def send(self, message: dict[str, Any], delay_seconds: int) -> None:
        self.sent.append((message, delay_seconds))

    def pop(self) -> dict[str, Any]:
        return self.sent.pop(0)[0]


class FakeSubscriptions:
    """kiln.domain.deliveries.Webhooks: the subscriptions by id, and each disabling in order."""

    def __init__(self, *subscriptions: Subscription) -> None:
        self.subs = {s.id: s for s in subscriptions}
        self.disabled: list[tuple[str, str]] = []

    def enabled_for(self, workspace_id: str) -> list[Subscription]:
        return [s for s in self.subs.values() if s.workspace_id == workspace_id and s.status == "enabled"]

    def find(self, workspace_id: str, webhook_id: str) -> Subscription | None:
        return self.subs.get(webhook_id)

    def record_failing(self, workspace_id: str, webhook_id: str, since: str | None) -> None:
        self.subs[webhook_id] = replace(self.subs[webhook_id], failing_since=since)

    def disable(self, workspace_id: str, webhook_id: str, reason: str) -> bool:
        self.subs[webhook_id] = replace(self.subs[webhook_id], status="disabled", disabled_reason=reason)
        self.disabled.append((webhook_id, reason))
        return True

"""Webhooks in memory: kiln.domain.webhooks.WebhookRepository with kiln.adapters.dynamodb.
webhooks' semantics (whole-item writes guarded by `revision`; the delivery engine's small
updates bump it), a Sender that records what it was asked to send and answers a script, and
the custom events log (kiln.domain.custom_events.CustomEventLog).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kiln.domain.custom_events import CustomEvent
from kiln.domain.webhooks import AttemptOutcome, Subscription, SubscriptionChanged
from tests.fakes._hooks import Hooks
from tests.fakes.errors import ConditionFailed


class FakeWebhooks(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.webhooks: dict[tuple[str, str], Subscription] = {}  # (workspace, webhook id) -> it

    def get_webhook(self, workspace_id: str, webhook_id: str) -> Subscription | None:
        self._hook("get_webhook")
        return self.webhooks.get((workspace_id, webhook_id))

    def insert_webhook(self, subscription: Subscription) -> None:
        self._hook("insert_webhook")
        key = (subscription.workspace_id, subscription.id)
        if key in self.webhooks:
            raise ConditionFailed(key)
        self.webhooks[key] = subscription

    def replace_webhook(self, subscription: Subscription, expected_revision: int) -> None:
        self._hook("replace_webhook")
        key = (subscription.workspace_id, subscription.id)
        stored = self.webhooks.get(key)
        if stored is None or stored.revision != expected_revision:
            raise SubscriptionChanged(subscription.id)
        self.webhooks[key] = subscription

    def delete_webhook(self, workspace_id: str, webhook_id: str) -> bool:
        self._hook("delete_webhook")
        return self.webhooks.pop((workspace_id, webhook_id), None) is not None

    def webhooks_of(self, workspace_id: str) -> list[Subscription]:
        self._hook("webhooks_of")
        # Newest first, as the Query over ids that start with their creation time.
        return sorted((s for (ws, _), s in self.webhooks.items() if ws == workspace_id), key=lambda s: s.id)[::-1]

    def list_webhooks_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Subscription], dict[str, Any] | None]:
        self._hook("list_webhooks_cursor")
        listed = self.webhooks_of(workspace_id)
        if after is not None:
            listed = [s for s in listed if f"WEBHOOK#{s.id}" < after["sk"]]
        page = listed[:limit]
        position = None
        if len(listed) > limit:
            position = {"pk": f"WS#{workspace_id}", "sk": f"WEBHOOK#{page[-1].id}"}
        return page, position

    def set_failing_since(self, workspace_id: str, webhook_id: str, since: str | None) -> None:
        self._hook("set_failing_since")
        stored = self.webhooks.get((workspace_id, webhook_id))
        if stored is not None:
            self.webhooks[(workspace_id, webhook_id)] = replace(
                stored, failing_since=since, revision=stored.revision + 1
            )

    def disable_webhook(self, workspace_id: str, webhook_id: str, reason: str, at: str) -> bool:
        self._hook("disable_webhook")
        stored = self.webhooks.get((workspace_id, webhook_id))
        if stored is None or stored.status != "enabled":
            return False
        self.webhooks[(workspace_id, webhook_id)] = replace(
            stored, status="disabled", disabled_reason=reason, updated_at=at, revision=stored.revision + 1
        )
        return True


@dataclass(frozen=True)
class Sent:
    url: str
    body: bytes
    headers: dict[str, str]


class FakeSender(Hooks):
    """Records every request; answers the scripted outcomes in order, then `default`."""

    def __init__(self, default: AttemptOutcome | None = None) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.script: list[AttemptOutcome] = []
        self.default = default or AttemptOutcome(200, 5)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> AttemptOutcome:
        self._hook("send")
        self.sent.append(Sent(url, body, dict(headers)))
        return self.script.pop(0) if self.script else self.default


class FakeCustomEvents(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.events: dict[tuple[str, str], CustomEvent] = {}

    def put_custom_event(self, event: CustomEvent) -> None:
        self._hook("put_custom_event")
        key = (event.workspace_id, event.id)
        if key in self.events:
            raise ConditionFailed(key)
        self.events[key] = event

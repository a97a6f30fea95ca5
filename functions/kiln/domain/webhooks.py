"""Webhook subscriptions of a workspace: which events go to which URL, signed with which secret.

No AWS here. A subscription holds its URL (checked against kiln.domain.url_safety at
registration; the sender checks again at every delivery), an events filter, a status
(`enabled` or `disabled`) and its signing secrets: the current one and, for a while after a
rotation, the previous one with the moment its overlap ends. Both sign during the overlap
(kiln.domain.webhook_signing), so receivers can switch secrets without a missed delivery.

Secrets must be read in clear to sign, so unlike API keys they cannot be hashed. They are shown
once (the create and rotate answers), never in any other answer, log or idempotent replay, and
kept in the table, which DynamoDB encrypts at rest; docs/events.md says why not KMS per item.

The events filter is a list of patterns: an event type of CONTRACT section 8 (`run.completed`),
a family wildcard (`run.*`, `task.*`, `custom.*`, ...), one custom event (`custom.deployed`),
or `*` for everything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.access import AccessRepository, Principal, managed_workspace
from kiln.domain.url_safety import Resolver, UnsafeUrl, check_url
from kiln.domain.webhook_signing import new_secret
from kiln.domain.workspace_events import EVENT_TYPES, WorkspaceEvent
from kiln.envelope import ErrorCode, KilnError, not_found, validation_error

WebhookStatus = Literal["enabled", "disabled"]

# The families a wildcard can name (`run.*`); the types themselves are kiln.domain.workspace_events'.
FAMILIES: tuple[str, ...] = ("run", "task", "project", "spec", "export", "import", "custom", "webhook", "deployment")
# The event a test delivery carries (POST /v1/webhooks/{id}/test); sent whatever the filter says.
TEST_EVENT_TYPE = "webhook.test"
# `custom.` + a name: a lowercase letter, then up to 63 of a-z 0-9 _ . -
CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
CUSTOM_PREFIX = "custom."

MAX_PATTERNS = 64
MAX_DESCRIPTION = 500
MAX_WEBHOOKS_PER_WORKSPACE = 50
# How long a rotated secret keeps signing next to the new one (KILN_WEBHOOK_SECRET_OVERLAP_SECONDS).
DEFAULT_SECRET_OVERLAP = timedelta(hours=24)


def is_custom_type(event_type: str) -> bool:
    return event_type.startswith(CUSTOM_PREFIX) and bool(CUSTOM_NAME.match(event_type[len(CUSTOM_PREFIX) :]))


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not a valid events filter entry, or None."""
    if pattern == "*" or pattern in EVENT_TYPES or is_custom_type(pattern):
        return None
    if pattern.endswith(".*") and pattern[:-2] in FAMILIES:
        return None
    if pattern.startswith(CUSTOM_PREFIX):
        return "a custom event is custom.<name>: a lowercase letter, then up to 63 of a-z 0-9 _ . -"
    return f"not an event type; use one of {', '.join(EVENT_TYPES)}, custom.<name>, <family>.* or *"


def check_events(patterns: Sequence[str], location: str = "body") -> tuple[str, ...]:
    """The filter, deduplicated in order; VALIDATION_ERROR naming each bad entry (`events[i]`)."""
    problems = [
        {"field": f"events[{i}]", "location": location, "message": reason, "type": "event_type"}
        for i, pattern in enumerate(patterns)
        if (reason := pattern_problem(pattern))
    ]
    if not patterns:
        problems.append({"field": "events", "location": location, "message": "at least one", "type": "too_short"})
    if len(patterns) > MAX_PATTERNS:
        problems.append(
            {"field": "events", "location": location, "message": f"at most {MAX_PATTERNS}", "type": "too_long"}
        )
    if problems:
        raise validation_error(problems)
    return tuple(dict.fromkeys(patterns))


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """Whether a filter takes an event type: `*`, the type itself, or its family's `<family>.*`."""
    family = event_type.split(".", 1)[0]
    return any(p == "*" or p == event_type or p == f"{family}.*" for p in patterns)


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    id: str
    workspace_id: str
    url: str
    events: tuple[str, ...]
    description: str | None
    status: WebhookStatus
    secret: str  # the current signing secret (whsec_...); never in an answer after creation
    created_at: str
    updated_at: str
    previous_secret: str | None = None  # signs too until previous_secret_expires_at
    previous_secret_expires_at: str | None = None
    failing_since: str | None = None  # first failed attempt of the current failing streak
    disabled_reason: str | None = None  # "user", "gone" (410) or "failing" (5 days of failures)
    revision: int = 1  # guards every whole-item write against a concurrent one

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign a message sent at `now`: the current one first, then the
        previous one while its overlap lasts."""
        if self.previous_secret and self.previous_secret_expires_at and iso(now) < self.previous_secret_expires_at:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def takes(self, event_type: str) -> bool:
        return self.status == "enabled" and matches(self.events, event_type)


def webhook_view(subscription: Subscription, now: datetime) -> dict[str, Any]:
    """A subscription as the API shows it: never a secret."""
    overlap_ends = subscription.previous_secret_expires_at
    return {
        "id": subscription.id,
        "workspaceId": subscription.workspace_id,
        "url": subscription.url,
        "events": list(subscription.events),
        "description": subscription.description,
        "status": subscription.status,
        "disabledReason": subscription.disabled_reason if subscription.status == "disabled" else None,
        "failingSince": subscription.failing_since,
        "previousSecretExpiresAt": overlap_ends if overlap_ends and iso(now) < overlap_ends else None,
        "createdAt": subscription.created_at,
        "updatedAt": subscription.updated_at,
    }


@dataclass(frozen=True)
class WebhookRequest:
    """POST /v1/webhooks, after its shape has been checked."""

    url: str
    events: tuple[str, ...]
    description: str | None = None
    workspace_id: str | None = None


@dataclass(frozen=True)
class WebhookChanges:
    """PATCH /v1/webhooks/{webhookId}: None leaves a field as it is."""

    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    status: WebhookStatus | None = None


@dataclass(frozen=True)
class AttemptOutcome:
    """One delivery attempt as the sender saw it (kiln.adapters.webhook_http)."""

    status_code: int | None  # None: no HTTP answer (refused address, connection error, timeout)
    duration_ms: int
    error: str | None = None  # why it failed, in words; None when the receiver answered
    retry_after_seconds: float | None = None  # the receiver's Retry-After, when it sent one
    response_excerpt: str = ""  # the first 1 KiB of the response body

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


class Sender(Protocol):
    def send(self, url: str, body: bytes, headers: dict[str, str]) -> AttemptOutcome:
        """POST `body` to `url` once: the address rules checked on the addresses connected to,
        no redirects followed, 15 s in all, the first 1 KiB of the answer kept."""
        ...


class SubscriptionChanged(Exception):
    """The subscription was written (or deleted) since it was read."""


class WebhookRepository(Protocol):
    def get_webhook(self, workspace_id: str, webhook_id: str) -> Subscription | None:
        """The subscription of this workspace (never another workspace's), read consistently."""
        ...

    def insert_webhook(self, subscription: Subscription) -> None: ...

    def replace_webhook(self, subscription: Subscription, expected_revision: int) -> None:
        """Write the whole subscription if its stored revision is `expected_revision`;
        SubscriptionChanged otherwise (or when it is gone)."""
        ...

    def delete_webhook(self, workspace_id: str, webhook_id: str) -> bool:
        """False when it was already gone."""
        ...

    def webhooks_of(self, workspace_id: str) -> list[Subscription]:
        """Every subscription of the workspace, newest first (at most MAX_WEBHOOKS_PER_WORKSPACE)."""
        ...

    def list_webhooks_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Subscription], dict[str, Any] | None]: ...

    def set_failing_since(self, workspace_id: str, webhook_id: str, since: str | None) -> None:
        """Start (an ISO moment) or end (None) a failing streak; nothing if the webhook is gone."""
        ...

    def disable_webhook(self, workspace_id: str, webhook_id: str, reason: str, at: str) -> bool:
        """Disable an enabled subscription; False if it was not enabled (or is gone)."""
        ...


def webhook_test_event(subscription: Subscription, now: datetime) -> WorkspaceEvent:
    """The event of a test delivery (POST /v1/webhooks/{id}/test): a fresh id each time, so
    each test is a delivery of its own."""
    return WorkspaceEvent(
        id=ids.new_id("event", int(now.timestamp() * 1000)),
        workspace_id=subscription.workspace_id,
        type=TEST_EVENT_TYPE,
        timestamp=iso(now),
        data={"webhookId": subscription.id, "message": "A test delivery: this webhook is reachable and signed."},
    )


def _webhook_not_found(webhook_id: str) -> KilnError:
    return not_found("webhook", webhook_id)


def _url_refused(url_problem: str, location: str = "body") -> KilnError:
    return validation_error([{"field": "url", "location": location, "message": url_problem, "type": "url_not_allowed"}])


class WebhookService:
    def __init__(
        self,
        repository: WebhookRepository,
        workspaces: AccessRepository,
        resolve: Resolver,
        clock: Clock = utc_now,
        *,
        allow_loopback: bool = False,
        secret_overlap: timedelta = DEFAULT_SECRET_OVERLAP,
    ) -> None:
        self._repository = repository
        self._workspaces = workspaces  # only to check that a named workspace exists
        self._resolve = resolve
        self._clock = clock
        self._allow_loopback = allow_loopback
        self._overlap = secret_overlap

    def now(self) -> datetime:
        return self._clock()

    def check_url(self, url: str) -> str:
        """The URL when it may be a webhook target (VALIDATION_ERROR naming `url` otherwise)."""
        try:
            check_url(url, self._resolve, allow_loopback=self._allow_loopback)
        except UnsafeUrl as problem:
            raise _url_refused(str(problem)) from None
        return url

    def create(self, caller: Principal, request: WebhookRequest) -> tuple[Subscription, str]:
        """The new subscription and its secret (the only time the secret is answered)."""
        workspace_id = self._target_workspace(caller, request.workspace_id, "body")
        events = check_events(request.events)
        url = self.check_url(request.url)
        if len(self._repository.webhooks_of(workspace_id)) >= MAX_WEBHOOKS_PER_WORKSPACE:
            raise KilnError(
                ErrorCode.CONFLICT,
                f"A workspace has at most {MAX_WEBHOOKS_PER_WORKSPACE} webhooks; delete one first.",
                {"reason": "webhook_limit", "limit": MAX_WEBHOOKS_PER_WORKSPACE},
            )
        moment = self._clock()
        now = iso(moment)
        subscription = Subscription(
            id=ids.new_id("webhook", int(moment.timestamp() * 1000)),
            workspace_id=workspace_id,
            url=url,
            events=events,
            description=request.description,
            status="enabled",
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )
        self._repository.insert_webhook(subscription)
        return subscription, subscription.secret

    def get(self, caller: Principal, webhook_id: str, workspace_id: str | None = None) -> Subscription:
        return self._get(self._target_workspace(caller, workspace_id, "query"), webhook_id)

    def update(
        self, caller: Principal, webhook_id: str, changes: WebhookChanges, workspace_id: str | None = None
    ) -> Subscription:
        target = self._target_workspace(caller, workspace_id, "query")
        events = check_events(changes.events) if changes.events is not None else None
        url = self.check_url(changes.url) if changes.url is not None else None

        def change(current: Subscription) -> Subscription:
            updated = replace(current, updated_at=iso(self._clock()))
            if url is not None:
                updated = replace(updated, url=url)
            if events is not None:
                updated = replace(updated, events=events)
            if changes.description is not None:
                updated = replace(updated, description=changes.description or None)
            if changes.status == "disabled" and current.status == "enabled":
                updated = replace(updated, status="disabled", disabled_reason="user")
            elif changes.status == "enabled":
                # Enabling again starts afresh: a new failing streak, no leftover reason.
                updated = replace(updated, status="enabled", disabled_reason=None, failing_since=None)
            return updated

        return self._write(target, webhook_id, change)

    def rotate_secret(
        self, caller: Principal, webhook_id: str, workspace_id: str | None = None
    ) -> tuple[Subscription, str]:
        """A new current secret; the one it replaces keeps signing for the overlap. Rotating
        again ends an earlier previous secret at once: at most two secrets sign at any moment."""
        target = self._target_workspace(caller, workspace_id, "query")
        fresh = new_secret()

        def change(current: Subscription) -> Subscription:
            moment = self._clock()
            return replace(
                current,
                secret=fresh,
                previous_secret=current.secret,
                previous_secret_expires_at=iso(moment + self._overlap),
                updated_at=iso(moment),
            )

        return self._write(target, webhook_id, change), fresh

    def delete(self, caller: Principal, webhook_id: str, workspace_id: str | None = None) -> None:
        target = self._target_workspace(caller, workspace_id, "query")
        if not self._repository.delete_webhook(target, webhook_id):
            raise _webhook_not_found(webhook_id)

    def list_page(
        self, caller: Principal, workspace_id: str | None, page: int, size: int
    ) -> tuple[list[Subscription], int]:
        listed = self._repository.webhooks_of(self._target_workspace(caller, workspace_id, "query"))
        return listed[(page - 1) * size : page * size], len(listed)

    def list_cursor(
        self, caller: Principal, workspace_id: str | None, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Subscription], dict[str, Any] | None]:
        target = self._target_workspace(caller, workspace_id, "query")
        return self._repository.list_webhooks_cursor(target, limit, after)

    # --- for the delivery engine (no caller: the workspace comes from the event) ---------------

    def enabled_for(self, workspace_id: str) -> list[Subscription]:
        """The workspace's enabled subscriptions (each event's fan-out filters them with `takes`)."""
        return [s for s in self._repository.webhooks_of(workspace_id) if s.status == "enabled"]

    def testable(self, caller: Principal, webhook_id: str, workspace_id: str | None = None) -> Subscription:
        """The subscription a test delivery or a redelivery goes to: it must be enabled (409)."""
        subscription = self.get(caller, webhook_id, workspace_id)
        if subscription.status != "enabled":
            raise KilnError(
                ErrorCode.CONFLICT,
                "The webhook is disabled; enable it first (PATCH status enabled).",
                {"reason": "webhook_disabled", "currentStatus": subscription.status, "allowedStatuses": ["enabled"]},
            )
        return subscription

    def find(self, workspace_id: str, webhook_id: str) -> Subscription | None:
        return self._repository.get_webhook(workspace_id, webhook_id)

    def record_failing(self, workspace_id: str, webhook_id: str, since: str | None) -> None:
        self._repository.set_failing_since(workspace_id, webhook_id, since)

    def disable(self, workspace_id: str, webhook_id: str, reason: str) -> bool:
        """Disable it (410 Gone, or failing for too long); False if it was not enabled."""
        return self._repository.disable_webhook(workspace_id, webhook_id, reason, iso(self._clock()))

    # --- internals -----------------------------------------------------------------------------

    def _get(self, workspace_id: str, webhook_id: str) -> Subscription:
        subscription = self._repository.get_webhook(workspace_id, webhook_id)
        if subscription is None:
            raise _webhook_not_found(webhook_id)
        return subscription

    def _write(self, workspace_id: str, webhook_id: str, change: Any) -> Subscription:
        """Apply `change` to the stored subscription under its revision, reading again after a
        concurrent write (the delivery engine updates failingSince at any time)."""
        for _ in range(3):
            current = self._get(workspace_id, webhook_id)
            updated = replace(change(current), revision=current.revision + 1)
            try:
                self._repository.replace_webhook(updated, current.revision)
            except SubscriptionChanged:
                continue
            return updated
        raise KilnError(ErrorCode.CONFLICT, "The webhook changed concurrently; retry.", {"reason": "concurrent_change"})

    def _target_workspace(self, caller: Principal, requested: str | None, location: str) -> str:
        return managed_workspace(
            caller,
            requested,
            location,
            refusal="Only the admin scope can manage another workspace's webhooks.",
            workspace_exists=lambda ws: self._workspaces.get_workspace(ws, consistent=True) is not None,
        )

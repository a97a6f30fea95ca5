"""Webhook subscriptions through the shared fakes: the events filter, the URL rules at
registration, tenancy, the secret shown once and its rotation overlap, and the engine's
updates racing a PATCH."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from kiln.domain.access import Principal, Workspace
from kiln.domain.webhooks import (
    MAX_WEBHOOKS_PER_WORKSPACE,
    WebhookChanges,
    WebhookRequest,
    WebhookService,
    check_events,
    matches,
    webhook_test_event,
    webhook_view,
)
from kiln.envelope import KilnError
from tests.fakes import FakeAccess, FakeClock, FakeWebhooks

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WS = "ws_01m885m8rskqxxjknrtpgbxm2p"
WRITER = Principal(WS, "key_01m885m8rskqxxjknrtpgbxm1q", frozenset({"project:read", "project:write"}), "pro")
ADMIN = Principal(WS, "key_01m885m8rskqxxjknrtpgbxm1r", frozenset({"project:write", "admin"}), "pro")
OUTSIDER = Principal(OTHER_WS, "key_01m885m8rskqxxjknrtpgbxm1s", frozenset({"project:write"}), "pro")
URL = "https://hooks.example.com/kiln"
ADDRESSES = {"hooks.example.com": ["93.184.216.34"], "internal.example.com": ["10.0.0.8"]}


def resolve(host: str, port: int) -> list[str]:
    if host not in ADDRESSES:
        raise OSError("unknown host")
    return ADDRESSES[host]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeWebhooks:
    return FakeWebhooks()


@pytest.fixture
def service(store: FakeWebhooks, clock: FakeClock) -> WebhookService:
    access = FakeAccess()
    for ws in (WS, OTHER_WS):
        access.insert_workspace(Workspace(ws, ws, "pro", "u", "v", "2026-01-01T00:00:00.000Z"))
    return WebhookService(store, access, resolve, clock, secret_overlap=timedelta(hours=24))


def create(service: WebhookService, caller: Principal = WRITER, **fields):
    request = {"url": URL, "events": ("run.*",), **fields}
    return service.create(caller, WebhookRequest(**request))


def fields_of(error: KilnError) -> dict[str, str]:
    return {f["field"]: f["message"] for f in error.details["fields"]}


# --- the events filter -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "task.failed", True),
        (["run.*"], "run.completed", True),
        (["run.*"], "task.completed", False),
        (["run.completed"], "run.completed", True),
        (["run.completed"], "run.failed", False),
        (["custom.*"], "custom.deployed", True),
        (["custom.deployed"], "custom.deployed", True),
        (["custom.deployed"], "custom.deployed.eu", False),
        (["export.completed", "task.*"], "task.started", True),
    ],
)
def test_matches(patterns: list[str], event_type: str, expected: bool) -> None:
    assert matches(patterns, event_type) is expected


def test_the_filter_is_checked_entry_by_entry_naming_each_bad_one() -> None:
    assert check_events(["run.*", "custom.deploy_done", "run.*", "*"]) == ("run.*", "custom.deploy_done", "*")
    with pytest.raises(KilnError) as refused:
        check_events(["run.*", "run.exploded", "custom.Bad", "nope.*", "custom."])
    assert set(fields_of(refused.value)) == {"events[1]", "events[2]", "events[3]", "events[4]"}
    with pytest.raises(KilnError) as empty:
        check_events([])
    assert "events" in fields_of(empty.value)


# --- create, read, tenancy ------------------------------------------------------------------------


def test_create_answers_the_secret_once_and_stores_an_enabled_subscription(service, store) -> None:
    subscription, secret = create(service, description="CI notifications")
    assert secret.startswith("whsec_") and subscription.secret == secret
    assert subscription.status == "enabled" and subscription.events == ("run.*",)
    view = webhook_view(subscription, service.now())
    assert "secret" not in view and secret not in str(view)
    assert store.webhooks[(WS, subscription.id)] == subscription
    assert service.get(WRITER, subscription.id) == subscription


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/", "https://internal.example.com/", "https://169.254.169.254/", "https://a:b@x.y/"],
)
def test_a_refused_url_is_a_validation_error_naming_url_and_stores_nothing(service, store, url) -> None:
    with pytest.raises(KilnError) as refused:
        create(service, url=url)
    assert refused.value.code.value == "VALIDATION_ERROR" and set(fields_of(refused.value)) == {"url"}
    assert store.webhooks == {}


def test_another_workspace_sees_a_missing_webhook(service) -> None:
    subscription, _ = create(service)
    for action in (
        lambda: service.get(OUTSIDER, subscription.id),
        lambda: service.update(OUTSIDER, subscription.id, WebhookChanges(status="disabled")),
        lambda: service.rotate_secret(OUTSIDER, subscription.id),
        lambda: service.delete(OUTSIDER, subscription.id),
        lambda: service.testable(OUTSIDER, subscription.id),
    ):
        with pytest.raises(KilnError) as missing:
            action()
        assert missing.value.code.value == "NOT_FOUND"
    assert service.list_page(OUTSIDER, None, 1, 20) == ([], 0)


def test_admin_reaches_another_workspace_only_by_naming_it(service) -> None:
    subscription, _ = create(service, ADMIN, workspace_id=OTHER_WS)
    assert subscription.workspace_id == OTHER_WS
    assert service.get(OUTSIDER, subscription.id) == subscription
    assert service.get(ADMIN, subscription.id, OTHER_WS) == subscription
    with pytest.raises(KilnError) as forbidden:
        create(service, WRITER, workspace_id=OTHER_WS)
    assert forbidden.value.code.value == "FORBIDDEN"


def test_a_workspace_has_at_most_fifty_webhooks(service) -> None:
    for _ in range(MAX_WEBHOOKS_PER_WORKSPACE):
        create(service)
    with pytest.raises(KilnError) as full:
        create(service)
    assert full.value.code.value == "CONFLICT" and full.value.details["reason"] == "webhook_limit"


# --- changes ---------------------------------------------------------------------------------------


def test_update_changes_only_what_it_names_and_checks_it_like_create(service) -> None:
    subscription, _ = create(service, description="old")
    updated = service.update(WRITER, subscription.id, WebhookChanges(events=("custom.*",)))
    assert updated.events == ("custom.*",) and updated.url == URL and updated.description == "old"
    assert updated.revision == subscription.revision + 1
    with pytest.raises(KilnError) as refused:
        service.update(WRITER, subscription.id, WebhookChanges(url="https://internal.example.com/"))
    assert set(fields_of(refused.value)) == {"url"}
    assert service.get(WRITER, subscription.id) == updated
    cleared = service.update(WRITER, subscription.id, WebhookChanges(description=""))
    assert cleared.description is None


def test_enabling_again_ends_the_failing_streak_and_the_reason(service) -> None:
    subscription, _ = create(service)
    service.record_failing(WS, subscription.id, "2026-11-20T00:00:00.000Z")
    assert service.disable(WS, subscription.id, "failing") is True
    assert service.disable(WS, subscription.id, "gone") is False  # already disabled
    disabled = service.get(WRITER, subscription.id)
    assert (disabled.status, disabled.disabled_reason) == ("disabled", "failing")
    with pytest.raises(KilnError) as conflict:
        service.testable(WRITER, subscription.id)
    assert conflict.value.code.value == "CONFLICT"
    enabled = service.update(WRITER, subscription.id, WebhookChanges(status="enabled"))
    assert (enabled.status, enabled.disabled_reason, enabled.failing_since) == ("enabled", None, None)
    assert service.enabled_for(WS) == [enabled]
    by_user = service.update(WRITER, subscription.id, WebhookChanges(status="disabled"))
    assert by_user.disabled_reason == "user" and service.enabled_for(WS) == []


def test_a_patch_racing_the_delivery_engine_keeps_both_changes(service, store) -> None:
    subscription, _ = create(service)
    store.before("replace_webhook", lambda: store.set_failing_since(WS, subscription.id, "2026-11-25T12:00:00.000Z"))
    updated = service.update(WRITER, subscription.id, WebhookChanges(description="raced"))
    assert updated.description == "raced" and updated.failing_since == "2026-11-25T12:00:00.000Z"


def test_delete_removes_it_and_a_second_delete_is_not_found(service) -> None:
    subscription, _ = create(service)
    service.delete(WRITER, subscription.id)
    with pytest.raises(KilnError) as missing:
        service.delete(WRITER, subscription.id)
    assert missing.value.code.value == "NOT_FOUND"


# --- secrets ---------------------------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_until_the_overlap_ends(service, clock) -> None:
    subscription, first = create(service)
    assert subscription.signing_secrets(clock.now) == (first,)
    rotated, second = service.rotate_secret(WRITER, subscription.id)
    assert second != first and rotated.secret == second
    assert rotated.signing_secrets(clock.now) == (second, first)
    view = webhook_view(rotated, clock.now)
    assert view["previousSecretExpiresAt"] == rotated.previous_secret_expires_at
    assert first not in str(view) and second not in str(view)
    clock.advance(hours=24, seconds=1)
    assert rotated.signing_secrets(clock.now) == (second,)
    assert webhook_view(rotated, clock.now)["previousSecretExpiresAt"] is None


def test_rotating_again_ends_the_earlier_previous_secret_at_once(service, clock) -> None:
    subscription, first = create(service)
    _, second = service.rotate_secret(WRITER, subscription.id)
    again, third = service.rotate_secret(WRITER, subscription.id)
    assert again.signing_secrets(clock.now) == (third, second)
    assert first not in again.signing_secrets(clock.now)


def test_a_test_event_is_new_each_time_and_names_its_webhook(service, clock) -> None:
    subscription, _ = create(service)
    one, two = webhook_test_event(subscription, clock()), webhook_test_event(subscription, clock())
    assert one.id != two.id and one.type == "webhook.test" and one.data["webhookId"] == subscription.id
    assert replace(one, id=two.id).workspace_id == WS

"""The real-time protocol and its ordered fan-out (kiln.domain.live), over the in-memory ports and,
for the store, over kiln.adapters.dynamodb.connections on moto: every message type, the errors
of the catalog, tenancy, and the race between a subscription's backlog and the live fan-out
(no event twice, none out of order, none left behind)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from kiln import config, ids
from kiln.adapters.dynamodb.connections import ConnectionItems
from kiln.adapters.schema import create_connections_table_kwargs
from kiln.domain import live
from kiln.domain.builds import Event, EventType
from kiln.domain.live import Identity, LiveService, ProtocolError
from kiln.envelope import ErrorCode
from kiln.http.api import path_allowed
from tests.fakes import FakeConnections, FakeLiveEvents, FakeOutbox, FakeRunFinder

WS_A = ids.new_id("workspace")
WS_B = ids.new_id("workspace")
RUN = ids.new_id("run")
PROJECT = ids.new_id("project")
KEY_A, KEY_B, KEY_READ_NOTHING, KEY_OTHER_PATHS = "kiln_a", "kiln_b", "kiln_c", "kiln_d"
IDENTITIES = {
    KEY_A: Identity(WS_A, "key_a", frozenset({"project:read"})),
    KEY_B: Identity(WS_B, "key_b", frozenset({"project:read", "admin"})),
    KEY_READ_NOTHING: Identity(WS_A, "key_c", frozenset({"project:write"})),
    KEY_OTHER_PATHS: Identity(WS_A, "key_d", frozenset({"project:read"}), ("/v1/workspaces/**",)),
}


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "fake":
        yield FakeConnections()
        return
    request.getfixturevalue("cloud")
    boto3.client("dynamodb").create_table(**create_connections_table_kwargs(config.connections_table()))
    yield ConnectionItems()


class World:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.outbox = FakeOutbox()
        self.log = FakeLiveEvents()
        self.runs = FakeRunFinder({RUN: (WS_A, PROJECT)})
        self.now = 1_000_000
        self.service = LiveService(self.store, self.outbox, self.runs, self.log, IDENTITIES.get, lambda: self.now)

    def send(self, connection_id: str, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        self.service.receive(connection_id, text, path_allowed)

    def open(self, connection_id: str, key: str | None = KEY_A) -> None:
        assert self.service.connect(connection_id, None)
        if key is not None:
            self.send(connection_id, {"type": "auth", "token": key})

    def last(self, connection_id: str) -> dict[str, Any]:
        return self.outbox.received[connection_id][-1]


@pytest.fixture
def world(store: Any) -> World:
    return World(store)


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"type": "hello"}',
        '{"type": "auth"}',
        '{"type": "auth", "token": "  "}',
        '{"type": "auth", "token": "k", "extra": 1}',
        '{"type": "subscribe"}',
        '{"type": "subscribe", "channel": "project:x"}',
        '{"type": "subscribe", "channel": "run:a:b"}',
        '{"type": "subscribe", "channel": "run:x", "after": -1}',
        '{"type": "subscribe", "channel": "run:x", "after": true}',
        '{"type": "subscribe", "channel": "run:x", "after": 1.5}',
        '{"type": "unsubscribe", "channel": 7}',
        "x" * (live.MAX_CLIENT_MESSAGE_BYTES + 1),
    ],
)
def test_malformed_messages_are_validation_errors(text: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        live.parse(text)
    assert raised.value.code is ErrorCode.VALIDATION_ERROR


def test_messages_parse_to_their_types() -> None:
    assert live.parse('{"type": "auth", "token": " kiln_x "}') == live.Auth("kiln_x")
    assert live.parse('{"type": "subscribe", "channel": "run:r1"}') == live.Subscribe("run:r1", "r1", 0)
    assert live.parse('{"type": "subscribe", "channel": "run:r1", "after": "7"}') == live.Subscribe("run:r1", "r1", 7)
    assert live.parse('{"type": "unsubscribe", "channel": "run:r1"}') == live.Unsubscribe("run:r1", "r1")


def test_an_event_message_carries_the_sse_frame_data() -> None:
    event = Event(id=3, runId=RUN, taskId="t1", eventType=EventType.TASK_STARTED, payload={"a": 1}, createdAt="x")
    assert live.event_message(f"run:{RUN}", event) == {
        "type": "event",
        "channel": f"run:{RUN}",
        "data": {"id": 3, "eventType": "TASK_STARTED", "taskId": "t1", "payload": {"a": 1}, "createdAt": "x"},
    }


# --- authentication ----------------------------------------------------------------------------


def test_auth_then_subscribe_sends_the_backlog_then_live_events(world: World) -> None:
    world.log.append(WS_A, RUN, 3)
    world.open("c1")
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.outbox.types("c1") == ["authenticated", "subscribed", "event", "event", "event"]
    world.log.append(WS_A, RUN, 2)
    world.service.publish(WS_A, [RUN])
    world.service.publish(WS_A, [RUN])  # a retried stream batch sends nothing twice
    assert world.outbox.events("c1") == [1, 2, 3, 4, 5]


def test_subscribe_after_an_event_id_starts_after_it(world: World) -> None:
    world.log.append(WS_A, RUN, 5)
    world.open("c1")
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}", "after": 3})
    assert world.outbox.events("c1") == [4, 5]


def test_subscribing_unauthenticated_is_unauthorized_and_changes_nothing(world: World) -> None:
    world.open("c1", key=None)
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.last("c1")["type"] == "error" and world.last("c1")["code"] == "UNAUTHORIZED"
    assert world.store.subscribers(WS_A, f"run:{RUN}") == []


def test_a_bad_token_is_unauthorized(world: World) -> None:
    world.open("c1", key="kiln_unknown")
    assert world.last("c1") == {"type": "error", "code": "UNAUTHORIZED", "message": world.last("c1")["message"]}
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.last("c1")["code"] == "UNAUTHORIZED"


def test_credentials_on_connect_authenticate_or_refuse_the_upgrade(world: World) -> None:
    assert world.service.connect("c1", KEY_A)
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.last("c1") == {"type": "subscribed", "channel": f"run:{RUN}"}
    assert not world.service.connect("c2", "kiln_unknown")
    assert world.store.get("c2") is None


def test_one_connection_one_caller(world: World) -> None:
    world.open("c1", KEY_A)
    world.send("c1", {"type": "auth", "token": KEY_A})  # the same caller again: fine
    assert world.last("c1") == {"type": "authenticated"}
    world.send("c1", {"type": "auth", "token": KEY_B})
    assert world.last("c1")["code"] == "CONFLICT"
    assert world.store.get("c1").identity.workspace_id == WS_A


# --- tenancy and permissions -------------------------------------------------------------------


def test_another_workspaces_run_is_not_found_and_sends_nothing(world: World) -> None:
    world.log.append(WS_A, RUN, 2)
    world.open("b", KEY_B)
    world.send("b", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.last("b")["code"] == "NOT_FOUND"
    world.log.append(WS_A, RUN, 1)
    world.service.publish(WS_A, [RUN])
    assert world.outbox.events("b") == []
    assert world.store.subscribers(WS_B, f"run:{RUN}") == []


# Fixed ids: pytest-xdist workers must collect the same test names.
@pytest.mark.parametrize("channel", ["run:run_01m9192thn6bwh08xpxfbfrd7z", "run:not-a-run-id"])
def test_a_missing_run_is_not_found(world: World, channel: str) -> None:
    world.open("c1")
    world.send("c1", {"type": "subscribe", "channel": channel})
    assert world.last("c1")["code"] == "NOT_FOUND"


def test_the_scope_and_the_path_allow_list_apply(world: World) -> None:
    world.open("nothing", KEY_READ_NOTHING)
    world.send("nothing", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.last("nothing")["code"] == "FORBIDDEN"
    world.open("paths", KEY_OTHER_PATHS)
    world.send("paths", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.last("paths")["code"] == "NOT_FOUND"  # outside the allow-list: like no run at all
    assert world.store.subscribers(WS_A, f"run:{RUN}") == []


# --- unsubscribe, disconnect, gone -------------------------------------------------------------


def test_unsubscribe_stops_the_events(world: World) -> None:
    world.log.append(WS_A, RUN, 1)
    world.open("c1")
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    world.send("c1", {"type": "unsubscribe", "channel": f"run:{RUN}"})
    assert world.last("c1") == {"type": "unsubscribed", "channel": f"run:{RUN}"}
    world.log.append(WS_A, RUN, 1)
    world.service.publish(WS_A, [RUN])
    assert world.outbox.events("c1") == [1]


def test_subscribing_twice_never_sends_an_event_twice(world: World) -> None:
    world.log.append(WS_A, RUN, 2)
    world.open("c1")
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}", "after": 0})
    assert world.outbox.events("c1") == [1, 2]


def test_disconnect_and_gone_connections_are_forgotten(world: World) -> None:
    world.open("c1")
    world.open("c2")
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    world.send("c2", {"type": "subscribe", "channel": f"run:{RUN}"})
    world.service.disconnect("c1")
    world.service.disconnect("c1")  # API Gateway may repeat it; nothing breaks
    world.outbox.gone.add("c2")  # went away without a $disconnect
    world.log.append(WS_A, RUN, 1)
    world.service.publish(WS_A, [RUN])
    assert world.store.get("c1") is None and world.store.get("c2") is None
    assert world.store.subscribers(WS_A, f"run:{RUN}") == []


# --- ordering: the backlog and the live fan-out race ---------------------------------------------


def test_events_appended_while_the_backlog_is_sent_come_after_it_once(world: World) -> None:
    """The stream consumer runs while the subscribe call is still sending the stored events: it
    finds the subscription held, marks it dirty and leaves; the holder reads again."""
    world.log.append(WS_A, RUN, 3)
    world.open("c1")
    pushed = []

    def consumer_runs_now(connection_id: str, message: dict[str, Any]) -> None:
        if message["type"] == "event" and message["data"]["id"] == 1 and not pushed:
            pushed.append(True)
            world.log.append(WS_A, RUN, 2)
            world.service.publish(WS_A, [RUN])

    world.outbox.on_post = consumer_runs_now
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    assert world.outbox.events("c1") == [1, 2, 3, 4, 5]


def test_an_abandoned_lease_is_taken_over_once_it_expires(world: World) -> None:
    world.open("c1")
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})
    channel = f"run:{RUN}"
    assert world.store.claim(WS_A, channel, "c1", world.now, live.LEASE_MILLISECONDS) == 0  # a drainer that died
    world.log.append(WS_A, RUN, 1)
    world.service.publish(WS_A, [RUN])
    assert world.outbox.events("c1") == []
    world.now += live.LEASE_MILLISECONDS + 1
    world.service.publish(WS_A, [RUN])
    assert world.outbox.events("c1") == [1]


@pytest.fixture
def one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process moto is not thread-safe beyond the item operations local.atomic serializes (its
    request plumbing shares dictionaries), so its requests take turns, as each request to the real
    service is one atomic step; the threads still interleave between requests, which is what the
    lease logic must survive."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def serialized(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialized)


@pytest.mark.usefixtures("one_request_at_a_time")
def test_concurrent_appends_and_fan_outs_deliver_every_event_once_in_order(world: World) -> None:
    world.open("c1")
    world.open("c2")
    world.send("c1", {"type": "subscribe", "channel": f"run:{RUN}"})

    def writer() -> None:
        for _ in range(15):
            world.log.append(WS_A, RUN, 1)
            world.service.publish(WS_A, [RUN])

    threads = [threading.Thread(target=writer) for _ in range(3)]
    threads.append(threading.Thread(target=world.send, args=("c2", {"type": "subscribe", "channel": f"run:{RUN}"})))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.service.publish(WS_A, [RUN])  # the stream hands the last append to the consumer too
    assert world.outbox.events("c1") == list(range(1, 46))
    assert world.outbox.events("c2") == list(range(1, 46))

"""In-memory kiln.domain.live ports: connections and subscriptions with the same conditional
semantics as kiln.adapters.dynamodb.connections (lease, dirty flag, no resurrection), an outbox
that records what each connection received, a run finder, and runs' event logs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiln.domain.builds import Event, EventType
from kiln.domain.live import Connection, Identity, RunLocation


@dataclass
class _Subscription:
    cursor: int
    dirty: bool = True
    lease_until: int | None = None


@dataclass
class FakeConnections:
    connections: dict[str, Connection] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str, str], _Subscription] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, connection_id: str, identity: Identity | None, expires_at: int) -> None:
        with self._lock:
            self.connections[connection_id] = Connection(connection_id, identity)

    def get(self, connection_id: str) -> Connection | None:
        return self.connections.get(connection_id)

    def authenticate(self, connection_id: str, identity: Identity) -> bool:
        with self._lock:
            current = self.connections.get(connection_id)
            if current is None:
                return False
            self.connections[connection_id] = Connection(connection_id, identity, current.channels)
            return True

    def close(self, connection_id: str) -> None:
        with self._lock:
            current = self.connections.pop(connection_id, None)
            if current is not None and current.identity is not None:
                for channel in current.channels:
                    self.subscriptions.pop((current.identity.workspace_id, channel, connection_id), None)

    def subscribe(self, connection_id: str, workspace_id: str, channel: str, cursor: int, expires_at: int) -> bool:
        with self._lock:
            current = self.connections.get(connection_id)
            if current is None:
                return False
            self.connections[connection_id] = Connection(connection_id, current.identity, current.channels | {channel})
            key = (workspace_id, channel, connection_id)
            if key in self.subscriptions:
                return False
            self.subscriptions[key] = _Subscription(cursor)
            return True

    def unsubscribe(self, connection_id: str, workspace_id: str, channel: str) -> None:
        with self._lock:
            self.subscriptions.pop((workspace_id, channel, connection_id), None)
            current = self.connections.get(connection_id)
            if current is not None:
                self.connections[connection_id] = Connection(
                    connection_id, current.identity, current.channels - {channel}
                )

    def subscribers(self, workspace_id: str, channel: str) -> list[str]:
        return [c for (w, ch, c) in list(self.subscriptions) if w == workspace_id and ch == channel]

    def mark_dirty(self, workspace_id: str, channel: str, connection_id: str) -> None:
        with self._lock:
            sub = self.subscriptions.get((workspace_id, channel, connection_id))
            if sub is not None:
                sub.dirty = True

    def claim(self, workspace_id: str, channel: str, connection_id: str, now_ms: int, lease_ms: int) -> int | None:
        with self._lock:
            sub = self.subscriptions.get((workspace_id, channel, connection_id))
            if sub is None or (sub.lease_until is not None and sub.lease_until >= now_ms):
                return None
            sub.lease_until, sub.dirty = now_ms + lease_ms, False
            return sub.cursor

    def release(self, workspace_id: str, channel: str, connection_id: str, cursor: int, *, if_clean: bool) -> bool:
        with self._lock:
            sub = self.subscriptions.get((workspace_id, channel, connection_id))
            if sub is None or (if_clean and sub.dirty):
                return False
            sub.cursor, sub.lease_until = cursor, None
            return True


@dataclass
class FakeOutbox:
    """Records each connection's messages; `gone` connections answer like API Gateway's 410;
    `on_post` runs after a message is recorded (a test's way to act in the middle of a drain)."""

    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    on_post: Callable[[str, dict[str, Any]], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        if connection_id in self.gone:
            return False
        json.dumps(message)  # what is posted must be JSON, as on the wire
        with self._lock:
            self.received.setdefault(connection_id, []).append(message)
        if self.on_post is not None:
            self.on_post(connection_id, message)
        return True

    def events(self, connection_id: str) -> list[int]:
        return [m["data"]["id"] for m in self.received.get(connection_id, []) if m["type"] == "event"]

    def types(self, connection_id: str) -> list[str]:
        return [m["type"] for m in self.received.get(connection_id, [])]


@dataclass
class FakeRunFinder:
    """run id -> (workspace id, project id)."""

    runs: dict[str, tuple[str, str]] = field(default_factory=dict)

    def locate(self, workspace_id: str, run_id: str) -> RunLocation | None:
        found = self.runs.get(run_id)
        if found is None or found[0] != workspace_id:
            return None
        return RunLocation(found[1], run_id)


class FakeLiveEvents:
    """kiln.domain.live.EventReader: a run's append-only, gap-free event log (what
    kiln.adapters.dynamodb.runs.EventStore keeps); `append` writes `count` events at once."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], list[Event]] = {}
        self.lock = threading.Lock()

    def append(self, workspace_id: str, run_id: str, count: int = 1) -> None:
        with self.lock:
            log = self.events.setdefault((workspace_id, run_id), [])
            for _ in range(count):
                log.append(
                    Event(
                        id=len(log) + 1,
                        runId=run_id,
                        eventType=EventType.FILE_CREATED,
                        payload={"path": f"f{len(log) + 1}.py"},
                        createdAt="2026-01-01T00:00:00.000Z",
                    )
                )

    def list(self, workspace_id: str, run_id: str, *, after: int = 0, limit: int = 100) -> list[Event]:
        with self.lock:
            log = list(self.events.get((workspace_id, run_id), []))
        return [e for e in log if e.id > after][:limit]

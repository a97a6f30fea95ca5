"""Real time (CONTRACT section 8): the WebSocket channel protocol and the ordered fan-out. No AWS here.

Client messages, one JSON object per WebSocket message:

    {"type": "auth", "token": "kiln_..."}                      -> {"type": "authenticated"}
    {"type": "subscribe", "channel": "run:<runId>", "after": 7} -> {"type": "subscribed", "channel": ...}
    {"type": "unsubscribe", "channel": "run:<runId>"}          -> {"type": "unsubscribed", "channel": ...}

then `{"type": "event", "channel", "data": {id, eventType, taskId, payload, createdAt}}` for each
of the run's events after `after` (all without it), stored ones first, then live ones, in id
order and none twice (but for a post that failed without an answer, which the retried batch
sends again: clients skip an id they have seen); anything wrong is `{"type": "error", "code", "message"}` with a code of
the error catalog, and changes nothing.

Ordering. Each subscription keeps a cursor, the id of the last event sent to it. Whoever
pushes (the subscribe call for the stored events, the stream consumer for live ones) never
pushes the event it was handed: it *drains* the subscription, reading the run's event log after
the cursor and sending what it finds. Only one drainer at a time holds a subscription (a short
lease, taken by a conditional write); a push that finds the lease taken marks the subscription
`dirty` instead, and the holder, whose release is conditional on `dirty` being unset, reads
again before letting go. So the backlog read and the live fan-out cannot interleave (no event
twice, none out of order), and an event appended while a drain is in flight is never left
behind (no gap). The log is append-only with gap-free ids (kiln.adapters.dynamodb.runs), so
"after the cursor" is exactly what the client has not seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kiln import ids
from kiln.domain.builds import Event
from kiln.envelope import ErrorCode

# API Gateway caps a WebSocket message at 128 KB; ours are far smaller, a client's are a few bytes.
MAX_CLIENT_MESSAGE_BYTES = 4096
# Events read per round of a drain; a drain goes on until it reaches the end of the log.
READ_BATCH = 100
# How long a drain may hold a subscription before another may take it over: far longer than a
# round (a read and a few posts), so it only matters when a drainer died holding it.
LEASE_MILLISECONDS = 30_000
# API Gateway closes a WebSocket after 2 hours; its items outlive it a little (TTL), in case
# $disconnect never came (it is best-effort).
CONNECTION_LIFETIME_SECONDS = 2 * 3600 + 600
# Subscribing reads a run's events: the scope and the path a key's allow-list must let through.
SUBSCRIBE_SCOPE = "project:read"
RUN_CHANNEL = re.compile(r"^run:(?P<run_id>[^:\s]{1,64})$")


# --- identities, connections, subscriptions -----------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who a connection authenticated as: what subscribing needs of the principal."""

    workspace_id: str
    subject: str  # the key id (or the person's id for a token)
    scopes: frozenset[str]
    allowed_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Connection:
    connection_id: str
    identity: Identity | None  # None until an `auth` message (or credentials on $connect)
    channels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunLocation:
    """Where a run lives in its workspace: what the allow-list check needs."""

    project_id: str
    run_id: str

    @property
    def stream_path(self) -> str:
        # A subscription reads what the SSE stream reads; a key's allow-list decides the same way.
        return f"/v1/projects/{self.project_id}/runs/{self.run_id}/events/stream"


class ProtocolError(Exception):
    """A message the server answers with `{"type": "error"}` and otherwise ignores."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Auth:
    token: str


@dataclass(frozen=True)
class Subscribe:
    channel: str
    run_id: str
    after: int


@dataclass(frozen=True)
class Unsubscribe:
    channel: str
    run_id: str


ClientMessage = Auth | Subscribe | Unsubscribe


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.VALIDATION_ERROR, message)


def _channel(value: Any) -> tuple[str, str]:
    if not isinstance(value, str):
        raise _invalid("channel must be a string such as run:<runId>")
    match = RUN_CHANNEL.match(value)
    if match is None:
        raise _invalid("channel must be run:<runId>")
    return value, match["run_id"]


def parse(text: str | bytes | None) -> ClientMessage:
    """One client message; ProtocolError (VALIDATION_ERROR) for anything else, unknown fields included."""
    if text is None or len(text) == 0:
        raise _invalid("a message is a JSON object with a type")
    if len(text) > MAX_CLIENT_MESSAGE_BYTES:
        raise _invalid(f"a message is at most {MAX_CLIENT_MESSAGE_BYTES} bytes")
    try:
        body = json.loads(text)
    except ValueError:
        raise _invalid("a message is a JSON object with a type") from None
    if not isinstance(body, dict):
        raise _invalid("a message is a JSON object with a type")
    kind = body.get("type")
    allowed = {"auth": {"type", "token"}, "subscribe": {"type", "channel", "after"}, "unsubscribe": {"type", "channel"}}
    if kind not in allowed:
        raise _invalid("type must be auth, subscribe or unsubscribe")
    unknown = sorted(set(body) - allowed[kind])
    if unknown:
        raise _invalid(f"unknown field(s) in {kind}: {', '.join(unknown)}")
    if kind == "auth":
        token = body.get("token")
        if not isinstance(token, str) or not token.strip():
            raise _invalid("auth needs a token (an API key or an access token)")
        return Auth(token.strip())
    channel, run_id = _channel(body.get("channel"))
    if kind == "unsubscribe":
        return Unsubscribe(channel, run_id)
    after = body.get("after", 0)
    if isinstance(after, str) and after.isdigit():
        after = int(after)  # an event id as SSE's Last-Event-ID spells it
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise _invalid("after must be an event id (a non-negative integer)")
    return Subscribe(channel, run_id, after)


def authenticated() -> dict[str, Any]:
    return {"type": "authenticated"}


def subscribed(channel: str) -> dict[str, Any]:
    return {"type": "subscribed", "channel": channel}


def unsubscribed(channel: str) -> dict[str, Any]:
    return {"type": "unsubscribed", "channel": channel}


def error(code: ErrorCode, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code.value, "message": message}


def event_message(channel: str, event: Event) -> dict[str, Any]:
    """The same data an SSE frame of the run's stream carries, minus the run id the channel names."""
    data = event.model_dump(mode="json", include={"id", "eventType", "taskId", "payload", "createdAt"})
    return {"type": "event", "channel": channel, "data": data}


def run_channel(run_id: str) -> str:
    return f"run:{run_id}"


# --- ports ------------------------------------------------------------------------------------


class Outbox(Protocol):
    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        """Send one message; False when the connection is gone (the caller forgets it)."""
        ...


class ConnectionStore(Protocol):
    def open(self, connection_id: str, identity: Identity | None, expires_at: int) -> None: ...

    def get(self, connection_id: str) -> Connection | None: ...

    def authenticate(self, connection_id: str, identity: Identity) -> bool:
        """Record the identity; False when the connection is unknown (closed meanwhile)."""
        ...

    def close(self, connection_id: str) -> None:
        """Forget the connection and every subscription it holds (a repeated close is harmless)."""
        ...

    def subscribe(self, connection_id: str, workspace_id: str, channel: str, cursor: int, expires_at: int) -> bool:
        """Create the subscription at `cursor`; False when it already exists (left as it is)."""
        ...

    def unsubscribe(self, connection_id: str, workspace_id: str, channel: str) -> None: ...

    def subscribers(self, workspace_id: str, channel: str) -> list[str]:
        """The connections subscribed to a workspace's channel (one Query; no other workspace's)."""
        ...

    def mark_dirty(self, workspace_id: str, channel: str, connection_id: str) -> None: ...

    def claim(self, workspace_id: str, channel: str, connection_id: str, now_ms: int, lease_ms: int) -> int | None:
        """Take the subscription's lease (free or expired) and clear `dirty`: its cursor, or None."""
        ...

    def release(self, workspace_id: str, channel: str, connection_id: str, cursor: int, *, if_clean: bool) -> bool:
        """Store the cursor and give the lease back; with `if_clean`, only if nobody marked it dirty."""
        ...


class RunFinder(Protocol):
    def locate(self, workspace_id: str, run_id: str) -> RunLocation | None: ...


class EventReader(Protocol):
    def list(self, workspace_id: str, run_id: str, *, after: int = 0, limit: int = 100) -> list[Event]: ...


Authenticator = Callable[[str], Identity | None]  # a bearer credential -> who, or None
PathAllowed = Callable[[str, tuple[str, ...]], bool]  # the REST pipeline's allow-list rule


# --- the service ------------------------------------------------------------------------------


class LiveService:
    def __init__(
        self,
        connections: ConnectionStore,
        outbox: Outbox,
        runs: RunFinder,
        events: EventReader,
        authenticate: Authenticator,
        now_ms: Callable[[], int],
    ) -> None:
        self._connections = connections
        self._outbox = outbox
        self._runs = runs
        self._events = events
        self._authenticate = authenticate
        self._now_ms = now_ms

    # --- the three WebSocket routes -------------------------------------------------------------

    def connect(self, connection_id: str, token: str | None) -> bool:
        """$connect: record the connection, authenticated already if it brought credentials.
        False (refuse the upgrade) when it brought credentials that do not authenticate."""
        identity = None
        if token is not None:
            identity = self._authenticate(token)
            if identity is None:
                return False
        self._connections.open(connection_id, identity, self._expiry())
        return True

    def disconnect(self, connection_id: str) -> None:
        self._connections.close(connection_id)

    def receive(self, connection_id: str, text: str | bytes | None, path_allowed: PathAllowed) -> None:
        """$default: one client message, answered on the connection."""
        try:
            message = parse(text)
            if isinstance(message, Auth):
                self._auth(connection_id, message)
            elif isinstance(message, Subscribe):
                self._subscribe(connection_id, message, path_allowed)
            else:
                self._unsubscribe(connection_id, message)
        except ProtocolError as refused:
            self._post(connection_id, error(refused.code, refused.message))

    def _auth(self, connection_id: str, message: Auth) -> None:
        identity = self._authenticate(message.token)
        if identity is None:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "The token is missing, malformed, expired or revoked.")
        current = self._connections.get(connection_id)
        if current is not None and current.identity is not None and current.identity != identity:
            # Subscriptions were checked against the first identity: one connection, one caller.
            raise ProtocolError(ErrorCode.CONFLICT, "This connection is authenticated already; open another one.")
        if not self._connections.authenticate(connection_id, identity):
            return  # closed meanwhile: nobody to answer
        self._post(connection_id, authenticated())

    def _identity(self, connection_id: str) -> tuple[Connection, Identity]:
        connection = self._connections.get(connection_id)
        if connection is None or connection.identity is None:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, 'Authenticate first: {"type": "auth", "token": "..."}.')
        return connection, connection.identity

    def _subscribe(self, connection_id: str, message: Subscribe, path_allowed: PathAllowed) -> None:
        _, identity = self._identity(connection_id)
        # Another workspace's run, a malformed id, or a path outside the key's allow-list all
        # look like a run that does not exist, as on the REST API.
        location = (
            self._runs.locate(identity.workspace_id, message.run_id) if ids.is_valid("run", message.run_id) else None
        )
        if location is None or not path_allowed(location.stream_path, identity.allowed_paths):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"Run {message.run_id} not found.")
        if SUBSCRIBE_SCOPE not in identity.scopes:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"Subscribing needs the {SUBSCRIBE_SCOPE} scope.")
        # `subscribed` goes out before the subscription exists, so no event can precede it.
        if not self._post(connection_id, subscribed(message.channel)):
            return
        # A repeated subscribe keeps the cursor it has: what was sent is never sent again.
        self._connections.subscribe(
            connection_id, identity.workspace_id, message.channel, message.after, self._expiry()
        )
        self.drain(identity.workspace_id, message.channel, message.run_id, connection_id)

    def _unsubscribe(self, connection_id: str, message: Unsubscribe) -> None:
        _, identity = self._identity(connection_id)
        self._connections.unsubscribe(connection_id, identity.workspace_id, message.channel)
        self._post(connection_id, unsubscribed(message.channel))

    # --- the fan-out ------------------------------------------------------------------------------

    def publish(self, workspace_id: str, run_ids: Iterable[str]) -> None:
        """New events were appended to these runs of a workspace: bring every subscriber up to date."""
        for run_id in dict.fromkeys(run_ids):
            channel = run_channel(run_id)
            for connection_id in self._connections.subscribers(workspace_id, channel):
                self._connections.mark_dirty(workspace_id, channel, connection_id)
                self.drain(workspace_id, channel, run_id, connection_id)

    def drain(self, workspace_id: str, channel: str, run_id: str, connection_id: str) -> None:
        """Send a subscription every event after its cursor, in order, unless another drain holds
        it (that one will see `dirty` and read again)."""
        while True:
            cursor = self._connections.claim(workspace_id, channel, connection_id, self._now_ms(), LEASE_MILLISECONDS)
            if cursor is None:
                return
            sent = cursor
            try:
                while True:
                    batch = self._events.list(workspace_id, run_id, after=sent, limit=READ_BATCH)
                    for event in batch:
                        if not self._post(connection_id, event_message(channel, event)):
                            return  # gone: _post forgot the connection and its subscriptions
                        sent = event.id
                    if len(batch) < READ_BATCH:
                        break
            except BaseException:
                # Whatever was sent stays sent; the lease goes back so the next push retries.
                self._connections.release(workspace_id, channel, connection_id, sent, if_clean=False)
                raise
            if self._connections.release(workspace_id, channel, connection_id, sent, if_clean=True):
                return
            # Marked dirty while we read: events may have arrived after our last read.
            self._connections.release(workspace_id, channel, connection_id, sent, if_clean=False)

    # --- helpers ------------------------------------------------------------------------------

    def _post(self, connection_id: str, message: dict[str, Any]) -> bool:
        if self._outbox.post(connection_id, message):
            return True
        self._connections.close(connection_id)  # $disconnect is best-effort: a 410 is final
        return False

    def _expiry(self) -> int:
        return self._now_ms() // 1000 + CONNECTION_LIFETIME_SECONDS

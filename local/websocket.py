"""The WebSocket API of the local cloud, on the REST gateway's own port (ws://127.0.0.1:3001/ws).

What API Gateway's WebSocket API does around Kiln's three functions (kiln.websocket_routes):
the upgrade runs `$connect` (a non-200 answer refuses it with that status), each client
message runs `$default`, the end of the connection runs `$disconnect`; the functions get the
same proxy events and run in-process through local/lambda_runtime, like the REST handlers.
Functions answer clients through the management API, served here too: `POST|GET|DELETE
/ws/@connections/{connectionId}`, so kiln.adapters.apigateway_management's boto3 client talks
to this server exactly as it talks to `https://<api>.execute-api.../<stage>` when deployed,
410 GoneException for a connection that is gone included (moto's management API never says 410).

The WebSocket protocol itself is the `websockets` package's Sans-I/O layer (handshake, framing,
ping/pong, close), driven over the socket werkzeug accepted: werkzeug parses the upgrade request
and this module takes the connection over, so one port and one server serve both APIs. Only
loopback callers may use the management API: it writes to every open connection.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from kiln.websocket_routes import LOCAL_PATH, socket_route
from local import lambda_runtime
from local.constants import ACCOUNT_ID, STAGE, function_name

# API Gateway's limits: 128 KB per message, 10 minutes idle, 2 hours per connection.
MAX_MESSAGE_BYTES = 128 * 1024
IDLE_SECONDS = 600
MAX_CONNECTION_SECONDS = 2 * 3600
HANDLER_TIMEOUT_SECONDS = 29
MANAGEMENT_PREFIX = f"{LOCAL_PATH}/@connections/"
_READ_BYTES = 65536

Invoke = Callable[..., lambda_runtime.InvocationResult]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Session:
    """One open WebSocket: its socket and protocol state; sends from any thread, one at a time."""

    def __init__(self, connection_id: str, sock: Any, protocol: ServerProtocol, source_ip: str) -> None:
        self.connection_id = connection_id
        self.sock = sock
        self.protocol = protocol
        self.source_ip = source_ip
        self.connected_at = time.time()
        self.last_active_at = self.connected_at
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.sock.sendall(chunk)
            else:  # the protocol asks for the write half to close
                try:
                    self.sock.shutdown(1)
                except OSError:
                    pass

    def send_text(self, data: bytes) -> bool:
        with self._lock:
            if self.protocol.state is not State.OPEN:
                return False
            self.protocol.send_text(data)
            try:
                self._write()
            except OSError:
                return False
        return True

    def close(self, code: int = 1001, reason: str = "") -> None:
        with self._lock:
            if self.protocol.state is State.OPEN:
                self.protocol.send_close(code, reason)
                try:
                    self._write()
                except OSError:
                    pass


class LocalSockets:
    """The WebSocket API (upgrades at /ws) and its management API (/ws/@connections/{id})."""

    def __init__(
        self,
        api_id: str = "local-ws",
        invoke: Invoke = lambda_runtime.invoke,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.api_id = api_id
        self.invoke = invoke
        self.log = log if log is not None else (lambda line: print(line, file=sys.stderr))
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    # --- the upgrade and the connection's life --------------------------------------------------

    @staticmethod
    def is_upgrade(path: str, headers: Any) -> bool:
        return path.split("?", 1)[0] == LOCAL_PATH and "websocket" in str(headers.get("Upgrade", "")).lower()

    def serve(self, handler: Any) -> None:
        """Take over a werkzeug request handler whose request is a WebSocket upgrade; returns when it ends."""
        handler.close_connection = True
        source_ip = handler.client_address[0] if handler.client_address else "127.0.0.1"
        raw_headers = [(name, value) for name, value in handler.headers.items()]
        protocol = ServerProtocol(max_size=MAX_MESSAGE_BYTES)
        # werkzeug has read the request already: hand the protocol the same bytes, so its parser
        # moves past the handshake exactly as if it had read them itself.
        head = "".join(f"{name}: {value}\r\n" for name, value in raw_headers)
        protocol.receive_data(handler.raw_requestline + head.encode("latin-1") + b"\r\n")
        request = next((e for e in protocol.events_received() if isinstance(e, Request)), None)
        if request is None:
            handler.send_error(400)
            return
        response = protocol.accept(request)
        connection_id = base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()
        session = _Session(connection_id, handler.connection, protocol, source_ip)
        if response.status_code == 101:
            query = handler.path.partition("?")[2]
            event = self._event("$connect", "CONNECT", session, headers=raw_headers, query=query)
            answer = self._run(event)
            status = answer.get("statusCode") if isinstance(answer, dict) else 500
            if status != 200:
                body = answer.get("body") if isinstance(answer, dict) else None
                response = protocol.reject(status if isinstance(status, int) else 500, str(body or "Forbidden"))
        protocol.send_response(response)
        session.flush()
        if response.status_code != 101:
            self.log(f"[websocket] upgrade refused with {response.status_code}")
            return
        with self._lock:
            self._sessions[connection_id] = session
        self.log(f"[websocket] {connection_id} connected")
        try:
            self._receive(handler, session)
        finally:
            with self._lock:
                self._sessions.pop(connection_id, None)
            self._run(self._event("$disconnect", "DISCONNECT", session))
            self.log(f"[websocket] {connection_id} disconnected")

    def _receive(self, handler: Any, session: _Session) -> None:
        handler.connection.settimeout(IDLE_SECONDS)
        message: list[bytes] = []
        while session.protocol.state is not State.CLOSED:
            if time.time() - session.connected_at > MAX_CONNECTION_SECONDS:
                session.close(1001, "Going away")
            try:
                data = handler.rfile.read1(_READ_BYTES)
            except (OSError, ValueError):
                data = b""
            if data:
                session.protocol.receive_data(data)
            else:
                session.protocol.receive_eof()
            for frame in session.protocol.events_received():
                if not isinstance(frame, Frame):
                    continue
                if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                    message = [bytes(frame.data)]
                elif frame.opcode is Opcode.CONT:
                    message.append(bytes(frame.data))
                else:
                    continue  # ping, pong and close are the protocol's own business
                if frame.fin:
                    session.last_active_at = time.time()
                    body = b"".join(message)
                    message = []
                    self._run(self._event("$default", "MESSAGE", session, body=body))
            session.flush()  # pongs and the close handshake
            if not data:
                break

    # --- invoking the functions -----------------------------------------------------------------

    def _event(
        self,
        route_key: str,
        event_type: str,
        session: _Session,
        *,
        headers: list[tuple[str, str]] | None = None,
        query: str = "",
        body: bytes | None = None,
    ) -> dict[str, Any]:
        """The WebSocket API's Lambda proxy event."""
        now = time.time()
        context: dict[str, Any] = {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": int(session.connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "requestTime": formatdate(now, usegmt=True),
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "identity": {"sourceIp": session.source_ip},
            "domainName": "127.0.0.1",
            "connectionId": session.connection_id,
            "apiId": self.api_id,
            "accountId": ACCOUNT_ID,
        }
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
        if headers is not None:
            single: dict[str, str] = {}
            multi: dict[str, list[str]] = {}
            for name, value in headers:
                single[name] = value
                multi.setdefault(name, []).append(value)
            event["headers"], event["multiValueHeaders"] = single, multi
            pairs = parse_qsl(query, keep_blank_values=True)
            if pairs:
                event["queryStringParameters"] = dict(pairs)
                event["multiValueQueryStringParameters"] = {k: [v for n, v in pairs if n == k] for k, _ in pairs}
        if body is not None:
            context["messageId"] = secrets.token_urlsafe(12)
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        return event

    def _run(self, event: dict[str, Any]) -> Any:
        route = socket_route(event["requestContext"]["routeKey"])
        name = function_name(route.handler)
        result = self.invoke(route.handler_ref, event, name, timeout_seconds=HANDLER_TIMEOUT_SECONDS)
        if not result.ok:
            lambda_runtime.log_failure(name, result)
            return {"statusCode": 500}
        return result.payload

    # --- the management API ---------------------------------------------------------------------

    def post(self, connection_id: str, data: bytes) -> bool:
        """PostToConnection; False when the connection is gone (API Gateway's 410)."""
        with self._lock:
            session = self._sessions.get(connection_id)
        return session is not None and session.send_text(data)

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
        for session in sessions:
            session.close()

    def wsgi(self, app: WSGIApp) -> WSGIApp:
        """`app`, with the management API answered in front of it."""

        def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path.startswith(MANAGEMENT_PREFIX):
                return self._management(environ, path.removeprefix(MANAGEMENT_PREFIX), start_response)
            return app(environ, start_response)

        return dispatch

    def _management(
        self, environ: dict[str, Any], connection_id: str, start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if not _loopback(environ.get("REMOTE_ADDR", "")):
            return _answer(start_response, 403, "ForbiddenException", "Forbidden")
        with self._lock:
            session = self._sessions.get(connection_id)
        if session is None:
            return _answer(start_response, 410, "GoneException", None)
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            data = environ["wsgi.input"].read(length) if length else b""
            if len(data) > MAX_MESSAGE_BYTES:
                return _answer(start_response, 413, "PayloadTooLargeException", "Message too long")
            if not session.send_text(data):
                return _answer(start_response, 410, "GoneException", None)
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        if method == "GET":
            body = json.dumps(
                {
                    "connectedAt": _iso(session.connected_at),
                    "lastActiveAt": _iso(session.last_active_at),
                    "identity": {"sourceIp": session.source_ip},
                }
            ).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if method == "DELETE":
            session.close(1000, "")
            start_response("204 No Content", [])
            return [b""]
        return _answer(start_response, 405, "MethodNotAllowedException", "Method not allowed")


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def _answer(start_response: Callable[..., Any], status: int, error_type: str, message: str | None) -> Iterable[bytes]:
    body = json.dumps({"message": message}).encode()
    reasons = {403: "Forbidden", 405: "Method Not Allowed", 410: "Gone", 413: "Payload Too Large"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type), ("Content-Length", str(len(body)))],
    )
    return [body]

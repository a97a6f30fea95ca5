"""The local cloud's WebSocket API (local/websocket.py) on the gateway's port, with recorded
functions: the upgrade runs $connect (a refusal is the upgrade's status), messages run $default,
the end runs $disconnect; the management API answers boto3's apigatewaymanagementapi client
(kiln.adapters.apigateway_management) as API Gateway does, 410 GoneException included."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from kiln.adapters.apigateway_management import ConnectionOutbox
from local import lambda_runtime
from local.gateway import GatewayServer
from local.websocket import LocalSockets


class Functions:
    """Stands in for the three handlers: records each event, answers $connect as told."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.connect_status = 200
        self.lock = threading.Lock()

    def __call__(self, handler_ref: str, event: dict[str, Any], name: str, **_: Any) -> lambda_runtime.InvocationResult:
        with self.lock:
            self.events.append(event)
        status = self.connect_status if event["requestContext"]["routeKey"] == "$connect" else 200
        return lambda_runtime.InvocationResult({"statusCode": status})

    def routes(self) -> list[str]:
        return [e["requestContext"]["routeKey"] for e in self.events]

    def wait_for(self, route_key: str, timeout: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if e["requestContext"]["routeKey"] == route_key]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no {route_key} in {self.routes()}")


@pytest.fixture
def functions() -> Functions:
    return Functions()


@pytest.fixture
def server(functions: Functions) -> Iterator[GatewayServer]:
    def rest(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"rest"]

    server = GatewayServer(rest, port=0, sockets=LocalSockets(invoke=functions, log=lambda line: None))
    server.start()
    yield server
    server.stop()


def test_a_connection_runs_the_three_routes(server: GatewayServer, functions: Functions) -> None:
    url = f"ws://127.0.0.1:{server.port}/ws?token=kiln_abc"
    with connect(url, additional_headers={"Authorization": "Bearer kiln_xyz"}) as ws:
        opened = functions.wait_for("$connect")
        context = opened["requestContext"]
        assert context["eventType"] == "CONNECT" and context["connectionId"]
        assert opened["queryStringParameters"] == {"token": "kiln_abc"}
        assert opened["headers"]["Authorization"] == "Bearer kiln_xyz"
        ws.send(json.dumps({"type": "auth", "token": "kiln_abc"}))
        message = functions.wait_for("$default")
        assert message["body"] == '{"type": "auth", "token": "kiln_abc"}'
        assert message["requestContext"]["connectionId"] == context["connectionId"]
        assert message["requestContext"]["eventType"] == "MESSAGE"
    closed = functions.wait_for("$disconnect")
    assert closed["requestContext"]["connectionId"] == context["connectionId"]
    assert functions.routes() == ["$connect", "$default", "$disconnect"]


def test_a_refused_connect_refuses_the_upgrade(server: GatewayServer, functions: Functions) -> None:
    functions.connect_status = 401
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{server.port}/ws?token=bad")
    assert refused.value.response.status_code == 401
    assert functions.routes() == ["$connect"]  # never connected: no $disconnect either


def test_the_management_api_posts_to_a_connection_and_says_gone_after(
    server: GatewayServer, functions: Functions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Lambda's environment gives every function (the local server ignores the signature).
    for name, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
    ):
        monkeypatch.setenv(name, value)
    outbox = ConnectionOutbox(f"http://127.0.0.1:{server.port}/ws")
    with connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        connection_id = functions.wait_for("$connect")["requestContext"]["connectionId"]
        assert outbox.post(connection_id, {"type": "authenticated"})
        assert json.loads(ws.recv(timeout=5)) == {"type": "authenticated"}
    functions.wait_for("$disconnect")
    assert outbox.post(connection_id, {"type": "authenticated"}) is False  # GoneException, 410
    assert outbox.post("never-existed", {"type": "x"}) is False


def test_the_rest_api_still_answers_on_the_same_port(server: GatewayServer) -> None:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/ws") as answer:  # no upgrade: plain HTTP
        assert answer.read() == b"rest"


def test_only_loopback_callers_reach_the_management_api() -> None:
    sockets = LocalSockets(invoke=Functions(), log=lambda line: None)
    app = sockets.wsgi(lambda environ, start_response: [])
    statuses: list[str] = []
    environ = {
        "PATH_INFO": "/ws/@connections/abc",
        "REQUEST_METHOD": "POST",
        "REMOTE_ADDR": "192.0.2.7",
        "CONTENT_LENGTH": "2",
        "wsgi.input": io.BytesIO(b"{}"),
    }
    app(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["403 Forbidden"]

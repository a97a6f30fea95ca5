"""Kiln's MCP server over streamable HTTP, for a host that is not ASGI (the local cloud's
werkzeug gateway): stateless, answering JSON rather than an SSE stream, as on Lambda (which
cannot stream a Python function's response). Each request is handed to the SDK's own ASGI app
on a private event loop; the caller's bearer credential reaches the tools through the request
headers (kiln_client.mcp_server)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import MutableMapping
from concurrent.futures import Future
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings

from kiln_client.mcp_server import build_server

Message = MutableMapping[str, Any]
REQUEST_TIMEOUT_SECONDS = 300.0


class McpHttp:
    """`handle(method, path, query, headers, body) -> (status, headers, body)`; `close()` stops it."""

    def __init__(self, base_url: str, *, path: str = "/mcp", read_only: bool = False) -> None:
        # The SDK logs every stateless session at INFO: noise in the gateway's log.
        logging.getLogger("mcp").setLevel(logging.WARNING)
        server = build_server(None, base_url, read_only=read_only)
        self._app = server.streamable_http_app(
            streamable_http_path=path,
            stateless_http=True,
            json_response=True,
            # The host in front (the gateway) decides who may call; it serves 127.0.0.1 only.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        started: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="mcp-http", daemon=True)
        self._thread.start()
        started.result(timeout=30)

    def _run(self, started: Future[None]) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve(started))

    async def _serve(self, started: Future[None]) -> None:
        # The app's lifespan runs the SDK's session manager, which every request needs.
        async with self._app.router.lifespan_context(self._app):
            started.set_result(None)
            await self._stopping.wait()

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout=5)

    def handle(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        future = asyncio.run_coroutine_threadsafe(self._call(method, path, query, headers, body), self._loop)
        return future.result(timeout=REQUEST_TIMEOUT_SECONDS)

    async def _call(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 0),
        }
        sent = asyncio.Event()
        delivered = False
        status = 500
        answer_headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await sent.wait()  # the client "disconnects" once the whole answer was sent
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                answer_headers.extend((k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"])
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    sent.set()

        await self._app(scope, receive, send)
        return status, answer_headers, b"".join(chunks)

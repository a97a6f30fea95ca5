"""Bare POST /mcp: the MCP SDK's own stateless JSON server with one tool, answering the request
through the SDK's ASGI app on an event loop, as Kiln's does. What any MCP server built on this
SDK pays (its import is most of it), without Kiln's tools, checks or client library."""

import asyncio
import base64
import logging

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

_app = None


def _build():
    logging.getLogger("mcp").setLevel(logging.WARNING)  # as Kiln's: no INFO line per stateless session
    server = MCPServer("bare")

    @server.tool()
    def echo(text: str) -> str:
        """Answer the text given."""
        return text

    return server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )


async def _call(app, headers, body):
    answer = {"status": 500, "headers": [], "body": b""}
    sent = asyncio.Event()
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await sent.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = int(message["status"])
            answer["headers"] = [(k.decode(), v.decode()) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")
            if not message.get("more_body", False):
                sent.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items() if isinstance(v, str)],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    return answer


def handler(event, context=None):
    global _app
    if _app is None:
        _app = _build()
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    answer = asyncio.run(_call(_app, event.get("headers") or {}, raw))
    return {
        "statusCode": answer["status"],
        "headers": dict(answer["headers"]),
        "body": answer["body"].decode(),
        "isBase64Encoded": False,
    }

"""A scripted chat-completions endpoint on 127.0.0.1, for the openai-compatible generator's tests.

It answers the replies queued with `reply` (and its shortcuts) in order and records every
request it receives: the path, the headers and the JSON body, so tests assert what went over
the wire. A request with nothing left to answer gets a 500 and is recorded as unscripted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "llama3.1:8b-instruct"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is, instead of body as JSON
    before: Callable[[], None] | None = None  # runs before answering (a delay, a clock moving on)


def completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 800, "total_tokens": 2000},
    }


class FakeChatCompletions:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.unscripted = 0
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with fake._lock:
                    fake.requests.append(Received(self.path, dict(self.headers.items()), json.loads(raw or b"{}")))
                    reply = fake._replies.pop(0) if fake._replies else None
                    if reply is None:
                        fake.unscripted += 1
                if reply is None:
                    reply = Reply(500, {"error": {"message": "unscripted request"}})
                if reply.before is not None:
                    reply.before()
                payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def pending(self) -> int:
        return len(self._replies)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- scripting ----------------------------------------------------------------------------

    def reply(self, reply: Reply) -> None:
        with self._lock:
            self._replies.append(reply)

    def tool_answer(
        self,
        tool: str,
        payload: Any,
        *,
        finish: str = "tool_calls",
        call_id: str = "call_1",
        as_text: bool = True,
        before: Callable[[], None] | None = None,
    ) -> None:
        """The model calls `tool` with `payload` (as a JSON string, as OpenAI sends it, unless not as_text)."""
        arguments = json.dumps(payload) if as_text else payload
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": tool, "arguments": arguments}}],
        }
        self.reply(Reply(body=completion(message, finish), before=before))

    def text_answer(self, content: str | None, *, finish: str = "stop", refusal: str | None = None) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if refusal is not None:
            message["refusal"] = refusal
        self.reply(Reply(body=completion(message, finish)))

    def error(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.reply(
            Reply(status, body if body is not None else {"error": {"message": f"status {status}"}}, headers or {})
        )

"""The SSE follower (resume with Last-Event-ID, stop on 204 or a terminal event) and where
credentials come from."""

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest

from kiln_client import ConfigurationError, Kiln
from kiln_client._config import config_path, resolve, write_config
from kiln_client.sse import parse


def frame(event_id: int, event_type: str) -> str:
    data = {"id": event_id, "runId": "run_1", "eventType": event_type, "payload": {}, "createdAt": "2026-01-01T00:00Z"}
    return f"id: {event_id}\nevent: {event_type}\ndata: {json.dumps(data)}\n\n"


def test_the_follower_resumes_from_the_last_id_until_the_stream_answers_204() -> None:
    resumed: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        resumed.append(request.headers.get("Last-Event-ID"))
        if len(resumed) == 1:
            return httpx.Response(200, text="retry: 1000\n\n" + frame(1, "RUN_STARTED") + frame(2, "TASK_STARTED"))
        if len(resumed) == 2:
            return httpx.Response(200, text=": keep-alive\n\n" + frame(3, "TASK_COMPLETED"))
        return httpx.Response(204)

    kiln = Kiln("kiln_test", "http://kiln.test", transport=httpx.MockTransport(handler), sleep=lambda s: None)
    events = list(kiln.follow("proj_1", "run_1"))
    assert [e.id for e in events] == [1, 2, 3]
    assert resumed == [None, "2", "3"]


def test_the_follower_stops_at_the_terminal_event_without_another_request() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, text=frame(7, "TASK_COMPLETED") + frame(8, "RUN_COMPLETED"))

    kiln = Kiln("kiln_test", "http://kiln.test", transport=httpx.MockTransport(handler), sleep=lambda s: None)
    assert [e.event_type.value for e in kiln.follow("proj_1", "run_1", last_event_id=6)] == [
        "TASK_COMPLETED",
        "RUN_COMPLETED",
    ]
    assert calls == 1


def test_sse_parsing_joins_data_lines_and_skips_comments() -> None:
    events = list(parse(["id: 4", "event: x", "data: a", "data: b", "", ": comment", "", "data: tail"]))
    assert [(e.id, e.event, e.data) for e in events] == [("4", "x", "a\nb"), (None, "message", "tail")]


def test_credentials_come_from_the_argument_then_the_environment_then_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigurationError, match="kiln login"):
        resolve()
    write_config("kiln_stored", "http://stored.test")
    assert resolve() == resolve(None, None)
    assert (resolve().api_key, resolve().base_url) == ("kiln_stored", "http://stored.test")
    monkeypatch.setenv("KILN_API_KEY", "kiln_env")
    monkeypatch.setenv("KILN_BASE_URL", "http://env.test/")
    assert (resolve().api_key, resolve().base_url) == ("kiln_env", "http://env.test")
    assert resolve("kiln_arg", "https://arg.test").api_key == "kiln_arg"
    with pytest.raises(ConfigurationError, match="http"):
        resolve("kiln_arg", "ftp://nope")


def test_the_stored_key_is_readable_by_its_owner_only() -> None:
    path = write_config("kiln_secret", "http://localhost:3001")
    assert path == config_path() and path.parent.name == "kiln"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.chmod(0o644)
    write_config("kiln_secret2", "http://localhost:3001")  # an existing file is tightened again
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

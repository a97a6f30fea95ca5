"""A small Server-Sent Events parser (the WHATWG rules Kiln's stream uses: id, event, data,
retry; comments and unknown fields ignored)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    id: str | None
    event: str
    data: str
    retry: int | None = None


class SSEParser:
    """Fed line by line; `feed` returns the event a blank line completes."""

    def __init__(self) -> None:
        self._id: str | None = None
        self._event = ""
        self._data: list[str] = []
        self._retry: int | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._data and self._id is None:
                return None
            event = ServerSentEvent(self._id, self._event or "message", "\n".join(self._data), self._retry)
            self._id, self._event, self._data, self._retry = None, "", [], None
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            self._id = value
        elif name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


def parse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    parser = SSEParser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event
    tail = parser.feed("")
    if tail is not None:
        yield tail

"""Query parameters shared by the two event endpoints (list and stream)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiln.domain.builds import EventType
from kiln.domain.runs import EventFilter

_TASK_ID = re.compile(r"^task-\d{3}$")
# Event ids are per-run sequence numbers, stored on 10 digits (kiln.adapters.dynamodb.runs).
EVENT_ID = re.compile(r"^[0-9]{1,10}$")
AFTER_FORMATS = "an event id (a non-negative integer) or an ISO-8601 timestamp with a timezone (2025-11-25T10:00:00Z)"


def parse_after(value: str) -> int | datetime:
    """An event id, or an instant (UTC); ValueError when `value` is neither."""
    if EVENT_ID.match(value):
        return int(value)
    try:
        moment = datetime.fromisoformat(value.upper())  # RFC 3339 allows a lowercase t and z
    except ValueError:
        hint = "; in a URL, write + as %2B" if " " in value else ""
        raise ValueError(f"expected {AFTER_FORMATS}{hint}") from None
    if moment.tzinfo is None:
        raise ValueError(f"the timestamp has no timezone; expected {AFTER_FORMATS}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the timestamp is out of range") from None


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    # Only events strictly after this: an event id (what `pagination.nextCursor` gives) or a
    # moment, for a client that knows when it last looked rather than what it saw.
    after: str | None = Field(default=None, max_length=64)
    # One type or several, comma-separated: type=TASK_FAILED,RUN_FAILED
    type: str | None = Field(default=None, max_length=400)
    taskId: str | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100

    @field_validator("after")
    @classmethod
    def _event_id_or_timestamp(cls, value: str | None) -> str | None:
        if value is not None:
            parse_after(value)
        return value

    @field_validator("type")
    @classmethod
    def _known_types(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = [t for t in value.split(",") if t not in EventType.__members__]
            if unknown:
                known = ", ".join(EventType.__members__)
                raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {known}")
        return value

    @field_validator("taskId")
    @classmethod
    def _task_id(cls, value: str | None) -> str | None:
        if value is not None and not _TASK_ID.match(value):
            raise ValueError("not a task id (task-NNN)")
        return value

    def types(self) -> frozenset[EventType] | None:
        return frozenset(EventType(t) for t in self.type.split(",")) if self.type else None

    def position(self) -> int:
        """The event id to read after: `after` when it is an id; 0 for a timestamp, which
        `where()` applies instead."""
        after = parse_after(self.after) if self.after is not None else 0
        return after if isinstance(after, int) else 0

    def where(self) -> EventFilter:
        after = parse_after(self.after) if self.after is not None else None
        return EventFilter(
            types=self.types(), task_id=self.taskId, created_after=after if isinstance(after, datetime) else None
        )

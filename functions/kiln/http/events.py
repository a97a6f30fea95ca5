"""Query parameters shared by the two event endpoints (list and stream)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiln.domain.builds import EventType

_TASK_ID = re.compile(r"^task-\d{3}$")


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    after: Annotated[int, Field(ge=0, le=10**10)] = 0
    # One type or several, comma-separated: type=TASK_FAILED,RUN_FAILED
    type: str | None = Field(default=None, max_length=400)
    taskId: str | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100

    @field_validator("type")
    @classmethod
    def _known_types(cls, value: str | None) -> str | None:
        if value is not None:
            unknown = [t for t in value.split(",") if t not in EventType.__members__]
            if unknown:
                raise ValueError(f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EventType.__members__)}")
        return value

    @field_validator("taskId")
    @classmethod
    def _task_id(cls, value: str | None) -> str | None:
        if value is not None and not _TASK_ID.match(value):
            raise ValueError("not a task id (task-NNN)")
        return value

    def types(self) -> frozenset[EventType] | None:
        return frozenset(EventType(t) for t in self.type.split(",")) if self.type else None

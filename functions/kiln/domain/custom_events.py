"""Custom events: a workspace's own `custom.<name>` events (POST /v1/events). No AWS here.

Emitting one writes one item and nothing else; the table's stream turns the item into the
event (kiln.domain.workspace_events), which the webhook fan-out delivers like any other. So a
custom event is as durable as its write: once POST /v1/events has answered 202, the event
reaches every matching webhook even if the function dies the next moment. The item lives 30
days (TTL), long enough for the stream (24 h) and for anyone reading it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.webhooks import CUSTOM_PREFIX, is_custom_type
from kiln.envelope import ErrorCode, KilnError, validation_error

MAX_DATA_BYTES = 64 * 1024  # `data` as compact JSON (UTF-8): deliveries stay small
RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class CustomEvent:
    id: str
    workspace_id: str
    type: str  # custom.<name>
    data_json: str  # `data`, serialized once: what is stored is what is delivered
    created_at: str
    expires_at_epoch: int


class CustomEventLog(Protocol):
    def put_custom_event(self, event: CustomEvent) -> None:
        """Write the event's item (never overwriting one with the same id)."""
        ...


class CustomEventService:
    def __init__(self, log: CustomEventLog, clock: Clock = utc_now) -> None:
        self._log = log
        self._clock = clock

    def emit(self, workspace_id: str, event_type: str, data: dict[str, Any]) -> CustomEvent:
        if not is_custom_type(event_type):
            raise validation_error(
                [
                    {
                        "field": "type",
                        "location": "body",
                        "message": f"must be {CUSTOM_PREFIX}<name>: a lowercase letter, then up to 63 of a-z 0-9 _ . -",
                        "type": "event_type",
                    }
                ]
            )
        data_json = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        size = len(data_json.encode())
        if size > MAX_DATA_BYTES:
            raise KilnError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"`data` is {size} bytes as JSON; the limit is {MAX_DATA_BYTES}.",
                {"limitBytes": MAX_DATA_BYTES, "receivedBytes": size, "field": "data"},
            )
        moment = self._clock()
        event = CustomEvent(
            id=ids.new_id("event", int(moment.timestamp() * 1000)),
            workspace_id=workspace_id,
            type=event_type,
            data_json=data_json,
            created_at=iso(moment),
            expires_at_epoch=int((moment + RETENTION).timestamp()),
        )
        self._log.put_custom_event(event)
        return event

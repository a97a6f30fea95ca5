"""Custom events in the single table (kiln.domain.custom_events.CustomEventLog).

One item per event, `WS#<ws>` / `CUSTOMEVENT#<eventId>`, with `type` (custom.<name>), `data`
(the JSON text) and `createdAt`; it expires after 30 days (the table's TTL attribute). Its
insert on the table's stream is the event (kiln.domain.workspace_events reads these names).
"""

from __future__ import annotations

from typing import Any

from kiln.adapters.dynamodb.items import put_item, workspace_pk
from kiln.adapters.schema import TTL_ATTRIBUTE
from kiln.domain.custom_events import CustomEvent

PREFIX = "CUSTOMEVENT#"


def custom_event_item(event: CustomEvent) -> dict[str, Any]:
    return {
        "pk": workspace_pk(event.workspace_id),
        "sk": f"{PREFIX}{event.id}",
        "id": event.id,
        "workspaceId": event.workspace_id,
        "type": event.type,
        "data": event.data_json,
        "createdAt": event.created_at,
        TTL_ATTRIBUTE: event.expires_at_epoch,
    }


class CustomEventItems:
    def put_custom_event(self, event: CustomEvent) -> None:
        put_item(custom_event_item(event), only_if_new=True)

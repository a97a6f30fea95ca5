"""POST /v1/events: emit a custom event, `custom.<name>` with a JSON object as `data` (202).

The event is one item written (kiln.domain.custom_events); the table's stream turns it into
the event every matching webhook receives, so 202 means it will be delivered, not that it has
been. `data` is at most 64 KiB as JSON (413 beyond). An Idempotency-Key makes a retried call
emit nothing twice (the pipeline answers the first call's id again).
"""

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from kiln import services
from kiln.domain.projects import Strict
from kiln.domain.webhook_views import EventAccepted
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


class EventCreate(Strict):
    type: Annotated[str, StringConstraints(max_length=128)] = Field(
        description="`custom.` + a name: a lowercase letter, then up to 63 of a-z 0-9 _ . -",
        examples=["custom.deployment_finished"],
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Any JSON object, at most 64 KiB serialized.", examples=[{"env": "prod"}]
    )


def create_event(request: Request, body: EventCreate) -> Response:
    event = services.current().custom_events.emit(request.workspace_id, body.type, body.data)
    return ok(EventAccepted(id=event.id), 202)


handler = endpoint(
    create_event, Contract(body=EventCreate, answers=(Answer(202, "Accepted for delivery.", EventAccepted),))
)

"""GET /v1/projects/{projectId}/runs/{runId}/events?after=&type=&taskId=&limit=

Events in id order. `after` is an event id or an ISO-8601 timestamp (events created strictly
after it); `pagination.nextCursor` is the id to pass as `after` for the next page.
"""

from kiln import services
from kiln.domain.builds import Event
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.events import EventQuery
from kiln.http.request import Request
from kiln.http.response import Response, listed


def list_events(request: Request, query: EventQuery) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    events = services.current().runs.events(
        request.workspace_id, project_id, run_id, after=query.position(), limit=query.limit + 1, where=query.where()
    )
    more = len(events) > query.limit
    page = events[: query.limit]
    return listed(page, {"limit": query.limit, "hasMore": more, "nextCursor": str(page[-1].id) if more else None})


handler = endpoint(
    list_events,
    Contract(
        query=EventQuery,
        answers=(
            Answer(
                200,
                "Events in id order; `pagination.nextCursor` is the `after` of the next page.",
                Event,
                "list",
                "events",
            ),
        ),
    ),
)

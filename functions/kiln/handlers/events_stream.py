"""GET /v1/projects/{projectId}/runs/{runId}/events/stream: Server-Sent Events.

API Gateway (REST) buffers responses, so the stream is a sequence of bounded responses: each
sends what is new after `Last-Event-ID` (or `?after=`), waits up to KILN_SSE_HOLD_SECONDS for
more, and ends; `retry:` tells the client when to reconnect, and EventSource resends the last
id it saw, so a whole run is followed with no gap and no duplicate.

A response that delivers the run's terminal event ends at once (nothing can follow it), and a
request on a finished run with nothing left to show (resumed from the terminal event, or with
filters that match nothing more) answers 204 at once, which tells EventSource to stop.
"""

from __future__ import annotations

import json
import time

from kiln import config, services
from kiln.domain.builds import Event
from kiln.envelope import validation_error
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.events import EVENT_ID, EventQuery
from kiln.http.request import Request
from kiln.http.response import Response

RECONNECT_MILLISECONDS = 1000
POLL_SECONDS = 0.5
# Once something new arrived, wait this much longer for what follows it, then answer.
BATCH_SECONDS = 1.0
READ_LIMIT = 500
HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _frame(event: Event) -> str:
    data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.eventType.value}\ndata: {data}\n\n"


def stream_events(request: Request, query: EventQuery) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    position = query.position()
    resume = request.headers.get("last-event-id")
    if resume is not None:
        if not EVENT_ID.match(resume.strip()):
            raise validation_error(
                [
                    {
                        "field": "Last-Event-ID",
                        "location": "header",
                        "type": "int_parsing",
                        "message": "must be an event id (a non-negative integer)",
                    }
                ]
            )
        position = int(resume.strip())
    # Every event moves the position; the filters only choose what is shown.
    where = query.where()
    runs = services.current().runs
    deadline = time.monotonic() + config.sse_hold_seconds()
    frames: list[str] = []
    first_news: float | None = None
    while True:
        batch = runs.follow(request.workspace_id, project_id, run_id, after=position, limit=READ_LIMIT)
        for event in batch.events:
            position = event.id
            if where.matches(event):
                frames.append(_frame(event))
                first_news = first_news or time.monotonic()
        if batch.ended:
            break  # the run's last event is sent or was before: nothing can follow
        now = time.monotonic()
        if (
            len(frames) >= READ_LIMIT
            or now >= deadline
            or (first_news is not None and now - first_news >= BATCH_SECONDS)
        ):
            break
        if len(batch.events) < READ_LIMIT:  # caught up: wait for news (else read on at once)
            time.sleep(POLL_SECONDS)
    if not frames and (batch.ended or batch.run_finished):
        # A finished run whose terminal event never made it to the log (a failed start whose
        # event write failed too) ends here, after one hold.
        return Response(204, headers={"Cache-Control": "no-cache"})
    body = f"retry: {RECONNECT_MILLISECONDS}\n\n" + "".join(frames)
    if not frames:
        body += ": no new events\n\n"  # a comment keeps proxies from timing the stream out
    return Response(200, headers=HEADERS, text=body, enveloped=False)


handler = endpoint(
    stream_events,
    Contract(
        query=EventQuery,
        headers=("LastEventId",),
        answers=(
            Answer(
                200,
                "A bounded stream of Server-Sent Events: `retry:`, then one `id:`/`event:`/`data:` frame per "
                "event after `Last-Event-ID` (or `after`); `data` is the event as JSON. Reconnect to continue. "
                "A response that carries the run's terminal event ends with it.",
                Event,
                "sse",
                headers=("Cache-Control",),
            ),
            Answer(
                204,
                "The run is finished and nothing is left to send (every event was sent, or none left "
                "matches the filters): stop reconnecting.",
                shape="empty",
                headers=("Cache-Control",),
            ),
        ),
    ),
)

"""GET /v1/projects/{projectId}/runs/{runId}/events/stream: Server-Sent Events.

API Gateway (REST) buffers responses, so the stream is a sequence of bounded responses: each
sends what is new after `Last-Event-ID` (or `?after=`), waits up to KILN_SSE_HOLD_SECONDS for
more, and ends; `retry:` tells the client when to reconnect, and EventSource resends the last
id it saw, so a whole run is followed with no gap and no duplicate. After the run's terminal
event the stream answers 204, which tells EventSource to stop reconnecting.
"""

from __future__ import annotations

import json
import time

from kiln import config, services
from kiln.domain.builds import TERMINAL_EVENTS, Event
from kiln.domain.runs import TERMINAL, RunService
from kiln.envelope import validation_error
from kiln.http.api import endpoint
from kiln.http.events import EventQuery
from kiln.http.request import Request
from kiln.http.response import Response

RECONNECT_MILLISECONDS = 1000
POLL_SECONDS = 0.5
# Once something new arrived, wait this much longer for what follows it, then answer.
BATCH_SECONDS = 1.0
HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
           "X-Accel-Buffering": "no"}


def _frame(event: Event) -> str:
    data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.eventType.value}\ndata: {data}\n\n"


def stream_events(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    query = request.query_as(EventQuery)
    after = query.after
    resume = request.headers.get("last-event-id")
    if resume is not None:
        if not resume.strip().isdigit():
            raise validation_error([{"field": "Last-Event-ID", "location": "header", "type": "int_parsing",
                                     "message": "must be an event id (an integer)"}])
        after = int(resume.strip())
    runs = services.runs()

    def fetch(since: int) -> list[Event]:
        return runs.events(request.workspace_id, project_id, run_id, after=since, limit=500,
                           types=None, task_id=None)

    # Everything counts for the resume position; filters only choose what is shown.
    types, task_id = query.types(), query.taskId
    deadline = time.monotonic() + config.sse_hold_seconds()
    frames: list[str] = [f"retry: {RECONNECT_MILLISECONDS}\n\n"]
    position, first_news, finished = after, None, False
    while True:
        for event in fetch(position):
            position = event.id
            if (types is None or event.eventType in types) and (task_id is None or event.taskId == task_id):
                frames.append(_frame(event))
            first_news = first_news or time.monotonic()
            if event.eventType in TERMINAL_EVENTS:
                finished = True
        now = time.monotonic()
        if finished or now >= deadline or (first_news and now - first_news >= BATCH_SECONDS):
            break
        time.sleep(POLL_SECONDS)
    if position == after and _terminal(runs, request.workspace_id, project_id, run_id):
        return Response(204, headers={"Cache-Control": "no-cache"})
    if position == after:
        frames.append(": no new events\n\n")  # a comment keeps proxies from timing the stream out
    return Response(200, headers=HEADERS, text="".join(frames), enveloped=False)


def _terminal(runs: RunService, workspace_id: str, project_id: str, run_id: str) -> bool:
    return runs.get(workspace_id, project_id, run_id).status in TERMINAL


handler = endpoint(stream_events)

"""(c) AWS API calls per request: which operations each endpoint makes, in-process against moto.

Every botocore API call goes through BaseClient._make_api_call; the bench wraps it and records
`service:Operation` while a request is served. Each endpoint is served twice from a fresh
container (every per-container cache of the runtime forgotten and the handler module reloaded):
the first request pays for what a container caches, the next one shows the steady state.

Round trips on the critical path ("seq"): the next request is served once more with every AWS
call held for LATENCY seconds first (a sleep, which lets other threads run, as a network wait
does), and the longest chain of calls each issued after the previous one returned is counted.
Calls made one after the other add up; calls in flight together (the limiter's checks, a
read-only handler's read) count once. As deployed each round trip is one in-region network exchange
(a few ms for DynamoDB), so this is the request's latency on paper: seq x round trip + CPU.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from tests.bench.report import table
from tests.bench.world import (
    AWS_ENV,
    World,
    archive_event,
    authorizer_event,
    create_event,
    environment,
    get_event,
    health_event,
    item_event,
    list_cursor_event,
    list_page_event,
    new_workspace,
    provision,
    reset_kiln,
    root_event,
    status_of,
    update_event,
)

Event = Callable[[World, dict[str, Any]], dict[str, Any]]  # (world, previous answer) -> event
LATENCY = 0.05  # seconds each AWS call is held for when counting round trips
LARGE_WORKSPACE = 2_000  # projects in the workspace of the second page-mode row (over 1 MB of items)


@dataclass(frozen=True)
class Endpoint:
    label: str
    handler: str  # module name under kiln.handlers
    first: Event
    then: Event  # the next request of the same container
    status: int


def _next_cursor(answer: dict[str, Any]) -> str | None:
    body = json.loads(answer.get("body") or "{}")
    return (body.get("pagination") or {}).get("nextCursor")


def _same(event: Callable[[World], dict[str, Any]]) -> Event:
    return lambda world, _: event(world)


def _archived_again(world: World, answer: dict[str, Any]) -> dict[str, Any]:
    project_id = json.loads(answer["body"])["data"]["id"]
    return item_event("DELETE", world.archive_workspace, project_id)


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST /v1/projects", "projects_create", _same(create_event), _same(create_event), 201),
    Endpoint("GET /v1/projects (page mode)", "projects_list", _same(list_page_event), _same(list_page_event), 200),
    Endpoint(
        "GET /v1/projects (cursor mode)",
        "projects_list",
        lambda w, _: list_cursor_event(w),
        lambda w, answer: list_cursor_event(w, _next_cursor(answer)),
        200,
    ),
    Endpoint("GET /v1/projects/{id}", "projects_get", _same(get_event), _same(get_event), 200),
    Endpoint("PATCH /v1/projects/{id}", "projects_update", _same(update_event), _same(update_event), 200),
    Endpoint("DELETE /v1/projects/{id}", "projects_archive", _same(archive_event), _same(archive_event), 200),
    Endpoint("DELETE /v1/projects/{id} (archived)", "projects_archive", _same(archive_event), _archived_again, 200),
    Endpoint("GET /health", "health", _same(health_event), _same(health_event), 200),
    Endpoint("GET /", "root", _same(root_event), _same(root_event), 200),
    Endpoint("authorizer (REQUEST)", "authorizer", _same(authorizer_event), _same(authorizer_event), 200),
)


@contextmanager
def recording(latency: float = 0.0, spans: list[tuple[float, float]] | None = None) -> Iterator[list[str]]:
    """Every botocore API call made inside the block, on any thread, as `service:Operation`;
    with `latency`, each is held that long first, and that hold's (start, end) appended to `spans`."""
    from botocore.client import BaseClient

    calls: list[str] = []
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        with lock:
            calls.append(f"{self.meta.service_model.service_name}:{operation_name}")
        if not latency:
            return original(self, operation_name, api_params)
        # Only the held time is a span: what the emulator then spends serving the call is CPU
        # of this machine, not a round trip, and would blur which calls were in flight together.
        start = time.perf_counter()
        time.sleep(latency)
        with lock:
            assert spans is not None
            spans.append((start, time.perf_counter()))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _serve(module: Any, event: dict[str, Any], endpoint: Endpoint) -> tuple[dict[str, Any], list[str]]:
    with recording() as calls:
        answer = module.handler(event, None)
    if status_of(answer) != endpoint.status:
        raise RuntimeError(f"calls: {endpoint.label} answered {status_of(answer)}: {answer.get('body')}")
    return answer, calls


def round_trips(spans: list[tuple[float, float]]) -> int:
    """Sequential round trips: the longest chain of calls each started after the one before it
    had returned. Calls in flight together (one started before the other returned) are one round
    trip, however the threads were scheduled within it."""
    chain: list[tuple[float, int]] = []  # (end, length of the longest chain ending with that call)
    for start, end in sorted(spans):
        chain.append((end, 1 + max((n for done, n in chain if done <= start), default=0)))
    return max((n for _, n in chain), default=0)


def _sequential(module: Any, event: dict[str, Any], endpoint: Endpoint) -> int:
    spans: list[tuple[float, float]] = []
    with recording(LATENCY, spans):
        answer = module.handler(event, None)
    if status_of(answer) != endpoint.status:
        raise RuntimeError(f"calls: {endpoint.label} answered {status_of(answer)}: {answer.get('body')}")
    return round_trips(spans)


def _describe(calls: list[str]) -> str:
    if not calls:
        return "(none)"
    counts = Counter(calls)
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in counts.items())


@dataclass
class CallsResult:
    label: str
    first: list[str]
    then: list[str]
    sequential: int = 0  # round trips on the critical path of the next request
    failed: str = ""  # why the endpoint could not be measured


def _large_page(workspace_id: str) -> Endpoint:
    def event(world: World, _: dict[str, Any]) -> dict[str, Any]:
        return list_page_event(replace(world, list_workspace=workspace_id))

    label = f"GET /v1/projects (page mode, {LARGE_WORKSPACE:,} projects)"
    return Endpoint(label, "projects_list", event, event, 200)


def run(large: int = LARGE_WORKSPACE) -> tuple[str, list[CallsResult]]:
    from moto import mock_aws

    results = []
    with environment(AWS_ENV), mock_aws():
        world = provision(archivable=6)
        big = new_workspace(large)
        endpoints = list(ENDPOINTS)
        endpoints.insert(2, _large_page(big))
        for endpoint in endpoints:
            reset_kiln()  # a fresh container: no cached client, service, secret or health answer
            module = importlib.reload(importlib.import_module(f"kiln.handlers.{endpoint.handler}"))
            try:
                answer, first = _serve(module, endpoint.first(world, {}), endpoint)
                answer, then = _serve(module, endpoint.then(world, answer), endpoint)
                sequential = _sequential(module, endpoint.then(world, answer), endpoint)
            except RuntimeError as failure:  # shown in its row; the other endpoints are still measured
                results.append(CallsResult(endpoint.label, [], [], -1, str(failure).splitlines()[0][:100]))
                continue
            results.append(CallsResult(endpoint.label, first, then, sequential))
    return render(results), results


def render(results: list[CallsResult]) -> str:
    rows = [
        [r.label, "-", f"FAILED: {r.failed}", "-", "-", ""]
        if r.failed
        else [r.label, len(r.first), _describe(r.first), len(r.then), r.sequential, _describe(r.then)]
        for r in results
    ]
    headers = ["endpoint", "1st", "first request of a container", "next", "seq", "next request"]
    note = (
        "botocore API calls per request (moto in-process); seq: round trips on the critical path of the\n"
        f"next request (each call held {LATENCY * 1000:.0f} ms; calls in flight together count once). Page mode takes\n"
        "its total from the workspace's counts, so its calls do not grow with the workspace."
    )
    return table("(c) AWS API calls per request", headers, rows, note)

"""(c) AWS API calls per request: which operations each endpoint makes, in-process against moto.

Every botocore API call goes through BaseClient._make_api_call; the bench wraps it and records
`service:Operation` while a request is served. Each endpoint is served twice from a fresh
container (every per-container cache of the runtime forgotten and the handler module reloaded):
the first request pays for what a container caches, the next one shows the steady state.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
    provision,
    reset_kiln,
    root_event,
    status_of,
    update_event,
)

Event = Callable[[World, dict[str, Any]], dict[str, Any]]  # (world, previous answer) -> event


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
def recording() -> Iterator[list[str]]:
    """Every botocore API call made inside the block, as `service:Operation`."""
    from botocore.client import BaseClient

    calls: list[str] = []
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append(f"{self.meta.service_model.service_name}:{operation_name}")
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


def run() -> tuple[str, list[CallsResult]]:
    from moto import mock_aws

    results = []
    with environment(AWS_ENV), mock_aws():
        world = provision(archivable=4)
        for endpoint in ENDPOINTS:
            reset_kiln()  # a fresh container: no cached client, service, secret or health answer
            module = importlib.reload(importlib.import_module(f"kiln.handlers.{endpoint.handler}"))
            answer, first = _serve(module, endpoint.first(world, {}), endpoint)
            _, then = _serve(module, endpoint.then(world, answer), endpoint)
            results.append(CallsResult(endpoint.label, first, then))
    return render(results), results


def render(results: list[CallsResult]) -> str:
    rows = [[r.label, len(r.first), _describe(r.first), len(r.then), _describe(r.then)] for r in results]
    headers = ["endpoint", "1st", "first request of a container", "next", "next request"]
    note = (
        "botocore API calls per request (moto in-process). Page mode reads the workspace's whole project\n"
        "partition to count it: one Query per 1 MB of projects, so its count grows with the workspace."
    )
    return table("(c) AWS API calls per request", headers, rows, note)

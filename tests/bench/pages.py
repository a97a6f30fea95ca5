"""(f) Page mode at two workspace sizes: what one page costs with LIST_SIZE projects and with
LARGE projects in the workspace, served warm in-process against moto.

Per size: the median time of a page-mode request (`GET /v1/projects`, default page of 20),
the AWS calls it makes, its round trips on the critical path (as in calls.py) and the items
DynamoDB reads for it (the Queries' ScannedCount plus one per GetItem), which is what the
service bills and what its latency grows with. moto's Query itself walks the whole partition
whatever the Limit, so the milliseconds here grow a little with the workspace where DynamoDB's
do not; the items read are the figure that carries over.
"""

from __future__ import annotations

import importlib
import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

from tests.bench.calls import LATENCY, recording, round_trips
from tests.bench.report import table
from tests.bench.world import (
    AWS_ENV,
    LIST_SIZE,
    environment,
    list_page_event,
    new_workspace,
    provision,
    reset_kiln,
    status_of,
)

LARGE = 10_000
REQUESTS = 30


@dataclass
class PageResult:
    projects: int
    ms: float
    calls: int
    sequential: int
    items_read: int


def _items_read(module: Any, event: dict[str, Any]) -> tuple[int, int]:
    """(calls, items read) of one request."""
    from botocore.client import BaseClient

    read = 0
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        nonlocal read
        answer = original(self, operation, params)
        read += answer.get("ScannedCount", 0) if operation == "Query" else 1 if operation == "GetItem" else 0
        return answer

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        with recording() as calls:
            module.handler(event, None)
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
    return len(calls), read


def run(large: int = LARGE, requests: int = REQUESTS) -> tuple[str, list[PageResult]]:
    from moto import mock_aws

    results = []
    with environment(AWS_ENV), mock_aws():
        world = provision()
        workspaces = [(LIST_SIZE, world.list_workspace), (large, new_workspace(large))]
        reset_kiln()
        module = importlib.reload(importlib.import_module("kiln.handlers.projects_list"))
        for projects, workspace_id in workspaces:
            event = list_page_event(replace(world, list_workspace=workspace_id))
            answer = module.handler(event, None)
            if status_of(answer) != 200:
                raise RuntimeError(f"pages: {answer.get('body')}")
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                module.handler(event, None)
                timings.append(time.perf_counter() - started)
            calls, read = _items_read(module, event)
            spans: list[tuple[float, float]] = []
            with recording(LATENCY, spans):
                module.handler(event, None)
            results.append(PageResult(projects, statistics.median(timings) * 1e3, calls, round_trips(spans), read))
    return render(results), results


def render(results: list[PageResult]) -> str:
    rows = [[f"{r.projects:,}", r.ms, r.calls, r.sequential, r.items_read] for r in results]
    headers = ["projects in the workspace", "ms per page", "AWS calls", "seq", "items read"]
    note = (
        f"GET /v1/projects (page mode, 20 per page), warm, median of {REQUESTS} in-process against moto. The\n"
        "total comes from the workspace's counts (kiln.adapters.dynamodb.projects): the calls, round trips\n"
        "and items read are the same at both sizes. Before the counts, page mode read the whole partition:\n"
        "one Query per MB of projects, every item read, on every page."
    )
    return table("(f) Page mode at two workspace sizes", headers, rows, note)

"""(b) Warm: per-request time of a handler that is already loaded, ours vs bare.

Both handlers run in this process and their DynamoDB clients get the same stub returning the
same canned answer, at two depths: in place of the client method (botocore does nothing, what
is left is our overhead alone: event parsing, validation, the domain, serialization, the
response) and as a botocore `before-call` handler (botocore still validates and serializes the
request, as with botocore's Stubber). Every call is timed on its own; calls are interleaved in
rounds (ours then bare, bare then ours, ...) so drift of the machine hits both sides alike; the
figure is the median per request.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tests.bench.report import median, ratio, table, times
from tests.bench.world import AWS_ENV, BARE_DIR, KILN_ENV, environment, item_event
from tests.unit.conftest import principal_context, proxy_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
WARM_UP = 200


def _project_item(workspace_id: str, project_id: str, index: int = 0) -> dict[str, Any]:
    """A project exactly as DynamoDB returns it (key attributes and folded copies included)."""
    name, description = f"Project {index}", f"A project management tool, number {index}, with task boards."
    values = {
        "pk": f"WS#{workspace_id}",
        "sk": f"PROJECT#{project_id}",
        "gsi1pk": f"WS#{workspace_id}#PROJECTS#draft",
        "gsi1sk": f"PROJECT#{project_id}",
        "type": "project",
        "workspaceId": workspace_id,
        "id": project_id,
        "name": name,
        "description": description,
        "status": "draft",
        "nameFolded": name.casefold(),
        "descriptionFolded": description.casefold(),
        "createdAt": "2026-01-02T03:04:05.678Z",
        "updatedAt": "2026-01-02T03:04:05.678Z",
    }
    return {k: {"S": v} for k, v in values.items()}


def _counts_item(workspace_id: str, live: int) -> dict[str, Any]:
    """The workspace's page-mode counts as DynamoDB returns them, complete (kiln.adapters.dynamodb.projects)."""
    from kiln.adapters.dynamodb.projects import COUNTS_SK

    return {
        "pk": {"S": f"WS#{workspace_id}"},
        "sk": {"S": COUNTS_SK},
        "type": {"S": "projectCounts"},
        "live": {"N": str(live)},
        "archived": {"N": "0"},
        "complete": {"BOOL": True},
    }


@dataclass
class Case:
    label: str
    ours: Handler
    bare: Handler
    event: dict[str, Any]
    status: int
    same_data: bool  # the two answers must carry the same `data`


@dataclass
class WarmResult:
    label: str
    stub: str  # one of STUB_LEVELS
    ours_us: float
    bare_us: float
    iterations: int

    @property
    def ratio(self) -> float:
        return ratio(self.ours_us, self.bare_us)


def _load_bare(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"kiln_bench_bare_{name}", BARE_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _time(handler: Handler, event: dict[str, Any], count: int, into: list[int]) -> None:
    clock = time.perf_counter_ns
    for _ in range(count):
        start = clock()
        handler(event, None)
        into.append(clock() - start)


def _measure(case: Case, iterations: int, rounds: int, level: str) -> WarmResult:
    ours, bare = _answer(case.ours, case), _answer(case.bare, case)
    if case.same_data and ours.get("data") != bare.get("data"):
        raise RuntimeError(f"warm {case.label}: ours and bare answer different data")
    _time(case.ours, case.event, WARM_UP, [])
    _time(case.bare, case.event, WARM_UP, [])
    per_round = max(1, iterations // rounds)
    ours_ns: list[int] = []
    bare_ns: list[int] = []
    gc.collect()
    for round_ in range(rounds):
        first, second = ((case.ours, ours_ns), (case.bare, bare_ns))[:: 1 if round_ % 2 == 0 else -1]
        _time(first[0], case.event, per_round, first[1])
        _time(second[0], case.event, per_round, second[1])
    return WarmResult(case.label, level, median(ours_ns) / 1e3, median(bare_ns) / 1e3, per_round * rounds)


def _answer(handler: Handler, case: Case) -> dict[str, Any]:
    response = handler(case.event, None)
    if response.get("statusCode") != case.status:
        raise RuntimeError(
            f"warm {case.label}: {handler.__module__} answered {response.get('statusCode')}: {response.get('body')}"
        )
    return json.loads(response["body"])


OPERATIONS = {
    "get_item": "GetItem",
    "query": "Query",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "transact_write_items": "TransactWriteItems",
}


def _counter_after_update(**_: Any) -> dict[str, Any]:
    """What the limiter's conditional UpdateItem returns: the key's window counter (this
    minute, one request so far) and the workspace's daily count; both admit the request."""
    window = int(time.time()) // 60 * 60
    return {"Attributes": {"win": {"N": str(window)}, "cur": {"N": "1"}, "prev": {"N": "0"}, "n": {"N": "1"}}}


STUB_LEVELS = ("client method", "botocore")


def _install(clients: list[Any], stubs: dict[str, Callable[..., dict[str, Any]]], level: str) -> Callable[[], None]:
    """Put the same stubs on every client; returns the function that takes them off again.

    "client method": `client.get_item` itself is replaced, so botocore does no work at all.
    "botocore": a `before-call` handler answers (what botocore's Stubber does), so parameter
    validation, serialization and endpoint resolution still run; signing, HTTP and parsing do not.
    """
    from botocore.awsrequest import AWSResponse

    undo: list[Callable[[], None]] = []
    for client in clients:
        for method, stub in stubs.items():
            if level == "client method":
                setattr(client, method, stub)
                undo.append(lambda c=client, m=method: delattr(c, m))
            else:

                def answer(stub: Callable[..., dict[str, Any]] = stub, **_: Any) -> tuple[Any, dict[str, Any]]:
                    return AWSResponse(None, 200, {}, None), stub()

                event = f"before-call.dynamodb.{OPERATIONS[method]}"
                client.meta.events.register(event, answer, unique_id=f"kiln-bench-{method}")
                undo.append(
                    lambda c=client, e=event, m=method: c.meta.events.unregister(e, unique_id=f"kiln-bench-{m}")
                )

    def remove() -> None:
        for step in undo:
            step()

    return remove


def run(iterations: int, rounds: int = 20) -> tuple[str, list[WarmResult]]:
    from kiln import ids

    workspace_id, project_id = ids.new_id("workspace"), ids.new_id("project")
    listed = [_project_item(workspace_id, ids.new_id("project", 1_700_000_000_000 + i), i) for i in range(20)]
    project = _project_item(workspace_id, project_id)
    counts = _counts_item(workspace_id, len(listed))

    def get_item(Key: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:  # boto3's parameter name
        # Page mode reads the workspace's counts item next to its query: answering it with the
        # project would look like a workspace older than the counts, recounted on every page.
        return {"Item": counts if Key is not None and Key["sk"] == counts["sk"] else project}

    stubs: dict[str, Callable[..., dict[str, Any]]] = {
        "get_item": get_item,
        "query": lambda **_: {"Items": list(listed), "Count": len(listed), "ScannedCount": len(listed)},
        "put_item": lambda **_: {},
        # Kiln's create: the project and the workspace's page-mode count in one transaction.
        "transact_write_items": lambda **_: {},
        # Kiln's side only: the rate-limit and quota counters the bare handlers do not keep.
        "update_item": _counter_after_update,
    }
    authorizer = principal_context(workspace_id=workspace_id, scopes="project:read project:write")
    results = []
    with environment({**AWS_ENV, **KILN_ENV}):
        from kiln.adapters import aws

        handlers = {
            name: importlib.import_module(f"kiln.handlers.{name}").handler
            for name in ("projects_get", "projects_list", "projects_create")
        }
        bare = {name: _load_bare(name) for name in ("get", "list", "create")}
        clients = [aws.client("dynamodb")] + [module.client("dynamodb") for module in bare.values()]
        cases = [
            Case(
                "GET /v1/projects/{id}",
                handlers["projects_get"],
                bare["get"].handler,
                item_event("GET", workspace_id, project_id),
                200,
                True,
            ),
            Case(
                "GET /v1/projects (page, 20 items)",
                handlers["projects_list"],
                bare["list"].handler,
                proxy_event("GET", "/v1/projects", authorizer=authorizer),
                200,
                True,
            ),
            Case(
                "POST /v1/projects",
                handlers["projects_create"],
                bare["create"].handler,
                proxy_event(
                    "POST",
                    "/v1/projects",
                    authorizer=authorizer,
                    body={"name": "Bench project", "description": "A project created by the bench."},
                ),
                201,
                False,
            ),
        ]
        for level in STUB_LEVELS:
            remove = _install(clients, stubs, level)
            try:
                for case in cases:
                    print(f"  warm: {case.label}, {level} stub", file=sys.stderr, flush=True)
                    results.append(_measure(case, iterations, rounds, level))
            finally:
                remove()
    return render(results), results


def render(results: list[WarmResult]) -> str:
    rows = [
        [r.label, r.stub, r.ours_us, r.bare_us, times(r.ratio), r.ours_us - r.bare_us, r.iterations] for r in results
    ]
    headers = ["request", "AWS call stubbed at", "ours us", "bare us", "ratio", "ours - bare us", "iterations/side"]
    note = (
        "Median microseconds per request of an already-loaded handler, the same canned DynamoDB answer on\n"
        "both sides. 'client method': client.get_item/query/put_item replaced, botocore does nothing (our\n"
        "overhead alone). 'botocore': a before-call handler answers, as botocore's Stubber does, so botocore\n"
        "still validates and serializes the request; only signing, HTTP and response parsing are skipped."
    )
    return table("(b) Warm: per-request time, AWS call stubbed (us)", headers, rows, note)

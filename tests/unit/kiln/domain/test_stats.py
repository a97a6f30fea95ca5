"""Admin stats counters (kiln.domain.stats) from item transitions, applied once per stream record
(in memory and kiln.adapters.dynamodb.stats on moto), and the GET /v1/admin/stats handler reading them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kiln import services
from kiln.adapters.dynamodb.stats import CounterItems, state_of
from kiln.domain.stats import CounterStore, StatsService, deltas
from kiln.domain.table_changes import TableChange
from tests.fakes import FakeCounters
from tests.unit.conftest import principal_context, proxy_event


def change(sequence: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> TableChange:
    kind = "insert" if old is None else "remove" if new is None else "modify"
    image = new or old or {}
    return TableChange(kind, "WS#ws_x", image.get("sk", "X"), sequence, "2026-01-01T00:00:00.000Z", new, old)


def project(status: str, **extra: Any) -> dict[str, Any]:
    return {"type": "project", "sk": "PROJECT#p", "status": status, **extra}


def run(status: str, **extra: Any) -> dict[str, Any]:
    return {"type": "run", "sk": "RUN#p#r", "status": status, **extra}


def test_transitions_move_units_between_counters() -> None:
    assert deltas(None, state_of(project("draft"))) == {"projects.active": 1, "projects.total": 1}
    assert deltas(state_of(project("draft")), state_of(project("clarifying"))) == {}
    assert deltas(state_of(project("built")), state_of(project("archived"))) == {"projects.active": -1}
    assert deltas(None, state_of(run("queued"))) == {"runs.inProgress": 1, "runs.total": 1, "workflows.running": 1}
    assert deltas(state_of(run("queued")), state_of(run("decomposing"))) == {}
    assert deltas(state_of(run("merging")), state_of(run("succeeded"))) == {
        "runs.inProgress": -1,
        "runs.succeeded": 1,
        "workflows.running": -1,
    }
    export = {"type": "operation", "kind": "export", "status": "processing"}
    assert deltas(None, state_of(export)) == {"exports.total": 1, "workflows.running": 1}
    assert deltas(state_of(export), state_of({**export, "status": "failed"})) == {"workflows.running": -1}
    delivery = {"type": "delivery", "status": "pending"}
    assert deltas(None, state_of(delivery)) == {"webhooks.deliveriesPending": 1}
    assert deltas(state_of(delivery), state_of({**delivery, "status": "failed"})) == {
        "webhooks.deliveriesFailed": 1,
        "webhooks.deliveriesPending": -1,
    }
    # Items the stats do not count, and changes that move nothing counted.
    assert deltas(None, state_of({"type": "event", "status": "x"})) == {}
    assert deltas(state_of(run("executing", tasksTotal=1)), state_of(run("executing", tasksTotal=2))) == {}


@pytest.fixture(params=["fake", "dynamodb"])
def counters(request: pytest.FixtureRequest) -> CounterStore:
    """The in-memory counters and the DynamoDB ones (on moto) must count alike."""
    if request.param == "fake":
        return FakeCounters()
    request.getfixturevalue("cloud")
    return CounterItems()


def test_counters_are_applied_once_per_stream_record(counters: CounterStore) -> None:
    stats = StatsService(counters, state_of)
    batch = [
        change("100", None, project("draft")),
        change("101", None, run("queued")),
        change("102", run("queued"), run("executing")),
        change("103", run("executing"), run("failed")),
        change("104", project("failed"), project("archived")),
    ]
    assert stats.record(batch) == 4  # 102 moves nothing counted
    assert stats.record(batch) == 0  # the stream hands the batch again: nothing counted twice
    current = stats.current()
    assert current.projects.model_dump() == {"total": 1, "active": 0}
    assert current.runs.model_dump() == {"total": 1, "succeeded": 0, "failed": 1, "inProgress": 0}
    assert current.workflows.running == 0


def test_the_handler_answers_the_counters_to_admins_only(cloud: None) -> None:
    from kiln.handlers import admin_stats

    services.current().stats.record([change("200", None, project("draft")), change("201", None, run("queued"))])
    answer = admin_stats.handler(proxy_event("GET", "/v1/admin/stats", authorizer=principal_context()), None)
    assert answer["statusCode"] == 200
    data = json.loads(answer["body"])["data"]
    assert data == {
        "projects": {"total": 1, "active": 1},
        "runs": {"total": 1, "succeeded": 0, "failed": 0, "inProgress": 1},
        "workflows": {"running": 1},
        "exports": {"total": 0},
        "webhooks": {"deliveriesPending": 0, "deliveriesFailed": 0},
    }
    refused = admin_stats.handler(
        proxy_event("GET", "/v1/admin/stats", authorizer=principal_context(scopes="project:read project:write")), None
    )
    assert refused["statusCode"] == 403


@pytest.mark.parametrize("module", ["kiln.handlers.admin_stats", "kiln.adapters.dynamodb.stats", "kiln.domain.stats"])
def test_nothing_on_the_stats_path_scans(module: str) -> None:
    """CONTRACT section 8: the stats come from counters, never a table scan. Every kiln module the
    stats handler and its store import, followed transitively, is free of Scan."""
    import ast
    import importlib.util
    import pathlib

    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen or not name.startswith("kiln"):
            continue
        seen.add(name)
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            continue  # `from module import name` of a class or function, not a module
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        source = pathlib.Path(spec.origin).read_text()
        tree = ast.parse(source)
        assert not [
            n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in {"scan", "parallel_scan"}
        ], name
        assert '"Scan"' not in source and "'scan'" not in source and '"scan"' not in source, name
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                pending += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                pending += [a.name for a in node.names]
    if module == "kiln.handlers.admin_stats":  # the walk reached the store, through the composition root
        assert {"kiln.services", "kiln.adapters.dynamodb.stats"} <= seen

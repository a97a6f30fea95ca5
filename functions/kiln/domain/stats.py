"""Deployment-wide counters for GET /v1/admin/stats (CONTRACT section 8). No AWS here.

The stats are counters, never a table scan: the table's stream hands every change to the
`stats` consumer, which turns the change of one item (its state before and after) into counter
deltas and adds them atomically to one item. Deltas come from *transitions*, so a change that
moves nothing counted (a run's task counters, a project's rename) adds nothing, and a run that
goes running -> succeeded moves one unit from `inProgress` to `succeeded`. A retried stream
batch would add the same deltas again, so the store applies each change at most once (a marker
per change, written in the same transaction as the deltas).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from kiln.domain.table_changes import TableChange

# What the stats count, and of which kind of item. A state is the item's status (None: no item).
PROJECT, RUN, OPERATION, DELIVERY = "project", "run", "operation", "delivery"
RUN_ACTIVE = frozenset({"queued", "decomposing", "executing", "verifying", "merging"})
OPERATION_RUNNING = frozenset({"processing"})


@dataclass(frozen=True)
class State:
    """What the counters need of one item: its kind, its status, and a sub-kind (an operation's)."""

    kind: str
    status: str | None = None
    subkind: str | None = None


def _counted(state: State | None) -> dict[str, int]:
    """The counters one item contributes while it is in `state` (none for None)."""
    if state is None:
        return {}
    if state.kind == PROJECT:
        return {"projects.total": 1, "projects.active": int(state.status != "archived")}
    if state.kind == RUN:
        active = state.status in RUN_ACTIVE
        return {
            "runs.total": 1,
            "runs.succeeded": int(state.status == "succeeded"),
            "runs.failed": int(state.status == "failed"),
            "runs.inProgress": int(active),
            "workflows.running": int(active),  # each run is one build execution
        }
    if state.kind == OPERATION:
        return {
            "exports.total": int(state.subkind == "export"),
            "workflows.running": int(state.status in OPERATION_RUNNING),  # an archive execution
        }
    if state.kind == DELIVERY:
        return {
            "webhooks.deliveriesPending": int(state.status == "pending"),
            "webhooks.deliveriesFailed": int(state.status == "failed"),
        }
    return {}


def deltas(old: State | None, new: State | None) -> dict[str, int]:
    """Counter changes for an item that went from `old` to `new` (either may be None: created,
    removed). Only non-zero deltas; the sum over an item's history is its current contribution."""
    before, after = _counted(old), _counted(new)
    changes = {name: after.get(name, 0) - before.get(name, 0) for name in before.keys() | after.keys()}
    return {name: value for name, value in sorted(changes.items()) if value}


class ProjectStats(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    total: int = Field(description="Projects ever created and not deleted (archived ones included).")
    active: int = Field(description="Projects that are not archived.")


class RunStats(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    total: int
    succeeded: int
    failed: int
    inProgress: int = Field(description="Runs queued, planning, executing, verifying or merging.")


class WorkflowStats(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    running: int = Field(description="Step Functions executions running: builds, exports, imports, conversions.")


class ExportStats(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    total: int


class WebhookStats(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    deliveriesPending: int
    deliveriesFailed: int


class Stats(BaseModel):
    """Deployment-wide counters, kept by the table stream's `stats` consumer (eventually consistent:
    a change shows within a few seconds)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    projects: ProjectStats
    runs: RunStats
    workflows: WorkflowStats
    exports: ExportStats
    webhooks: WebhookStats


def stats_from(counters: Mapping[str, int]) -> Stats:
    """The answer from stored counters (missing ones are 0; none is shown below 0)."""

    def value(name: str) -> int:
        return max(0, int(counters.get(name, 0)))

    return Stats(
        projects=ProjectStats(total=value("projects.total"), active=value("projects.active")),
        runs=RunStats(
            total=value("runs.total"),
            succeeded=value("runs.succeeded"),
            failed=value("runs.failed"),
            inProgress=value("runs.inProgress"),
        ),
        workflows=WorkflowStats(running=value("workflows.running")),
        exports=ExportStats(total=value("exports.total")),
        webhooks=WebhookStats(
            deliveriesPending=value("webhooks.deliveriesPending"),
            deliveriesFailed=value("webhooks.deliveriesFailed"),
        ),
    )


class CounterStore(Protocol):
    def read(self) -> dict[str, int]:
        """The deployment's counters (one GetItem)."""
        ...

    def apply(self, change_id: str, changes: dict[str, int]) -> bool:
        """Add `changes` atomically, once per `change_id`; False when that change was applied before."""
        ...


Classify = Callable[[dict[str, Any] | None], State | None]  # an item image -> what it counts as


class StatsService:
    def __init__(self, counters: CounterStore, classify: Classify) -> None:
        self._counters = counters
        self._classify = classify

    def record(self, changes: Sequence[TableChange]) -> int:
        """The stream consumer's work: each change's deltas, applied once. Returns how many
        changes moved a counter (for the log)."""
        applied = 0
        for change in changes:
            moved = deltas(self._classify(change.old), self._classify(change.new))
            if moved and self._counters.apply(change.sequence, moved):
                applied += 1
        return applied

    def current(self) -> Stats:
        return stats_from(self._counters.read())

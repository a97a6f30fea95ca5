"""Runs, tasks, events and build slots in memory, with kiln.adapters.dynamodb.runs' semantics.

FakeRuns plays every role RunStore plays: kiln.domain.runs.RunRepository and ProjectReader,
kiln.domain.build_steps.BuildLedger, kiln.domain.operations.RunStatusReader. Creating a run
is one "transaction" (the project, still at the revision read, moves to building with its
runCount; a build slot of the workspace; the run), and so is finishing one (the run, while
active and holding its slot, becomes terminal; the slot comes back; the project leaves
`building` if it is still there). FakeEvents numbers each run's events 1, 2, 3... as the
run's event counter moves, so a reader resuming after an id never misses one.
"""

from __future__ import annotations

import builtins  # `builtins.list` in classes whose own list() method shadows the type
import copy
from typing import Any

from kiln.clock import Clock, iso, utc_now
from kiln.domain.builds import Event, EventType, TaskStatus
from kiln.domain.projects import ProjectStatus
from kiln.domain.runs import (
    ACTIVE,
    EVERY_EVENT,
    BuildTarget,
    ConcurrencyLimitReached,
    EventFilter,
    NewRun,
    Run,
    RunChanged,
    RunDetail,
    RunListFilter,
    RunStatus,
    SpecSnapshot,
    Task,
    stored_plan,
    task_summaries,
)
from tests.fakes._hooks import Hooks
from tests.fakes.projects import FakeProjects, stored
from tests.fakes.specs import FakeSpecs

_RUN_FIELDS = tuple(Run.model_fields)
_TASK_FIELDS = tuple(Task.model_fields)
_UNFINISHED = frozenset({TaskStatus.PENDING, TaskStatus.RUNNING})


def _run_from(raw: dict[str, Any]) -> Run:
    values = {k: raw[k] for k in _RUN_FIELDS if k in raw}
    values["tasksSummary"] = {
        "total": raw.get("tasksTotal", 0),
        "succeeded": raw.get("tasksSucceeded", 0),
        "failed": raw.get("tasksFailed", 0),
    }
    return Run(**values)


def _task_from(raw: dict[str, Any]) -> Task:
    return Task(**{k: raw[k] for k in _TASK_FIELDS if k in raw})


def _no_nulls(changes: dict[str, Any]) -> None:
    # DynamoDB's SET cannot write a null here (the adapter would send an unset placeholder).
    nulls = [k for k, v in changes.items() if v is None]
    if nulls:
        raise ValueError(f"cannot SET {', '.join(nulls)} to null")


class FakeRuns(Hooks):
    def __init__(self, projects: FakeProjects, specs: FakeSpecs) -> None:
        super().__init__()
        self.projects = projects
        self.specs = specs
        self.items: dict[tuple[str, str, str], dict[str, Any]] = {}  # (workspace, project, run) -> run item
        self.task_items: dict[tuple[str, str, str], dict[str, Any]] = {}  # (workspace, run, task) -> task item
        self.slots: dict[str, int] = {}  # workspace -> builds holding one of its slots
        # (workspace, run, from, to) for every write that changed a run's status, in order.
        self.transitions: builtins.list[tuple[str, str, RunStatus, RunStatus]] = []

    # --- project side -----------------------------------------------------------------------

    def load_for_build(self, workspace_id: str, project_id: str) -> BuildTarget | None:
        self._hook("load_for_build")
        item = self.projects.item(workspace_id, project_id)
        project = self.projects.project(workspace_id, project_id)
        if item is None or project is None:
            return None
        return BuildTarget(project, int(item.get("revision", 0)), int(item.get("runCount", 0)))

    def snapshot(self, workspace_id: str, project_id: str, version: int) -> SpecSnapshot | None:
        self._hook("snapshot")
        spec = self.specs.get_version(workspace_id, project_id, version)
        if spec is None:
            return None
        return SpecSnapshot(version=spec.version, approvedAt=spec.approvedAt, documents=spec.documents)

    # --- runs -------------------------------------------------------------------------------

    def create(self, workspace_id: str, new: NewRun) -> None:
        self._hook("create")
        run = new.run
        if not self.projects.holds(workspace_id, run.projectId, revision=new.project_revision):
            current = self.projects.project(workspace_id, run.projectId)
            raise RunChanged(current.status if current else None)
        active = self.slots.get(workspace_id, 0)
        if new.concurrency_limit is not None and active >= new.concurrency_limit:
            raise ConcurrencyLimitReached(new.concurrency_limit)
        key = (workspace_id, run.projectId, run.id)
        if key in self.items:
            raise RunChanged(ProjectStatus(self.projects.items[(workspace_id, run.projectId)]["status"]))
        self.projects.apply(
            workspace_id,
            run.projectId,
            {"status": ProjectStatus.BUILDING, "runCount": run.runNumber, "updatedAt": run.createdAt},
        )
        self.slots[workspace_id] = active + 1
        self.items[key] = {**run.model_dump(mode="json", exclude={"tasksSummary"}), "eventSeq": 0, "slotHeld": True}

    def get(self, workspace_id: str, project_id: str, run_id: str) -> Run | None:
        self._hook("get")
        raw = self.items.get((workspace_id, project_id, run_id))
        return _run_from(raw) if raw else None

    def detail(self, workspace_id: str, project_id: str, run_id: str) -> RunDetail | None:
        self._hook("detail")
        raw = self.items.get((workspace_id, project_id, run_id))
        if raw is None:
            return None
        run = _run_from(raw)
        snapshot = self.snapshot(workspace_id, project_id, run.specVersion)
        if snapshot is None:
            raise RuntimeError(f"spec version {run.specVersion} of run {run_id} is missing")
        tasks = self.tasks(workspace_id, run_id)
        plan = stored_plan(raw, tasks)
        return RunDetail(
            **run.model_dump(),
            specSnapshot=snapshot,
            tasksJson=plan,
            tasks=task_summaries(tasks, plan),
            verificationResult=raw.get("verificationResult"),
        )

    def raw(self, workspace_id: str, project_id: str, run_id: str) -> dict[str, Any] | None:
        self._hook("raw")
        raw = self.items.get((workspace_id, project_id, run_id))
        return copy.deepcopy(raw) if raw else None

    def run_state(self, workspace_id: str, project_id: str, run_id: str) -> tuple[str, dict[str, Any] | None] | None:
        self._hook("run_state")
        raw = self.items.get((workspace_id, project_id, run_id))
        return (raw["status"], copy.deepcopy(raw.get("error"))) if raw else None

    def list(
        self, workspace_id: str, project_id: str, filters: RunListFilter, limit: int, after: dict[str, Any] | None
    ) -> tuple[builtins.list[Run], dict[str, Any] | None]:
        self._hook("list")
        runs = self._newest_first(workspace_id, project_id, filters)
        if after:
            runs = [r for r in runs if f"RUN#{project_id}#{r.id}" < after["sk"]]
        page = runs[:limit]
        position = {"pk": f"WS#{workspace_id}", "sk": f"RUN#{project_id}#{page[-1].id}"} if len(runs) > limit else None
        return page, position

    def page(
        self, workspace_id: str, project_id: str, filters: RunListFilter, page: int, size: int
    ) -> tuple[builtins.list[Run], int]:
        self._hook("page")
        runs = self._newest_first(workspace_id, project_id, filters)
        start = (page - 1) * size
        return runs[start : start + size], len(runs)

    def set_status(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        status: RunStatus,
        allowed_from: frozenset[RunStatus],
        changes: dict[str, Any] | None = None,
    ) -> bool:
        self._hook("set_status")
        item = self.items.get((workspace_id, project_id, run_id))
        if item is None or RunStatus(item["status"]) not in allowed_from:
            return False
        values = {**(changes or {}), "status": status}
        _no_nulls(values)
        self._write(workspace_id, run_id, item, values)
        return True

    def finish(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        outcome: RunStatus,
        project_status: ProjectStatus,
        changes: dict[str, Any],
    ) -> bool:
        self._hook("finish")
        item = self.items.get((workspace_id, project_id, run_id))
        if item is None or RunStatus(item["status"]) not in ACTIVE or not item.get("slotHeld"):
            return False  # already finished
        self._write(workspace_id, run_id, item, {**changes, "status": outcome, "updatedAt": changes.get("finishedAt")})
        del item["slotHeld"]
        self.slots[workspace_id] -= 1
        # The project leaves `building` only if it is still there (it may have been archived).
        if self.projects.holds(workspace_id, project_id, allowed_from={ProjectStatus.BUILDING}):
            self.projects.apply(
                workspace_id, project_id, {"status": project_status, "updatedAt": changes.get("finishedAt")}
            )
        return True

    # --- tasks ------------------------------------------------------------------------------

    def put_tasks(self, workspace_id: str, tasks: builtins.list[Task]) -> None:
        self._hook("put_tasks")
        for index, task in enumerate(tasks):  # a retried decompose overwrites the same ids
            self.task_items[(workspace_id, task.runId, task.id)] = {**task.model_dump(mode="json"), "planIndex": index}

    def update_task(
        self,
        workspace_id: str,
        run_id: str,
        task_id: str,
        changes: dict[str, Any],
        only_if_status: frozenset[TaskStatus] | None = None,
        increment_attempts: bool = False,
    ) -> bool:
        self._hook("update_task")
        key = (workspace_id, run_id, task_id)
        item = self.task_items.get(key)
        if only_if_status and (
            item is None or "status" not in item or TaskStatus(item["status"]) not in only_if_status
        ):
            return False
        _no_nulls(changes)
        if item is None:  # an UpdateItem without a condition creates the item
            item = self.task_items[key] = {}
        item.update({k: stored(v) for k, v in changes.items()})
        if increment_attempts:
            item["attempts"] = int(item.get("attempts", 0)) + 1
        return True

    def cancel_tasks(self, workspace_id: str, run_id: str, finished_at: str) -> None:
        self._hook("cancel_tasks")
        for task in self.tasks(workspace_id, run_id):
            if task.status in _UNFINISHED:
                self.update_task(
                    workspace_id,
                    run_id,
                    task.id,
                    {"status": TaskStatus.CANCELLED.value, "finishedAt": finished_at},
                    only_if_status=_UNFINISHED,
                )

    def count_task(self, workspace_id: str, project_id: str, run_id: str, counter: str) -> None:
        self._hook("count_task")
        # ADD, like DynamoDB's: on a missing run item it creates one holding only the counter.
        item = self.items.setdefault((workspace_id, project_id, run_id), {})
        item[counter] = int(item.get(counter, 0)) + 1

    def tasks(self, workspace_id: str, run_id: str) -> builtins.list[Task]:
        self._hook("tasks")
        mine = [item for (w, r, _), item in sorted(self.task_items.items()) if (w, r) == (workspace_id, run_id)]
        return [_task_from(item) for item in sorted(mine, key=lambda item: int(item.get("planIndex", -1)))]

    def tasks_named(self, workspace_id: str, run_id: str, task_ids: builtins.list[str]) -> builtins.list[Task]:
        self._hook("tasks_named")
        found = [self.task_items.get((workspace_id, run_id, task_id)) for task_id in task_ids]
        return [_task_from(item) for item in found if item is not None]

    def task(self, workspace_id: str, run_id: str, task_id: str) -> Task | None:
        self._hook("task")
        item = self.task_items.get((workspace_id, run_id, task_id))
        return _task_from(item) if item else None

    # --- what the other fakes (the same table) and the tests use -------------------------------

    def run_pointer(self, workspace_id: str, run_id: str) -> str | None:
        """The project of a run (the OP#<runId> pointer written with the run), or None."""
        for (workspace, project, run), _ in self.items.items():
            if (workspace, run) == (workspace_id, run_id):
                return project
        return None

    def runs_of(self, workspace_id: str, project_id: str) -> builtins.list[Run]:
        """Every run of a project, oldest first."""
        return list(reversed(self._newest_first(workspace_id, project_id, RunListFilter())))

    def _newest_first(self, workspace_id: str, project_id: str, filters: RunListFilter) -> builtins.list[Run]:
        found = [_run_from(raw) for (w, p, _), raw in self.items.items() if (w, p) == (workspace_id, project_id)]
        if filters.status is not None:
            found = [r for r in found if r.status is filters.status]
        return sorted(found, key=lambda r: r.id, reverse=True)

    def _write(self, workspace_id: str, run_id: str, item: dict[str, Any], values: dict[str, Any]) -> None:
        before = RunStatus(item["status"])
        for field, value in values.items():
            if value is None:
                item.pop(field, None)
            else:
                item[field] = stored(value)
        after = RunStatus(item["status"])
        if after is not before:
            self.transitions.append((workspace_id, run_id, before, after))


class FakeEvents(Hooks):
    """kiln.domain.runs.EventLog: per run, ids 1, 2, 3... with no gap, as the run's event counter moves."""

    def __init__(self, runs: FakeRuns, clock: Clock = utc_now) -> None:
        super().__init__()
        self.runs = runs
        self.clock = clock
        self.events: dict[tuple[str, str], builtins.list[Event]] = {}

    def append(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        event_type: EventType,
        *,
        task_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        self._hook("append")
        run = self.runs.items.get((workspace_id, project_id, run_id))
        if run is None:
            raise LookupError(f"run {run_id} does not exist")
        sequence = int(run.get("eventSeq", 0)) + 1
        event = Event(
            id=sequence,
            runId=run_id,
            taskId=task_id,
            eventType=event_type,
            payload=payload or {},
            createdAt=iso(self.clock()),
        )
        run["eventSeq"] = sequence
        # Stored as the table stores it (JSON), so a payload mutated later changes nothing.
        self.events.setdefault((workspace_id, run_id), []).append(Event.model_validate(event.model_dump(mode="json")))
        return event

    def list(
        self, workspace_id: str, run_id: str, *, after: int = 0, limit: int = 100, where: EventFilter = EVERY_EVENT
    ) -> builtins.list[Event]:
        self._hook("list")
        found = [e for e in self.events.get((workspace_id, run_id), []) if e.id > after and where.matches(e)]
        return [e.model_copy(deep=True) for e in found[:limit]]

    def of(self, workspace_id: str, run_id: str) -> builtins.list[Event]:
        """Every event of a run, in id order (for assertions)."""
        return list(self.events.get((workspace_id, run_id), []))


class FakeWorkflow(Hooks):
    """kiln.domain.runs.WorkflowStarter and kiln.domain.operations.ArchiveWorkflow: records the
    executions started (one per name, as Step Functions' execution names are unique) and
    stopped; the test drives the steps itself."""

    def __init__(self) -> None:
        super().__init__()
        self.started: builtins.list[tuple[str, dict[str, Any]]] = []
        self.stopped: builtins.list[str] = []

    @property
    def names(self) -> builtins.list[str]:
        return [name for name, _ in self.started]

    def start(self, execution_name: str, payload: dict[str, Any]) -> None:
        self._hook("start")
        if execution_name not in self.names:  # ExecutionAlreadyExists: the same execution
            self.started.append((execution_name, copy.deepcopy(payload)))

    def stop(self, execution_name: str, cause: str) -> None:
        self._hook("stop")
        if execution_name in self.names and execution_name not in self.stopped:  # else nothing to stop
            self.stopped.append(execution_name)

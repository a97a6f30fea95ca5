"""Build runs: their models, their status machine and the service behind the runs API.

    queued -> decomposing -> executing -> verifying -> merging -> succeeded
        \\_____________\\____________\\____________\\_________\\-> failed | cancelled

A run is created on an approved project (the project moves to `building`) and handed to a
Step Functions execution named after the run id, so a retried start can never launch twice.
The workflow's workers (kiln.workers.build_*) drive the run through its states through
kiln.domain.build_steps; this module answers the API. No AWS here. When a model wrote the
code and verification fails, the run stays `verifying` while the tasks behind the failures are
repaired and verified again (kiln.domain.repairs): the statuses clients know do not change.
"""

from __future__ import annotations

import builtins  # `builtins.list` in classes whose own list() method shadows the type
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.builds import (
    TERMINAL_EVENTS,
    Event,
    EventType,
    TaskDefinition,
    TaskPlan,
    TaskResult,
    TaskStatus,
    VerificationResult,
)
from kiln.domain.projects import Project, ProjectStatus, Strict, conflict
from kiln.envelope import ErrorCode, KilnError, not_found


class RunStatus(str, Enum):
    QUEUED = "queued"
    DECOMPOSING = "decomposing"
    EXECUTING = "executing"
    VERIFYING = "verifying"
    MERGING = "merging"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
ACTIVE = frozenset(set(RunStatus) - TERMINAL)
# A project can be built once its spec is approved, and rebuilt after any finished run.
BUILDABLE = frozenset({ProjectStatus.APPROVED, ProjectStatus.BUILT, ProjectStatus.FAILED})

Trigger = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
RETRY_TRIGGER = "retry"


# --- requests and models -----------------------------------------------------------------


class RunCreate(Strict):
    trigger: Trigger = Field(
        default="manual", description="Who or what started the run (free-form label).", examples=["manual"]
    )


class RunListFilter(BaseModel):
    status: RunStatus | None = None


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class TasksSummary(_Out):
    total: int = 0
    succeeded: int = 0
    failed: int = 0


class RunError(_Out):
    reason: str  # machine-readable: task_failed, planning_failed, verification_failed, merge_conflict, ...
    message: str
    taskId: str | None = None


class Run(_Out):
    id: str
    projectId: str
    runNumber: int
    status: RunStatus
    trigger: str
    callbackId: str
    specVersion: int
    retryOf: str | None = None
    createdAt: str
    updatedAt: str
    finishedAt: str | None = None
    error: RunError | None = None
    tasksSummary: TasksSummary = Field(default_factory=TasksSummary)


class Task(_Out):
    id: str
    runId: str
    definition: TaskDefinition
    status: TaskStatus
    branchName: str
    attempts: int = 0
    repairs: int = Field(
        default=0,
        ge=0,
        description="Repair attempts on this task's files after the run's verification failed (model generators only).",
    )
    result: TaskResult | None = None
    error: str | None = None
    startedAt: str | None = None
    finishedAt: str | None = None


class SpecSnapshot(_Out):
    version: int
    approvedAt: str | None = None
    documents: dict[str, str]


# The run lists summaries only: each definition is in its `tasksJson` already, and repeating
# it (and the results) per task made a 17-task run answer 190 KB instead of 110 KB.
class TaskSummary(_Out):
    """A task as its run lists it; the whole task (definition, branch, result) is at
    `GET .../runs/{runId}/tasks/{taskId}`."""

    id: str
    slug: str
    status: TaskStatus
    sequence: int = Field(ge=1, description="1-based position of the task in the plan (`tasksJson.tasks`).")


class RunDetail(Run):
    specSnapshot: SpecSnapshot
    tasksJson: TaskPlan | None = None
    tasks: list[TaskSummary] = Field(default_factory=list)
    verificationResult: VerificationResult | None = None


def stored_plan(run: Mapping[str, Any], tasks: list[Task]) -> TaskPlan | None:
    """A run's plan: the definitions its task items hold (`tasks`, in plan order) in the merge
    order the run item keeps. Runs planned before the definitions moved to the task items hold
    the whole plan on the run (`tasksJson`). None until decompose has stored the plan."""
    if run.get("tasksJson"):
        return TaskPlan.model_validate(run["tasksJson"])
    if not run.get("mergeOrder"):
        return None
    return TaskPlan.stored([task.definition for task in tasks], [str(task_id) for task_id in run["mergeOrder"]])


def task_summaries(tasks: list[Task], plan: TaskPlan | None) -> list[TaskSummary]:
    """The run's tasks in plan order (tasks the plan does not list, if any, after it, by id)."""
    position = {definition.id: index for index, definition in enumerate(plan.tasks)} if plan else {}
    ordered = sorted(tasks, key=lambda task: (position.get(task.id, len(position)), task.id))
    return [
        TaskSummary(id=task.id, slug=task.definition.slug, status=task.status, sequence=index)
        for index, task in enumerate(ordered, start=1)
    ]


@dataclass(frozen=True)
class NewRun:
    """What the repository needs to create a run atomically."""

    run: Run
    project_revision: int
    concurrency_limit: int | None  # the tier's concurrent builds; None is unlimited


# --- ports ---------------------------------------------------------------------------------


class RunRepository(Protocol):
    def create(self, workspace_id: str, new: NewRun) -> None:
        """Atomically: project (still at `project_revision`) -> building with runCount =
        run.runNumber, one of the workspace's build slots taken, the run stored.

        Raises RunChanged (the project moved or is gone) or ConcurrencyLimitReached.
        """
        ...

    def get(self, workspace_id: str, project_id: str, run_id: str) -> Run | None: ...

    def detail(self, workspace_id: str, project_id: str, run_id: str) -> RunDetail | None: ...

    def tasks(self, workspace_id: str, run_id: str) -> list[Task]: ...

    def task(self, workspace_id: str, run_id: str, task_id: str) -> Task | None: ...

    def list(
        self, workspace_id: str, project_id: str, filters: RunListFilter, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Run], dict[str, Any] | None]: ...

    def page(
        self, workspace_id: str, project_id: str, filters: RunListFilter, page: int, size: int
    ) -> tuple[builtins.list[Run], int]:
        """One page, newest first, and the total."""
        ...

    def set_status(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        status: RunStatus,
        allowed_from: frozenset[RunStatus],
        changes: dict[str, Any] | None = None,
    ) -> bool:
        """Move an active run; False when its status is not in `allowed_from` (it moved on)."""
        ...

    def cancel_tasks(self, workspace_id: str, run_id: str, finished_at: str) -> None:
        """Mark the run's pending and running tasks cancelled."""
        ...

    def finish(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        outcome: RunStatus,
        project_status: ProjectStatus,
        changes: dict[str, Any],
    ) -> bool:
        """Terminal transition, once: run -> outcome, project -> project_status, build slot
        released, in one transaction. False when the run had already finished."""
        ...


class WorkflowStarter(Protocol):
    def start(self, execution_name: str, payload: dict[str, Any]) -> None:
        """Start the build workflow; starting the same name twice starts it once."""
        ...

    def stop(self, execution_name: str, cause: str) -> None: ...


@dataclass(frozen=True)
class EventFilter:
    """Which of a run's events a reader wants. The resume position (an event id) is not part
    of it: a stream advances over every event, shown or not."""

    types: frozenset[EventType] | None = None
    task_id: str | None = None
    created_after: datetime | None = None  # strictly after this moment (timezone-aware)

    def matches(self, event: Event) -> bool:
        if self.types is not None and event.eventType not in self.types:
            return False
        if self.task_id is not None and event.taskId != self.task_id:
            return False
        return self.created_after is None or datetime.fromisoformat(event.createdAt) > self.created_after


EVERY_EVENT = EventFilter()


@dataclass(frozen=True)
class EventBatch:
    """What a stream reader gets on each poll (RunService.follow)."""

    events: list[Event]  # every event after the reader's position, in id order, unfiltered
    ended: bool  # the run's terminal event is among them or at or before the position
    run_finished: bool  # the run's status is terminal (set a moment before its terminal event)


class EventLog(Protocol):
    def append(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        event_type: EventType,
        *,
        task_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Event: ...

    def list(
        self, workspace_id: str, run_id: str, *, after: int = 0, limit: int = 100, where: EventFilter = EVERY_EVENT
    ) -> list[Event]:
        """The events with an id above `after` that `where` matches, in id order."""
        ...


@dataclass(frozen=True)
class BuildTarget:
    project: Project
    revision: int  # the project's optimistic-lock counter as read
    run_count: int  # runs started so far; the next run is number run_count + 1


class ProjectReader(Protocol):
    def load_for_build(self, workspace_id: str, project_id: str) -> BuildTarget | None: ...


class ConcurrencyLimitReached(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"limit {limit}")
        self.limit = limit


class RunChanged(Exception):
    """The project or run moved while this request was being processed."""

    def __init__(self, project_status: ProjectStatus | None) -> None:
        super().__init__("changed")
        self.project_status = project_status


# --- the service ---------------------------------------------------------------------------


class RunService:
    def __init__(
        self,
        runs: RunRepository,
        projects: ProjectReader,
        events: EventLog,
        workflow: WorkflowStarter,
        clock: Clock = utc_now,
    ) -> None:
        self._runs = runs
        self._projects = projects
        self._events = events
        self._workflow = workflow
        self._clock = clock

    def create(
        self,
        workspace_id: str,
        project_id: str,
        request: RunCreate,
        concurrency_limit: int | None,
        *,
        trigger: str | None = None,
        retry_of: str | None = None,
    ) -> Run:
        target = self._projects.load_for_build(workspace_id, project_id)
        if target is None:
            raise not_found("project", project_id)
        project = target.project
        if project.status not in BUILDABLE:
            raise conflict("start a run of", project.status, BUILDABLE)
        if project.specVersion is None or project.approvedAt is None:
            raise conflict("start a run of", project.status, BUILDABLE)
        now = self._clock()
        stamp = iso(now)
        run_id = ids.new_id("run", int(now.timestamp() * 1000))
        run = Run(
            id=run_id,
            projectId=project_id,
            runNumber=target.run_count + 1,
            status=RunStatus.QUEUED,
            trigger=trigger or request.trigger,
            callbackId=run_id,
            specVersion=project.specVersion,
            retryOf=retry_of,
            createdAt=stamp,
            updatedAt=stamp,
        )
        try:
            self._runs.create(workspace_id, NewRun(run, target.revision, concurrency_limit))
        except ConcurrencyLimitReached as reached:
            raise KilnError(
                ErrorCode.CONCURRENCY_LIMIT_EXCEEDED,
                f"This workspace already runs {reached.limit} build(s) at once, its tier's limit; "
                "wait for one to finish or cancel one.",
                {"limit": reached.limit, "retryAfterSeconds": 30},
                headers={"Retry-After": "30"},
            ) from None
        except RunChanged as changed:
            if changed.project_status is None:
                raise not_found("project", project_id) from None
            raise conflict("start a run of", changed.project_status, BUILDABLE) from None
        # The first event, before any worker can append one.
        self._events.append(
            workspace_id,
            project_id,
            run.id,
            EventType.RUN_STARTED,
            payload={"runNumber": run.runNumber, "trigger": run.trigger, "specVersion": run.specVersion},
        )
        self._runs.set_status(workspace_id, project_id, run.id, RunStatus.DECOMPOSING, frozenset({RunStatus.QUEUED}))
        try:
            self._workflow.start(run.id, {"workspaceId": workspace_id, "projectId": project_id, "runId": run.id})
        except Exception:
            # Nothing will drive the run: finish it now so the slot and the project are released.
            self._finish_unstarted(workspace_id, run)
            raise
        current = self._runs.get(workspace_id, project_id, run.id)
        return current or run

    def retry(self, workspace_id: str, project_id: str, run_id: str, concurrency_limit: int | None) -> Run:
        previous = self.get(workspace_id, project_id, run_id)
        if previous.status not in TERMINAL:
            raise KilnError(
                ErrorCode.CONFLICT,
                f"Run {run_id} is still {previous.status.value}; only a finished run can be retried.",
                {"currentStatus": previous.status.value, "allowedFrom": sorted(s.value for s in TERMINAL)},
            )
        return self.create(
            workspace_id, project_id, RunCreate(), concurrency_limit, trigger=RETRY_TRIGGER, retry_of=run_id
        )

    def cancel(self, workspace_id: str, project_id: str, run_id: str) -> Run:
        run = self.get(workspace_id, project_id, run_id)
        if run.status in TERMINAL:
            raise KilnError(
                ErrorCode.CONFLICT,
                f"Run {run_id} has already finished ({run.status.value}).",
                {"currentStatus": run.status.value, "allowedFrom": sorted(s.value for s in ACTIVE)},
            )
        # Record the outcome first (workers check it before every write), then stop the execution.
        stamp = iso(self._clock())
        finished = self._runs.finish(
            workspace_id,
            project_id,
            run_id,
            RunStatus.CANCELLED,
            ProjectStatus.APPROVED,
            {"error": None, "finishedAt": stamp},
        )
        if finished:
            self._runs.cancel_tasks(workspace_id, run_id, stamp)
            self._events.append(
                workspace_id, project_id, run_id, EventType.RUN_CANCELLED, payload={"runNumber": run.runNumber}
            )
            self._workflow.stop(run_id, "cancelled by the user")
        current = self.get(workspace_id, project_id, run_id)
        if not finished and current.status is not RunStatus.CANCELLED:
            raise KilnError(
                ErrorCode.CONFLICT,
                f"Run {run_id} finished ({current.status.value}) before it could be cancelled.",
                {"currentStatus": current.status.value, "allowedFrom": sorted(s.value for s in ACTIVE)},
            )
        return current

    def list_page(
        self, workspace_id: str, project_id: str, filters: RunListFilter, page: int, size: int
    ) -> tuple[list[Run], int]:
        self._require_project(workspace_id, project_id)
        return self._runs.page(workspace_id, project_id, filters, page, size)

    def list_cursor(
        self, workspace_id: str, project_id: str, filters: RunListFilter, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Run], dict[str, Any] | None]:
        self._require_project(workspace_id, project_id)
        return self._runs.list(workspace_id, project_id, filters, limit, after)

    def _require_project(self, workspace_id: str, project_id: str) -> None:
        if self._projects.load_for_build(workspace_id, project_id) is None:
            raise not_found("project", project_id)

    def get(self, workspace_id: str, project_id: str, run_id: str) -> Run:
        run = self._runs.get(workspace_id, project_id, run_id)
        if run is None:
            raise not_found("run", run_id)
        return run

    def detail(self, workspace_id: str, project_id: str, run_id: str) -> RunDetail:
        run = self._runs.detail(workspace_id, project_id, run_id)
        if run is None:
            raise not_found("run", run_id)
        return run

    def tasks(self, workspace_id: str, project_id: str, run_id: str) -> list[Task]:
        self.get(workspace_id, project_id, run_id)
        return self._runs.tasks(workspace_id, run_id)

    def task(self, workspace_id: str, project_id: str, run_id: str, task_id: str) -> Task:
        self.get(workspace_id, project_id, run_id)
        task = self._runs.task(workspace_id, run_id, task_id)
        if task is None:
            raise not_found("task", task_id)
        return task

    def events(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        *,
        after: int,
        limit: int,
        where: EventFilter = EVERY_EVENT,
    ) -> list[Event]:
        self.get(workspace_id, project_id, run_id)
        return self._events.list(workspace_id, run_id, after=after, limit=limit, where=where)

    def follow(self, workspace_id: str, project_id: str, run_id: str, *, after: int, limit: int) -> EventBatch:
        """One poll of a stream reader positioned at event `after`.

        The event log, not the run's status, says when a reader has everything: a run turns
        terminal a moment before its terminal event is appended, and a reader that stopped on
        the status alone could miss that last event."""
        run = self.get(workspace_id, project_id, run_id)
        # Reading from the event at `after` itself costs one item and tells whether the reader
        # resumes from the terminal event, which is what EventSource resends after the last frame.
        read = self._events.list(workspace_id, run_id, after=max(after - 1, 0), limit=limit + 1)
        fresh = [event for event in read if event.id > after][:limit]
        behind = [event for event in read if event.id <= after]
        ended = any(event.eventType in TERMINAL_EVENTS for event in behind + fresh)
        finished = run.status in TERMINAL
        if finished and not ended and not fresh:
            # Past the terminal event by more than one (a late event after it, or an id from
            # elsewhere), or the terminal event is being appended right now: look it up.
            last_word = self._events.list(
                workspace_id, run_id, after=0, limit=1, where=EventFilter(types=TERMINAL_EVENTS)
            )
            ended = bool(last_word) and last_word[0].id <= after
        return EventBatch(fresh, ended, finished)

    def _finish_unstarted(self, workspace_id: str, run: Run) -> None:
        error = {"reason": "start_failed", "message": "The build workflow could not be started."}
        if self._runs.finish(
            workspace_id,
            run.projectId,
            run.id,
            RunStatus.FAILED,
            ProjectStatus.FAILED,
            {"error": error, "finishedAt": iso(self._clock())},
        ):
            self._events.append(workspace_id, run.projectId, run.id, EventType.RUN_FAILED, payload=error)

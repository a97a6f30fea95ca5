"""What a build is made of: the task plan, task results, verification and events. No AWS here.

A run (kiln.domain.runs) asks the generator to *plan* the approved spec into tasks, has it
*implement* each task on its own branch, verifies the merged result and merges the branches
into `main`. This module holds the data those steps exchange and the rules a plan must obey,
so every generator's plan is checked the same way before anything runs.
"""

from __future__ import annotations

import fnmatch
import re
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

TASK_ID = r"^task-\d{3}$"
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_TASKS = 200
MAX_FILES_PER_TASK = 200
MAX_FILE_BYTES = 1024 * 1024
# A plan's JSON at most: the run's detail answers it whole (Lambda answers at most 6 MB), and
# every step that needs the plan reads it.
MAX_PLAN_BYTES = 1024 * 1024


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class TaskDefinition(_Model):
    id: Annotated[str, StringConstraints(pattern=TASK_ID)] = Field(examples=["task-001"])
    slug: Annotated[str, StringConstraints(pattern=SLUG, max_length=60)] = Field(examples=["scaffold"])
    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    instructions: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    dependencies: list[Annotated[str, StringConstraints(pattern=TASK_ID)]] = Field(default_factory=list)
    # Globs (fnmatch, `**` allowed) of the repository paths this task may write.
    pathScope: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        min_length=1, max_length=50
    )
    # Paths that must exist once the task is done (checked by verification).
    expectedOutputs: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=MAX_FILES_PER_TASK
    )

    @property
    def branch(self) -> str:
        return branch_name(self.id, self.slug)

    def in_scope(self, path: str) -> bool:
        return any(scope_matches(pattern, path) for pattern in self.pathScope)


def branch_name(task_id: str, slug: str) -> str:
    """`feat/task-001-<slug>` (CONTRACT section 6)."""
    return f"feat/{task_id}-{slug}"


def scope_matches(pattern: str, path: str) -> bool:
    """Whether a repository path (no leading slash) falls under a pathScope glob.

    `dir/**` matches everything below dir; `*` stays within one path segment.
    """
    regex = re.escape(pattern.strip("/")).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
    regex = regex.replace(r"\?", "[^/]")
    return re.fullmatch(regex, path) is not None


# Stored as one item per task (each holds its definition) and the merge order on the run item
# (kiln.adapters.dynamodb.runs); `GET .../runs/{runId}` shows it whole as `tasksJson`.
class TaskPlan(_Model):
    """decompose's output: the run's tasks and the order their branches merge into main."""

    tasks: list[TaskDefinition] = Field(min_length=1, max_length=MAX_TASKS)
    mergeOrder: list[Annotated[str, StringConstraints(pattern=TASK_ID)]]

    @model_validator(mode="after")
    def _consistent(self) -> TaskPlan:
        problems = plan_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def stored(cls, tasks: list[TaskDefinition], merge_order: list[str]) -> TaskPlan:
        """The plan as decompose stored it, read back: not checked again. It was checked whole
        before it was stored, and checking every pair of a 200-task plan's scopes on each step
        would cost more than the step's own reads."""
        return cls.model_construct(tasks=tasks, mergeOrder=merge_order)

    def task(self, task_id: str) -> TaskDefinition:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def waves(self) -> list[list[str]]:
        """Tasks grouped so each wave's dependencies are all in earlier waves."""
        done: set[str] = set()
        remaining = [t for t in self.tasks]
        waves: list[list[str]] = []
        while remaining:
            ready = [t.id for t in remaining if set(t.dependencies) <= done]
            waves.append(ready)
            done |= set(ready)
            remaining = [t for t in remaining if t.id not in done]
        return waves


def _ancestors(tasks: dict[str, TaskDefinition]) -> dict[str, set[str]]:
    memo: dict[str, set[str]] = {}

    def visit(task_id: str, trail: tuple[str, ...]) -> set[str]:
        if task_id in memo:
            return memo[task_id]
        if task_id in trail:
            raise ValueError("dependency cycle: " + " -> ".join(trail + (task_id,)))
        found: set[str] = set()
        for dependency in tasks[task_id].dependencies:
            found |= {dependency} | visit(dependency, trail + (task_id,))
        memo[task_id] = found
        return found

    for task_id in tasks:
        visit(task_id, ())
    return memo


def _globs_may_overlap(a: str, b: str) -> bool:
    """Conservative: could some path match both globs? (literal prefixes compared)."""

    def literal_prefix(glob: str) -> str:
        cut = min([i for i, c in enumerate(glob) if c in "*?["] or [len(glob)])
        return glob[:cut]

    a, b = a.strip("/"), b.strip("/")
    if a == b:
        return True
    pa, pb = literal_prefix(a), literal_prefix(b)
    if pa == a and pb == b:  # two literal paths
        return False
    if pa == a:
        return scope_matches(b, a)
    if pb == b:
        return scope_matches(a, b)
    return pa.startswith(pb) or pb.startswith(pa) or fnmatch.fnmatch(pa, pb) or fnmatch.fnmatch(pb, pa)


def plan_problems(plan: TaskPlan) -> list[str]:
    """Every reason the plan cannot run: unknown or cyclic dependencies, a bad merge order,
    overlapping path scopes between tasks that no dependency orders."""
    problems: list[str] = []
    size = len(plan.model_dump_json())
    if size > MAX_PLAN_BYTES:
        problems.append(f"the plan is {size} bytes of JSON, over the {MAX_PLAN_BYTES} bytes a plan may hold")
    tasks = {t.id: t for t in plan.tasks}
    if len(tasks) != len(plan.tasks):
        problems.append("task ids must be distinct")
    if len({t.slug for t in plan.tasks}) != len(plan.tasks):
        problems.append("task slugs must be distinct")
    for task in plan.tasks:
        unknown = [d for d in task.dependencies if d not in tasks]
        if unknown:
            problems.append(f"{task.id} depends on unknown task(s) {', '.join(unknown)}")
        if task.id in task.dependencies:
            problems.append(f"{task.id} depends on itself")
    if problems:
        return problems
    try:
        ancestors = _ancestors(tasks)
    except ValueError as error:
        return [str(error)]
    if sorted(plan.mergeOrder) != sorted(tasks):
        problems.append("mergeOrder must list every task exactly once")
    else:
        position = {task_id: index for index, task_id in enumerate(plan.mergeOrder)}
        for task in plan.tasks:
            for dependency in task.dependencies:
                if position[dependency] > position[task.id]:
                    problems.append(f"mergeOrder puts {task.id} before its dependency {dependency}")
    ids = list(tasks)
    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            if first in ancestors[second] or second in ancestors[first]:
                continue  # ordered by dependencies: the later one may build on the earlier's files
            for a in tasks[first].pathScope:
                for b in tasks[second].pathScope:
                    if _globs_may_overlap(a, b):
                        problems.append(
                            f"path scopes of {first} ({a}) and {second} ({b}) overlap and "
                            "no dependency orders the two tasks"
                        )
    return problems


class TaskStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskResult(_Model):
    filesCreated: list[str] = Field(default_factory=list)
    filesModified: list[str] = Field(default_factory=list)
    commitSha: str | None = None


class SuiteCounts(_Model):
    """The generated project's test suite as unittest summarized it ("Ran N tests", "FAILED (...)")."""

    run: int = Field(ge=0)
    failures: int = Field(default=0, ge=0)
    errors: int = Field(default=0, ge=0)
    skipped: int = Field(default=0, ge=0)


class VerificationCheck(_Model):
    name: str
    passed: bool
    output: str = ""
    # The unittest check's counts, when the run got as far as unittest's summary line.
    tests: SuiteCounts | None = None


class VerificationResult(_Model):
    passed: bool
    checks: list[VerificationCheck]


class EventType(str, Enum):
    RUN_STARTED = "RUN_STARTED"
    TASK_STARTED = "TASK_STARTED"
    FILE_CREATED = "FILE_CREATED"
    FILE_MODIFIED = "FILE_MODIFIED"
    TASK_COMPLETED = "TASK_COMPLETED"
    TASK_FAILED = "TASK_FAILED"
    # A model-written task repaired after verification failed (kiln.domain.repairs).
    TASK_REPAIR_STARTED = "TASK_REPAIR_STARTED"
    TASK_REPAIR_COMPLETED = "TASK_REPAIR_COMPLETED"
    TASK_REPAIR_FAILED = "TASK_REPAIR_FAILED"
    VERIFICATION_COMPLETED = "VERIFICATION_COMPLETED"
    RUN_COMPLETED = "RUN_COMPLETED"
    RUN_FAILED = "RUN_FAILED"
    RUN_CANCELLED = "RUN_CANCELLED"


TERMINAL_EVENTS = frozenset({EventType.RUN_COMPLETED, EventType.RUN_FAILED, EventType.RUN_CANCELLED})


class Event(_Model):
    # A per-run sequence number: strictly increasing in commit order, so `after=<id>` and
    # SSE's Last-Event-ID resume with no gap and no duplicate.
    id: int
    runId: str
    taskId: str | None = None
    eventType: EventType
    payload: dict[str, Any] = Field(default_factory=dict)
    createdAt: str


# --- the generator's build steps -----------------------------------------------------------


class ImplementRequest(_Model):
    """What implement sees: the task, the approved spec documents and the files it builds on
    (the merged output of its dependencies, path -> UTF-8 text)."""

    task: TaskDefinition
    documents: dict[str, str]
    files: dict[str, str] = Field(default_factory=dict)


class RepairRequest(_Model):
    """What repair sees: a task whose files failed verification, the approved spec documents,
    the tree as it was verified (path -> UTF-8 text, the task's own files included) and what
    verification found wrong with the task's files, in words for the generator."""

    task: TaskDefinition
    documents: dict[str, str]
    files: dict[str, str] = Field(default_factory=dict)
    failures: list[Annotated[str, StringConstraints(min_length=1)]] = Field(min_length=1)
    attempt: int = Field(ge=1)


class Implementation(_Model):
    """implement's (and repair's) output: the files the task writes (path -> full new content)."""

    files: dict[Annotated[str, StringConstraints(min_length=1, max_length=1024)], str] = Field(
        max_length=MAX_FILES_PER_TASK
    )
    summary: Annotated[str, StringConstraints(max_length=2_000)] = ""


Outcome = Literal["succeeded", "failed", "cancelled"]

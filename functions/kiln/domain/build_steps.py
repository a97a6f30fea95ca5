"""The steps of the build workflow, as the Step Functions workers run them. No AWS here.

    decompose -> execute (task waves, tasks of a wave in parallel) -> verify -> merge -> finish

Each step is safe to run twice (Step Functions retries, at-least-once invocation): tasks
restart their branch from the same base, events are appended once per transition, and a
run that has finished (cancelled meanwhile) makes every later step stop without writing.
Exceptions' class names are the error names the workflow's Retry and Catch rules match.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from kiln.clock import Clock, iso, utc_now
from kiln.domain import git_paths
from kiln.domain.builds import (
    EventType,
    ImplementRequest,
    TaskDefinition,
    TaskPlan,
    TaskResult,
    TaskStatus,
    VerificationResult,
)
from kiln.domain.generation import GenerationFailed, Generator
from kiln.domain.projects import ProjectStatus
from kiln.domain.repository import (
    Author,
    InvalidPath,
    MergeConflict,
    RefConflict,
    RefusedByGit,
    Repository,
    normalize_path,
)
from kiln.domain.runs import ACTIVE, EventLog, RunStatus, SpecSnapshot, Task
from kiln.domain.verification import SandboxUnavailable

MAIN = "main"
AUTHOR = Author("Kiln", "builds@kiln.invalid")
MAX_ERROR_TEXT = 2_000


# --- errors the workflow matches on (class names are the Lambda errorType) ----------------

class TransientBuildError(Exception):
    """Worth retrying with backoff: a throttled or unavailable dependency."""


class TaskFailed(Exception):
    """A task failed for good (bad output, path scope violation); the run fails."""


class PlanningFailed(Exception):
    """The generator's plan is unusable; the run fails."""


class VerificationFailed(Exception):
    """The merged result did not pass verification; the run fails."""


class MergeFailed(Exception):
    """A task branch could not be merged into main; the run fails."""


class RunAlreadyFinished(Exception):
    """The run reached a terminal state (cancelled) while this step was pending; stop quietly."""


# --- ports ---------------------------------------------------------------------------------

class BuildLedger(Protocol):
    """What the steps read and write about a run (kiln.adapters.dynamodb.runs.RunStore)."""

    def raw(self, workspace_id: str, project_id: str, run_id: str) -> dict[str, Any] | None: ...

    def snapshot(self, workspace_id: str, project_id: str, version: int) -> SpecSnapshot | None: ...

    def set_status(self, workspace_id: str, project_id: str, run_id: str, status: RunStatus,
                   allowed_from: frozenset[RunStatus], changes: dict[str, Any] | None = None) -> bool: ...

    def put_tasks(self, workspace_id: str, tasks: list[Task]) -> None: ...

    def update_task(self, workspace_id: str, run_id: str, task_id: str, changes: dict[str, Any],
                    only_if_status: frozenset[TaskStatus] | None = None, increment_attempts: bool = False) -> bool: ...

    def count_task(self, workspace_id: str, project_id: str, run_id: str, counter: str) -> None: ...

    def tasks(self, workspace_id: str, run_id: str) -> list[Task]: ...

    def task(self, workspace_id: str, run_id: str, task_id: str) -> Task | None: ...

    def finish(self, workspace_id: str, project_id: str, run_id: str, outcome: RunStatus,
               project_status: ProjectStatus, changes: dict[str, Any]) -> bool: ...


Verifier = Callable[[dict[str, bytes], TaskPlan], VerificationResult]


@dataclass(frozen=True)
class RunRef:
    workspace_id: str
    project_id: str
    run_id: str

    @classmethod
    def of(cls, event: dict[str, Any]) -> RunRef:
        return cls(str(event["workspaceId"]), str(event["projectId"]), str(event["runId"]))


class BuildSteps:
    def __init__(self, ledger: BuildLedger, events: EventLog, repository: Callable[[str, str], Repository],
                 generator: Callable[[], Generator], verifier: Verifier, clock: Clock = utc_now) -> None:
        self._ledger = ledger
        self._events = events
        self._repository = repository
        self._generator = generator
        self._verifier = verifier
        self._clock = clock

    # --- decompose ----------------------------------------------------------------------

    def decompose(self, ref: RunRef) -> dict[str, Any]:
        run = self._active(ref)
        self._ledger.set_status(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.DECOMPOSING,
                                frozenset({RunStatus.QUEUED, RunStatus.DECOMPOSING}))
        if run.get("tasksJson"):  # a retried invocation: the plan is stored already
            plan = TaskPlan.model_validate(run["tasksJson"])
        else:
            documents = self._documents(ref, run)
            try:
                plan = TaskPlan.model_validate(self._call(lambda g: g.plan(documents), PlanningFailed).model_dump())
            except ValidationError as error:
                raise PlanningFailed(_short(f"the plan is invalid: {error}")) from None
            now = self._now()
            self._ledger.put_tasks(ref.workspace_id, [
                Task(id=t.id, runId=ref.run_id, definition=t, status=TaskStatus.PENDING, branchName=t.branch)
                for t in plan.tasks])
            self._ledger.set_status(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.DECOMPOSING,
                                    frozenset({RunStatus.DECOMPOSING}),
                                    {"tasksJson": plan.model_dump(mode="json"), "tasksTotal": len(plan.tasks),
                                     "updatedAt": now})
        self._ledger.set_status(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.EXECUTING,
                                frozenset({RunStatus.DECOMPOSING, RunStatus.EXECUTING}), {"updatedAt": self._now()})
        return {"waves": plan.waves()}

    # --- execute one task ---------------------------------------------------------------

    def execute_task(self, ref: RunRef, task_id: str) -> dict[str, Any]:
        run = self._active(ref)
        plan = TaskPlan.model_validate(run["tasksJson"])
        task = plan.task(task_id)
        stored = self._ledger.task(ref.workspace_id, ref.run_id, task_id)
        if stored is not None and stored.status is TaskStatus.SUCCEEDED and stored.result:
            return stored.result.model_dump(mode="json")  # a duplicate invocation after success
        self._ledger.update_task(ref.workspace_id, ref.run_id, task_id,
                                 {"status": TaskStatus.RUNNING.value, "startedAt": self._now()},
                                 increment_attempts=True)
        attempt = (stored.attempts if stored else 0) + 1
        self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.TASK_STARTED, task_id=task_id,
                            payload={"branchName": task.branch, "attempt": attempt})
        repository = self._repository(ref.workspace_id, ref.project_id)
        base = self._task_base(repository, plan, task)
        documents = self._documents(ref, run)
        context = self._texts(repository, base)
        implementation = self._call(lambda g: g.implement(
            ImplementRequest(task=task, documents=documents, files=context)))
        changes = self._checked_changes(ref, task, implementation.files)
        self._active(ref)  # cancelled while implementing: write nothing
        repository.point(task.branch, base)
        commit = repository.commit(task.branch, changes, f"{task.id}: {task.description}", AUTHOR, parent=base)
        diff = repository.diff(base, commit.id)
        result = TaskResult(filesCreated=list(diff.created), filesModified=list(diff.modified), commitSha=commit.id)
        for path in diff.created:
            self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.FILE_CREATED, task_id=task_id,
                                payload={"path": path, "size": len(changes[path] or b"")})
        for path in diff.modified:
            self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.FILE_MODIFIED, task_id=task_id,
                                payload={"path": path, "size": len(changes[path] or b"")})
        if self._ledger.update_task(ref.workspace_id, ref.run_id, task_id,
                                    {"status": TaskStatus.SUCCEEDED.value, "result": result.model_dump(mode="json"),
                                     "finishedAt": self._now()},
                                    only_if_status=frozenset({TaskStatus.RUNNING})):
            self._ledger.count_task(ref.workspace_id, ref.project_id, ref.run_id, "tasksSucceeded")
            self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.TASK_COMPLETED,
                                task_id=task_id, payload=result.model_dump(mode="json"))
        return result.model_dump(mode="json")

    def _task_base(self, repository: Repository, plan: TaskPlan, task: TaskDefinition) -> str:
        """Where a task's branch starts: main (or an empty root commit on a first build) with
        the branches of every dependency merged in."""
        main = repository.branches().get(MAIN)
        base = main or repository.root_commit("Empty repository", AUTHOR).id
        if not task.dependencies:
            return base
        scratch = f"kiln/base/{task.id}"
        repository.point(scratch, base)
        for dependency in task.dependencies:
            branch = plan.task(dependency).branch
            try:
                repository.merge(scratch, branch, f"Merge {branch} into the base of {task.id}", AUTHOR)
            except MergeConflict as conflict:
                raise TaskFailed(
                    f"the outputs of {task.id}'s dependencies conflict: {', '.join(conflict.paths)}") from None
        return repository.resolve(scratch)

    @staticmethod
    def _texts(repository: Repository, commit: str) -> dict[str, str]:
        texts = {}
        for path in repository.files(commit):
            try:
                texts[path] = repository.read_file(commit, path).decode("utf-8")
            except UnicodeDecodeError:
                continue  # binary files are not shown to the generator
        return texts

    def _checked_changes(self, ref: RunRef, task: TaskDefinition, files: dict[str, str]) -> dict[str, bytes | None]:
        outside: list[str] = []
        invalid: list[str] = []
        refused: list[str] = []
        changes: dict[str, bytes | None] = {}
        for raw_path, content in files.items():
            try:
                path = normalize_path(raw_path)
            except RefusedByGit as error:
                refused.append(f"{raw_path!r} ({error})")
                continue
            except InvalidPath as error:
                invalid.append(f"{raw_path!r} ({error})")
                continue
            if not task.in_scope(path):
                outside.append(path)
                continue
            data = content.encode("utf-8")
            problem = git_paths.content_problem(path, data)
            if problem is not None:
                refused.append(f"{path!r} ({problem.message})")
            changes[path] = data
        if outside or invalid or refused:
            problems = ([f"outside its pathScope: {', '.join(sorted(outside))}"] if outside else []) + (
                [f"invalid paths: {', '.join(invalid)}"] if invalid else []) + (
                [f"files git refuses: {', '.join(refused)}"] if refused else [])
            message = f"{task.id} wrote files " + "; ".join(problems)
            # A file git refuses is named as such: the tree could never be cloned or pushed.
            self._fail_task(ref, task.id, message, "git_path" if refused else "path_scope_violation")
            raise TaskFailed(message)
        return changes

    def _fail_task(self, ref: RunRef, task_id: str, message: str, reason: str) -> None:
        if self._ledger.update_task(ref.workspace_id, ref.run_id, task_id,
                                    {"status": TaskStatus.FAILED.value, "error": _short(message),
                                     "finishedAt": self._now()},
                                    only_if_status=frozenset({TaskStatus.RUNNING, TaskStatus.PENDING})):
            self._ledger.count_task(ref.workspace_id, ref.project_id, ref.run_id, "tasksFailed")
            self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.TASK_FAILED, task_id=task_id,
                                payload={"reason": reason, "message": _short(message)})

    # --- verify and merge ---------------------------------------------------------------

    def verify(self, ref: RunRef) -> dict[str, Any]:
        run = self._active(ref)
        self._ledger.set_status(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.VERIFYING,
                                frozenset({RunStatus.EXECUTING, RunStatus.VERIFYING}), {"updatedAt": self._now()})
        plan = TaskPlan.model_validate(run["tasksJson"])
        repository = self._repository(ref.workspace_id, ref.project_id)
        files = self._merged_files(ref, repository, plan)
        try:
            result = self._verifier(files, plan)
        except SandboxUnavailable as error:  # throttled or not ready: the step is retried with backoff
            raise TransientBuildError(f"the build sandbox is unavailable: {error}") from None
        self._ledger.set_status(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.VERIFYING,
                                frozenset({RunStatus.VERIFYING}),
                                {"verificationResult": result.model_dump(mode="json"), "updatedAt": self._now()})
        self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.VERIFICATION_COMPLETED,
                            payload={"passed": result.passed,
                                     "checks": [{"name": c.name, "passed": c.passed} for c in result.checks]})
        if not result.passed:
            failed = ", ".join(c.name for c in result.checks if not c.passed)
            raise VerificationFailed(f"verification failed: {failed}")
        return {"passed": True}

    def _merged_files(self, ref: RunRef, repository: Repository, plan: TaskPlan) -> dict[str, bytes]:
        """The tree main would have after the merge: main plus each task's changes in mergeOrder."""
        main = repository.branches().get(MAIN)
        tree = {path: repository.read_file(main, path) for path in repository.files(main)} if main else {}
        for task_id in plan.mergeOrder:
            stored = self._ledger.task(ref.workspace_id, ref.run_id, task_id)
            if stored is None or stored.result is None or stored.result.commitSha is None:
                raise VerificationFailed(f"{task_id} has no result to verify")
            for path in [*stored.result.filesCreated, *stored.result.filesModified]:
                tree[path] = repository.read_file(stored.result.commitSha, path)
        return tree

    def merge(self, ref: RunRef) -> dict[str, Any]:
        run = self._active(ref)
        self._ledger.set_status(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.MERGING,
                                frozenset({RunStatus.VERIFYING, RunStatus.MERGING}), {"updatedAt": self._now()})
        plan = TaskPlan.model_validate(run["tasksJson"])
        repository = self._repository(ref.workspace_id, ref.project_id)
        for task_id in plan.mergeOrder:
            branch = plan.task(task_id).branch
            try:
                repository.merge(MAIN, branch, f"Merge {branch} (run {run.get('runNumber')})", AUTHOR)
            except MergeConflict as conflict:
                raise MergeFailed(f"merging {branch} into main conflicts on {', '.join(conflict.paths)}") from None
            except RefConflict:
                raise TransientBuildError("main moved while merging; retrying the merge") from None
        head = repository.resolve(MAIN)
        self._ledger.set_status(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.MERGING,
                                frozenset({RunStatus.MERGING}), {"mergeCommit": head, "updatedAt": self._now()})
        return {"commit": head}

    # --- finish ---------------------------------------------------------------------------

    def finish(self, ref: RunRef, error: dict[str, Any] | None) -> dict[str, Any]:
        """The workflow's last state, on success (`error` None) or after any Catch."""
        run = self._ledger.raw(ref.workspace_id, ref.project_id, ref.run_id)
        if run is None or RunStatus(run["status"]) not in ACTIVE:
            return {"status": run["status"] if run else "missing"}
        now = self._now()
        if error is None:
            if self._ledger.finish(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.SUCCEEDED,
                                   ProjectStatus.BUILT, {"finishedAt": now}):
                self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.RUN_COMPLETED,
                                    payload={"commit": run.get("mergeCommit"), "runNumber": run.get("runNumber")})
            return {"status": RunStatus.SUCCEEDED.value}
        reason, message, task_id = _describe(error)
        for task in self._ledger.tasks(ref.workspace_id, ref.run_id):
            if task.status is TaskStatus.RUNNING:
                if task.id == task_id:  # the task the error names failed with it
                    self._fail_task(ref, task.id, message, reason)
                else:
                    self._fail_task(ref, task.id, "stopped: the run failed", "run_failed")
            elif task.status is TaskStatus.PENDING:
                self._ledger.update_task(ref.workspace_id, ref.run_id, task.id,
                                         {"status": TaskStatus.CANCELLED.value, "finishedAt": now},
                                         only_if_status=frozenset({TaskStatus.PENDING}))
        details = {"reason": reason, "message": message, "taskId": task_id}
        if self._ledger.finish(ref.workspace_id, ref.project_id, ref.run_id, RunStatus.FAILED, ProjectStatus.FAILED,
                               {"finishedAt": now, "error": details}):
            self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.RUN_FAILED, payload=details)
        return {"status": RunStatus.FAILED.value}

    # --- shared -------------------------------------------------------------------------

    def _active(self, ref: RunRef) -> dict[str, Any]:
        run = self._ledger.raw(ref.workspace_id, ref.project_id, ref.run_id)
        if run is None:
            raise RunAlreadyFinished(f"run {ref.run_id} does not exist")
        if RunStatus(run["status"]) not in ACTIVE:
            raise RunAlreadyFinished(f"run {ref.run_id} is {run['status']}")
        return run

    def _documents(self, ref: RunRef, run: dict[str, Any]) -> dict[str, str]:
        snapshot = self._ledger.snapshot(ref.workspace_id, ref.project_id, int(run["specVersion"]))
        if snapshot is None:
            raise PlanningFailed(f"spec version {run['specVersion']} is missing")
        return snapshot.documents

    def _call(self, call: Callable[[Generator], Any], failed: type[Exception] = TaskFailed) -> Any:
        try:
            return call(self._generator())
        except GenerationFailed as failure:
            if failure.reason == "unavailable":
                raise TransientBuildError(failure.message) from None
            raise failed(f"the generator failed ({failure.reason}): {failure.message}") from None

    def _now(self) -> str:
        return iso(self._clock())


_REASONS = {
    "TaskFailed": "task_failed",
    "PlanningFailed": "planning_failed",
    "VerificationFailed": "verification_failed",
    "MergeFailed": "merge_conflict",
    "TransientBuildError": "dependency_unavailable",
    "States.Timeout": "timeout",
    "States.TaskFailed": "task_failed",
}


def _describe(error: dict[str, Any]) -> tuple[str, str, str | None]:
    """(reason, message, task id) from a Step Functions Catch result {Error, Cause}."""
    name = str(error.get("Error") or "States.TaskFailed")
    cause = error.get("Cause") or ""
    message, task_id = cause, None
    try:
        document = json.loads(cause)
        if isinstance(document, dict):
            message = str(document.get("errorMessage") or cause)
    except (TypeError, ValueError):
        pass
    for word in str(message).split():
        if word.startswith("task-") and word.rstrip(":,.")[5:].isdigit():
            task_id = word.rstrip(":,.")
            break
    if isinstance(error.get("taskId"), str):
        task_id = error["taskId"]
    return _REASONS.get(name, "internal_error"), _short(str(message) or name), task_id


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


def run_sequentially(steps: BuildSteps, ref: RunRef, transient_attempts: int = 3) -> dict[str, Any]:
    """The build workflow's semantics in-process, one task at a time, for tests and the
    benchmark's baseline: the same steps, retries of transient errors, and a recorded outcome
    whatever fails (as the state machine's Catch rules do)."""

    def attempt(call: Callable[[], Any]) -> Any:
        for number in range(1, transient_attempts + 1):
            try:
                return call()
            except TransientBuildError:
                if number == transient_attempts:
                    raise

    try:
        waves = attempt(lambda: steps.decompose(ref))["waves"]
        for wave in waves:
            for task_id in wave:
                attempt(functools.partial(steps.execute_task, ref, task_id))
        attempt(lambda: steps.verify(ref))
        attempt(lambda: steps.merge(ref))
    except RunAlreadyFinished:
        return {"status": "already_finished"}
    except Exception as error:  # noqa: BLE001 - like the workflow's States.ALL catch
        cause = json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)})
        return steps.finish(ref, {"Error": type(error).__name__, "Cause": cause})
    return steps.finish(ref, None)

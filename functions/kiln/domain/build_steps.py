"""The steps of the build workflow, as the Step Functions workers run them. No AWS here.

    decompose -> execute (task waves, tasks of a wave in parallel) -> verify -> merge -> finish
                                                                      ^    |
                                                                      +----+ repair (failed, with repairs left)

When verification fails and the generator can repair (a model: kiln.domain.generation.Repairs),
verify answers a verdict naming the tasks behind the failures (kiln.domain.repairs) instead of
failing, and each of them is repaired (a commit on its branch) before verifying again, at most
`repair_attempts` times; only then does the run fail.

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
from kiln.domain import git_paths, repairs
from kiln.domain.builds import (
    EventType,
    ImplementRequest,
    RepairRequest,
    TaskDefinition,
    TaskPlan,
    TaskResult,
    TaskStatus,
    VerificationResult,
)
from kiln.domain.generation import GenerationFailed, Generator, can_repair, repair
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
from kiln.domain.runs import ACTIVE, EventFilter, EventLog, RunStatus, SpecSnapshot, Task, stored_plan
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

    def set_status(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        status: RunStatus,
        allowed_from: frozenset[RunStatus],
        changes: dict[str, Any] | None = None,
    ) -> bool: ...

    def put_tasks(self, workspace_id: str, tasks: list[Task]) -> None: ...

    def update_task(
        self,
        workspace_id: str,
        run_id: str,
        task_id: str,
        changes: dict[str, Any],
        only_if_status: frozenset[TaskStatus] | None = None,
        increment_attempts: bool = False,
    ) -> bool: ...

    def count_task(self, workspace_id: str, project_id: str, run_id: str, counter: str) -> None: ...

    def tasks(self, workspace_id: str, run_id: str) -> list[Task]:
        """Every task of the run, in plan order."""
        ...

    def tasks_named(self, workspace_id: str, run_id: str, task_ids: list[str]) -> list[Task]:
        """These tasks of the run, in the order asked (ids the run does not have are left out)."""
        ...

    def task(self, workspace_id: str, run_id: str, task_id: str) -> Task | None: ...

    def cancel_tasks(self, workspace_id: str, run_id: str, finished_at: str) -> None: ...

    def finish(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        outcome: RunStatus,
        project_status: ProjectStatus,
        changes: dict[str, Any],
    ) -> bool: ...


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
    """`repair_attempts`: how many times a failed verification may send its failures back to
    the tasks behind them (kiln.config.build_repair_attempts); 0 never repairs. decompose fixes
    a run's allowance when it plans it (`maxRepairAttempts` on the run: 0 when the generator
    cannot repair), so verify needs neither the setting nor the generator, and a run keeps the
    allowance it started with."""

    def __init__(
        self,
        ledger: BuildLedger,
        events: EventLog,
        repository: Callable[[str, str], Repository],
        generator: Callable[[], Generator],
        verifier: Verifier,
        clock: Clock = utc_now,
        *,
        repair_attempts: int = 0,
    ) -> None:
        if repair_attempts < 0:
            raise ValueError("repair_attempts must be >= 0")
        self._ledger = ledger
        self._events = events
        self._repository = repository
        self._generator = generator
        self._verifier = verifier
        self._clock = clock
        self._repair_attempts = repair_attempts

    # --- decompose ----------------------------------------------------------------------

    def decompose(self, ref: RunRef) -> dict[str, Any]:
        run = self._active(ref)
        self._move(ref, RunStatus.DECOMPOSING, (RunStatus.QUEUED, RunStatus.DECOMPOSING))
        stored = self._stored_plan(ref, run)
        if stored is not None:  # a retried invocation: the plan is stored already
            plan = stored[0]
        else:
            documents = self._documents(ref, run)
            try:
                plan = TaskPlan.model_validate(self._call(lambda g: g.plan(documents), PlanningFailed).model_dump())
            except ValidationError as error:
                raise PlanningFailed(_short(f"the plan is invalid: {error}")) from None
            now = self._now()
            self._ledger.put_tasks(
                ref.workspace_id,
                [
                    Task(id=t.id, runId=ref.run_id, definition=t, status=TaskStatus.PENDING, branchName=t.branch)
                    for t in plan.tasks
                ],
            )
            self._active(ref)  # cancelled while planning: the tasks just stored are cancelled too
            allowed = self._repair_attempts if can_repair(self._generator()) else 0
            self._move(
                ref,
                RunStatus.DECOMPOSING,
                (RunStatus.DECOMPOSING,),
                mergeOrder=plan.mergeOrder,
                tasksTotal=len(plan.tasks),
                maxRepairAttempts=allowed,
                updatedAt=now,
            )
        self._move(ref, RunStatus.EXECUTING, (RunStatus.DECOMPOSING, RunStatus.EXECUTING))
        return {"waves": plan.waves()}

    # --- execute one task ---------------------------------------------------------------

    def execute_task(self, ref: RunRef, task_id: str) -> dict[str, Any]:
        run = self._active(ref)
        stored = self._ledger.task(ref.workspace_id, ref.run_id, task_id)
        if stored is None:
            raise TaskFailed(f"{task_id} is not a task of run {ref.run_id}")
        task = stored.definition
        if stored.status is TaskStatus.SUCCEEDED and stored.result:
            return stored.result.model_dump(mode="json")  # a duplicate invocation after success
        self._ledger.update_task(
            ref.workspace_id,
            ref.run_id,
            task_id,
            {"status": TaskStatus.RUNNING.value, "startedAt": self._now()},
            increment_attempts=True,
        )
        self._active(ref)  # cancelled since the first check: the task is not left running
        attempt = stored.attempts + 1
        self._events.append(
            ref.workspace_id,
            ref.project_id,
            ref.run_id,
            EventType.TASK_STARTED,
            task_id=task_id,
            payload={"branchName": task.branch, "attempt": attempt},
        )
        repository = self._repository(ref.workspace_id, ref.project_id)
        base = self._task_base(ref, repository, task)
        documents = self._documents(ref, run)
        context = self._texts(repository, base)
        implementation = self._call(
            lambda g: g.implement(ImplementRequest(task=task, documents=documents, files=context))
        )
        changes = self._checked_changes(ref, task, implementation.files)
        self._active(ref)  # cancelled while implementing: write nothing
        repository.point(task.branch, base)
        commit = repository.commit(task.branch, changes, f"{task.id}: {task.description}", AUTHOR, parent=base)
        diff = repository.diff(base, commit.id)
        result = TaskResult(filesCreated=list(diff.created), filesModified=list(diff.modified), commitSha=commit.id)
        for path in diff.created:
            self._events.append(
                ref.workspace_id,
                ref.project_id,
                ref.run_id,
                EventType.FILE_CREATED,
                task_id=task_id,
                payload={"path": path, "size": len(changes[path] or b"")},
            )
        for path in diff.modified:
            self._events.append(
                ref.workspace_id,
                ref.project_id,
                ref.run_id,
                EventType.FILE_MODIFIED,
                task_id=task_id,
                payload={"path": path, "size": len(changes[path] or b"")},
            )
        if self._ledger.update_task(
            ref.workspace_id,
            ref.run_id,
            task_id,
            {"status": TaskStatus.SUCCEEDED.value, "result": result.model_dump(mode="json"), "finishedAt": self._now()},
            only_if_status=frozenset({TaskStatus.RUNNING}),
        ):
            self._ledger.count_task(ref.workspace_id, ref.project_id, ref.run_id, "tasksSucceeded")
            self._events.append(
                ref.workspace_id,
                ref.project_id,
                ref.run_id,
                EventType.TASK_COMPLETED,
                task_id=task_id,
                payload=result.model_dump(mode="json"),
            )
        return result.model_dump(mode="json")

    def _task_base(self, ref: RunRef, repository: Repository, task: TaskDefinition) -> str:
        """Where a task's branch starts: main (or an empty root commit on a first build) with
        the branches of every dependency merged in."""
        main = repository.branches().get(MAIN)
        base = main or repository.root_commit("Empty repository", AUTHOR).id
        if not task.dependencies:
            return base
        # Only the dependencies' items are read (a task of a 200-task plan does not read 200).
        dependencies = self._ledger.tasks_named(ref.workspace_id, ref.run_id, task.dependencies)
        if len(dependencies) != len(task.dependencies):
            missing = set(task.dependencies) - {dependency.id for dependency in dependencies}
            raise TaskFailed(f"{task.id} depends on {', '.join(sorted(missing))}, not tasks of this run")
        scratch = f"kiln/base/{task.id}"
        repository.point(scratch, base)
        for dependency_task in dependencies:
            branch = dependency_task.branchName
            try:
                repository.merge(scratch, branch, f"Merge {branch} into the base of {task.id}", AUTHOR)
            except MergeConflict as conflict:
                raise TaskFailed(
                    f"the outputs of {task.id}'s dependencies conflict: {', '.join(conflict.paths)}"
                ) from None
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
        changes, problem = screen(task, files)
        if problem is not None:
            reason, message = problem
            self._fail_task(ref, task.id, message, reason)
            raise TaskFailed(message)
        return changes

    def _fail_task(self, ref: RunRef, task_id: str, message: str, reason: str) -> None:
        if self._ledger.update_task(
            ref.workspace_id,
            ref.run_id,
            task_id,
            {"status": TaskStatus.FAILED.value, "error": _short(message), "finishedAt": self._now()},
            only_if_status=frozenset({TaskStatus.RUNNING, TaskStatus.PENDING}),
        ):
            self._ledger.count_task(ref.workspace_id, ref.project_id, ref.run_id, "tasksFailed")
            self._events.append(
                ref.workspace_id,
                ref.project_id,
                ref.run_id,
                EventType.TASK_FAILED,
                task_id=task_id,
                payload={"reason": reason, "message": _short(message)},
            )

    # --- verify and merge ---------------------------------------------------------------

    def verify(self, ref: RunRef) -> dict[str, Any]:
        run = self._active(ref)
        self._move(ref, RunStatus.VERIFYING, (RunStatus.EXECUTING, RunStatus.VERIFYING))
        plan, tasks = self._plan(ref, run)
        repository = self._repository(ref.workspace_id, ref.project_id)
        files = self._merged_files(repository, plan, tasks)
        try:
            result = self._verifier(files, plan)
        except SandboxUnavailable as error:  # throttled or not ready: the step is retried with backoff
            raise TransientBuildError(f"the build sandbox is unavailable: {error}") from None
        self._move(ref, RunStatus.VERIFYING, (RunStatus.VERIFYING,), verificationResult=result.model_dump(mode="json"))
        repaired = int(run.get("repairAttempts") or 0)
        allowed = int(run.get("maxRepairAttempts") or 0)
        verdict: dict[str, Any] = {"passed": result.passed, "attempt": repaired, "maxAttempts": allowed, "tasks": []}
        payload: dict[str, Any] = {
            "passed": result.passed,
            "checks": [{"name": c.name, "passed": c.passed} for c in result.checks],
        }
        if not result.passed:
            if repaired < allowed:  # else the attempts are spent (or the generator cannot repair)
                verdict["tasks"] = list(repairs.blame(result, plan, _owners(plan, tasks)))
            if verdict["tasks"]:
                verdict["attempt"] = repaired + 1
                payload["repair"] = {"attempt": repaired + 1, "maxAttempts": allowed, "taskIds": verdict["tasks"]}
        self._events.append(
            ref.workspace_id, ref.project_id, ref.run_id, EventType.VERIFICATION_COMPLETED, payload=payload
        )
        if not result.passed and not verdict["tasks"]:
            failed = ", ".join(c.name for c in result.checks if not c.passed)
            after = f" after {repaired} repair attempt{'s' if repaired != 1 else ''}" if repaired else ""
            raise VerificationFailed(f"verification failed: {failed}{after}")
        # passed: merge; otherwise the workflow repairs `tasks` (attempt `attempt`) and verifies again.
        return verdict

    # --- repair one task ------------------------------------------------------------------

    def repair_task(self, ref: RunRef, task_id: str, attempt: int, max_attempts: int) -> dict[str, Any]:
        """Repair attempt `attempt` of one task verification blamed: the generator rewrites the
        task's files from the failures, in its path scope, as a commit on its branch; the next
        verification reads it. An unusable answer is a failed attempt (TASK_REPAIR_FAILED), not a
        failed run: the next verification decides."""
        run = self._active(ref)
        plan, tasks = self._plan(ref, run)
        stored = tasks.get(task_id)
        if stored is None or stored.result is None or stored.result.commitSha is None:
            raise TaskFailed(f"{task_id} has no result to repair")
        task = stored.definition
        if stored.repairs >= attempt:  # a duplicate invocation: this attempt is recorded already
            return {"taskId": task_id, "attempt": attempt, "repaired": None}
        if int(run.get("repairAttempts") or 0) < attempt:
            # The run counts the attempts started (verify reads it); every task of the round writes
            # the same number, so a retried or concurrent invocation cannot count twice.
            self._move(ref, RunStatus.VERIFYING, (RunStatus.VERIFYING,), repairAttempts=attempt)
        verification = VerificationResult.model_validate(run["verificationResult"])
        failures = repairs.blame(verification, plan, _owners(plan, tasks)).get(task_id, [])
        failures += self._rejected_before(ref, task_id, attempt)
        self._events.append(
            ref.workspace_id,
            ref.project_id,
            ref.run_id,
            EventType.TASK_REPAIR_STARTED,
            task_id=task_id,
            payload={
                "attempt": attempt,
                "maxAttempts": max_attempts,
                "branchName": task.branch,
                "checks": [c.name for c in verification.checks if not c.passed],
            },
        )
        if not failures:  # verification moved on (a retried round after the run changed): nothing to say
            return self._repair_failed(
                ref, task_id, attempt, "nothing_to_repair", "verification found nothing wrong with this task's files"
            )
        repository = self._repository(ref.workspace_id, ref.project_id)
        tree = self._merged_files(repository, plan, tasks)
        request = RepairRequest(
            task=task, documents=self._documents(ref, run), files=_decoded(tree), failures=failures, attempt=attempt
        )
        try:
            implementation = repair(self._generator(), request)
        except GenerationFailed as failure:
            if failure.reason == "unavailable":
                raise TransientBuildError(failure.message) from None
            return self._repair_failed(
                ref, task_id, attempt, failure.reason, f"the generator failed ({failure.reason}): {failure.message}"
            )
        changes, problem = screen(task, implementation.files)
        if problem is not None:
            return self._repair_failed(ref, task_id, attempt, *problem)
        self._active(ref)  # cancelled while repairing: write nothing
        prior = stored.result.commitSha
        repository.point(task.branch, prior)
        commit = repository.commit(
            task.branch, changes, f"{task.id}: repair {attempt} after verification failed", AUTHOR, parent=prior
        )
        diff = repository.diff(prior, commit.id)
        if not (diff.created or diff.modified):
            repository.point(task.branch, prior)  # no empty commit: the branch tells what changed
            return self._repair_failed(
                ref, task_id, attempt, "unchanged", "the repair rewrote no file: every file came back as it was"
            )
        created = sorted({*stored.result.filesCreated, *diff.created})
        result = TaskResult(
            filesCreated=created,
            filesModified=sorted({*stored.result.filesModified, *diff.modified} - set(created)),
            commitSha=commit.id,
        )
        for kind, paths in ((EventType.FILE_CREATED, diff.created), (EventType.FILE_MODIFIED, diff.modified)):
            for path in paths:
                self._events.append(
                    ref.workspace_id,
                    ref.project_id,
                    ref.run_id,
                    kind,
                    task_id=task_id,
                    payload={"path": path, "size": len(changes[path] or b""), "attempt": attempt},
                )
        if self._ledger.update_task(
            ref.workspace_id,
            ref.run_id,
            task_id,
            {"result": result.model_dump(mode="json"), "repairs": attempt},
            only_if_status=frozenset({TaskStatus.SUCCEEDED}),
        ):
            self._events.append(
                ref.workspace_id,
                ref.project_id,
                ref.run_id,
                EventType.TASK_REPAIR_COMPLETED,
                task_id=task_id,
                payload={
                    "attempt": attempt,
                    "commitSha": commit.id,
                    "filesCreated": list(diff.created),
                    "filesModified": list(diff.modified),
                    "summary": _short(implementation.summary),
                },
            )
        return {"taskId": task_id, "attempt": attempt, "repaired": True, "commitSha": commit.id}

    def _repair_failed(self, ref: RunRef, task_id: str, attempt: int, reason: str, message: str) -> dict[str, Any]:
        self._active(ref)
        if self._ledger.update_task(
            ref.workspace_id,
            ref.run_id,
            task_id,
            {"repairs": attempt},
            only_if_status=frozenset({TaskStatus.SUCCEEDED}),
        ):
            self._events.append(
                ref.workspace_id,
                ref.project_id,
                ref.run_id,
                EventType.TASK_REPAIR_FAILED,
                task_id=task_id,
                payload={"attempt": attempt, "reason": reason, "message": _short(message)},
            )
        return {"taskId": task_id, "attempt": attempt, "repaired": False, "reason": reason}

    def _rejected_before(self, ref: RunRef, task_id: str, attempt: int) -> list[str]:
        """Why this task's previous repair was rejected (outside its scope, no change, ...): the
        generator hears it along with the failures, which are the same ones again."""
        rejected = self._events.list(
            ref.workspace_id,
            ref.run_id,
            limit=100,
            where=EventFilter(types=frozenset({EventType.TASK_REPAIR_FAILED}), task_id=task_id),
        )
        return [
            f"Your previous repair of this task (attempt {event.payload['attempt']}) was rejected and changed "
            f"nothing: {event.payload.get('message', '')}"
            for event in rejected
            if event.payload.get("attempt") == attempt - 1
        ]

    @staticmethod
    def _merged_files(repository: Repository, plan: TaskPlan, tasks: dict[str, Task]) -> dict[str, bytes]:
        """The tree main would have after the merge: main plus each task's changes in mergeOrder."""
        main = repository.branches().get(MAIN)
        tree = {path: repository.read_file(main, path) for path in repository.files(main)} if main else {}
        for task_id in plan.mergeOrder:
            stored = tasks.get(task_id)
            if stored is None or stored.result is None or stored.result.commitSha is None:
                raise VerificationFailed(f"{task_id} has no result to verify")
            for path in [*stored.result.filesCreated, *stored.result.filesModified]:
                tree[path] = repository.read_file(stored.result.commitSha, path)
        return tree

    def merge(self, ref: RunRef) -> dict[str, Any]:
        run = self._active(ref)
        self._move(ref, RunStatus.MERGING, (RunStatus.VERIFYING, RunStatus.MERGING))
        plan, tasks = self._plan(ref, run)
        repository = self._repository(ref.workspace_id, ref.project_id)
        for task_id in plan.mergeOrder:
            branch = tasks[task_id].branchName
            try:
                repository.merge(MAIN, branch, f"Merge {branch} (run {run.get('runNumber')})", AUTHOR)
            except MergeConflict as conflict:
                raise MergeFailed(f"merging {branch} into main conflicts on {', '.join(conflict.paths)}") from None
            except RefConflict:
                raise TransientBuildError("main moved while merging; retrying the merge") from None
        head = repository.resolve(MAIN)
        self._move(ref, RunStatus.MERGING, (RunStatus.MERGING,), mergeCommit=head)
        return {"commit": head}

    # --- finish ---------------------------------------------------------------------------

    def finish(self, ref: RunRef, error: dict[str, Any] | None) -> dict[str, Any]:
        """The workflow's last state, on success (`error` None) or after any Catch."""
        run = self._ledger.raw(ref.workspace_id, ref.project_id, ref.run_id)
        if run is None or RunStatus(run["status"]) not in ACTIVE:
            return {"status": run["status"] if run else "missing"}
        now = self._now()
        if error is None:
            if self._ledger.finish(
                ref.workspace_id,
                ref.project_id,
                ref.run_id,
                RunStatus.SUCCEEDED,
                ProjectStatus.BUILT,
                {"finishedAt": now},
            ):
                self._events.append(
                    ref.workspace_id,
                    ref.project_id,
                    ref.run_id,
                    EventType.RUN_COMPLETED,
                    payload={"commit": run.get("mergeCommit"), "runNumber": run.get("runNumber")},
                )
            return {"status": RunStatus.SUCCEEDED.value}
        reason, message, task_id = _describe(error)
        for task in self._ledger.tasks(ref.workspace_id, ref.run_id):
            if task.status is TaskStatus.RUNNING:
                if task.id == task_id:  # the task the error names failed with it
                    self._fail_task(ref, task.id, message, reason)
                else:
                    self._fail_task(ref, task.id, "stopped: the run failed", "run_failed")
            elif task.status is TaskStatus.PENDING:
                self._ledger.update_task(
                    ref.workspace_id,
                    ref.run_id,
                    task.id,
                    {"status": TaskStatus.CANCELLED.value, "finishedAt": now},
                    only_if_status=frozenset({TaskStatus.PENDING}),
                )
        details = {"reason": reason, "message": message, "taskId": task_id}
        if self._ledger.finish(
            ref.workspace_id,
            ref.project_id,
            ref.run_id,
            RunStatus.FAILED,
            ProjectStatus.FAILED,
            {"finishedAt": now, "error": details},
        ):
            self._events.append(ref.workspace_id, ref.project_id, ref.run_id, EventType.RUN_FAILED, payload=details)
        return {"status": RunStatus.FAILED.value}

    # --- shared -------------------------------------------------------------------------

    def _active(self, ref: RunRef) -> dict[str, Any]:
        run = self._ledger.raw(ref.workspace_id, ref.project_id, ref.run_id)
        if run is None:
            raise RunAlreadyFinished(f"run {ref.run_id} does not exist")
        if RunStatus(run["status"]) not in ACTIVE:
            # Finished (cancelled) while a step was writing: a task it stored or started after
            # cancel swept them must not stay pending or running in a finished run.
            self._ledger.cancel_tasks(ref.workspace_id, ref.run_id, self._now())
            raise RunAlreadyFinished(f"run {ref.run_id} is {run['status']}")
        return run

    def _stored_plan(self, ref: RunRef, run: dict[str, Any]) -> tuple[TaskPlan, dict[str, Task]] | None:
        """The run's plan and its tasks by id, once decompose has stored them (one Query of the
        run's task items: the run item keeps only the merge order)."""
        if not (run.get("mergeOrder") or run.get("tasksJson")):
            return None
        tasks = self._ledger.tasks(ref.workspace_id, ref.run_id)
        plan = stored_plan(run, tasks)
        return (plan, {task.id: task for task in tasks}) if plan is not None else None

    def _plan(self, ref: RunRef, run: dict[str, Any]) -> tuple[TaskPlan, dict[str, Task]]:
        stored = self._stored_plan(ref, run)
        if stored is None:
            raise PlanningFailed(f"run {ref.run_id} has no stored plan")
        return stored

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

    def _move(self, ref: RunRef, status: RunStatus, allowed_from: tuple[RunStatus, ...], **changes: Any) -> bool:
        """Set the run's status (and `changes`) if it is still in one of `allowed_from`, stamping
        `updatedAt` unless `changes` carries it; False when the run moved on (see RunStore)."""
        changes.setdefault("updatedAt", self._now())
        return self._ledger.set_status(
            ref.workspace_id, ref.project_id, ref.run_id, status, frozenset(allowed_from), changes
        )


def screen(task: TaskDefinition, files: dict[str, str]) -> tuple[dict[str, bytes | None], tuple[str, str] | None]:
    """The changes a task's files make, or (reason, message) of why none may be written: a
    file outside its path scope (path_scope_violation), an invalid path, or a file git itself
    would refuse (git_path: the tree could never be cloned or pushed)."""
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
    if not (outside or invalid or refused):
        return changes, None
    problems = (
        ([f"outside its pathScope: {', '.join(sorted(outside))}"] if outside else [])
        + ([f"invalid paths: {', '.join(invalid)}"] if invalid else [])
        + ([f"files git refuses: {', '.join(refused)}"] if refused else [])
    )
    message = f"{task.id} wrote files " + "; ".join(problems)
    return changes, ("git_path" if refused else "path_scope_violation", message)


def _owners(plan: TaskPlan, tasks: dict[str, Task]) -> dict[str, str]:
    return repairs.owners(plan, {task_id: task.result for task_id, task in tasks.items() if task.result})


def _decoded(tree: dict[str, bytes]) -> dict[str, str]:
    texts = {}
    for path, content in tree.items():
        try:
            texts[path] = content.decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary files are not shown to the generator
    return texts


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
        verdict = attempt(lambda: steps.verify(ref))
        while not verdict["passed"]:  # like the workflow's Repair state, which loops back to Verify
            for task_id in verdict["tasks"]:
                attempt(functools.partial(steps.repair_task, ref, task_id, verdict["attempt"], verdict["maxAttempts"]))
            verdict = attempt(lambda: steps.verify(ref))
        attempt(lambda: steps.merge(ref))
    except RunAlreadyFinished:
        return {"status": "already_finished"}
    except Exception as error:  # noqa: BLE001 - like the workflow's States.ALL catch
        cause = json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)})
        return steps.finish(ref, {"Error": type(error).__name__, "Cause": cause})
    return steps.finish(ref, None)

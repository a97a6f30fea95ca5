"""The build steps on the shared fakes: what each step writes (tasks, branches, events, the
run's status), what a failure leaves behind, and that every step is safe to run twice and
stops without writing once the run was cancelled. The same steps run against moto in
tests/unit/kiln/handlers/test_runs.py and in the state machine in tests/local."""

from __future__ import annotations

import pytest

from kiln.domain.build_steps import (
    AUTHOR,
    MAIN,
    RunAlreadyFinished,
    RunRef,
    TaskFailed,
    TransientBuildError,
    run_sequentially,
)
from kiln.domain.builds import EventType, TaskPlan, TaskStatus, VerificationCheck, VerificationResult
from kiln.domain.generation import GenerationFailed
from kiln.domain.projects import ProjectStatus
from kiln.domain.runs import Run, RunCreate, RunStatus
from kiln.domain.verification import verify
from tests.fakes import FakeGenerator, FakeRepairingGenerator, FakeSandbox, FakeWorld
from tests.unit.kiln.domain.test_runs import BROKEN, PASSED, WORKSPACE


def started(fakes: FakeWorld) -> tuple[Run, RunRef]:
    project = fakes.approved_project(WORKSPACE)
    run = fakes.run_service().create(WORKSPACE, project.id, RunCreate(), None)
    return run, RunRef(WORKSPACE, project.id, run.id)


def event_types(fakes: FakeWorld, run: Run) -> list[str]:
    return [e.eventType.value + (f" {e.taskId}" if e.taskId else "") for e in fakes.events.of(WORKSPACE, run.id)]


def test_a_green_build_plans_writes_each_task_on_its_branch_verifies_and_merges_into_main():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    assert run_sequentially(fakes.build_steps(), ref) == {"status": "succeeded"}
    repository = fakes.repositories(WORKSPACE, run.projectId)
    assert repository.read_file(MAIN, "a.txt") == b"task-001 wrote a.txt\n"
    assert repository.read_file(MAIN, "b.txt") == b"task-002 wrote b.txt\n"
    assert {"feat/task-001-first", "feat/task-002-second"} <= set(repository.branches())
    # task-002 was built on task-001's output: its branch starts from it.
    assert fakes.generator.implemented[1].files == {"a.txt": "task-001 wrote a.txt\n"}
    finished = fakes.runs.get(WORKSPACE, run.projectId, run.id)
    assert finished.status is RunStatus.SUCCEEDED and finished.tasksSummary.model_dump() == {
        "total": 2,
        "succeeded": 2,
        "failed": 0,
    }
    assert fakes.runs.raw(WORKSPACE, run.projectId, run.id)["mergeCommit"] == repository.resolve(MAIN)
    assert event_types(fakes, run) == [
        "RUN_STARTED",
        "TASK_STARTED task-001",
        "FILE_CREATED task-001",
        "TASK_COMPLETED task-001",
        "TASK_STARTED task-002",
        "FILE_CREATED task-002",
        "TASK_COMPLETED task-002",
        "VERIFICATION_COMPLETED",
        "RUN_COMPLETED",
    ]
    assert fakes.projects.project(WORKSPACE, run.projectId).status is ProjectStatus.BUILT
    # The sandbox got the tree main would have, nothing else.
    [(files, _)] = fakes.sandbox.calls
    assert files == {"a.txt": b"task-001 wrote a.txt\n", "b.txt": b"task-002 wrote b.txt\n"}


def test_every_step_is_safe_to_run_twice():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    steps = fakes.build_steps()
    assert steps.decompose(ref) == steps.decompose(ref) == {"waves": [["task-001"], ["task-002"]]}
    assert fakes.generator.calls.count("plan") == 1, "a retried decompose reuses the stored plan"
    first = steps.execute_task(ref, "task-001")
    assert steps.execute_task(ref, "task-001") == first
    assert fakes.generator.calls.count("implement task-001") == 1
    steps.execute_task(ref, "task-002")
    steps.verify(ref)
    merged = steps.merge(ref)
    assert steps.merge(ref) == merged
    assert steps.finish(ref, None) == steps.finish(ref, None) == {"status": "succeeded"}
    assert event_types(fakes, run).count("RUN_COMPLETED") == 1
    assert event_types(fakes, run).count("TASK_COMPLETED task-001") == 1


def test_every_status_a_step_moves_the_run_to_is_stamped_with_the_time():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    steps = fakes.build_steps()
    seen: list[tuple[str, str]] = []

    def record() -> None:  # the run as the previous move left it
        raw = fakes.runs.raw(WORKSPACE, run.projectId, run.id)
        seen.append((raw["status"], raw["updatedAt"]))

    fakes.runs.before("set_status", record, times=20)
    steps.decompose(ref)
    steps.execute_task(ref, "task-001")
    steps.execute_task(ref, "task-002")
    steps.verify(ref)
    steps.merge(ref)
    fakes.runs.forget()
    record()

    moves = seen[1:]  # seen[0]: the run as created
    assert [status for status, _ in moves] == [
        "decomposing",
        "decomposing",
        "executing",
        "verifying",
        "verifying",
        "merging",
        "merging",
    ]
    stamps = [run.updatedAt] + [stamp for _, stamp in moves]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), "every move moved updatedAt on"


def test_a_throttled_generator_is_retried_and_the_attempts_are_counted():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    fakes.generator.fail_next("implement", GenerationFailed("throttled", "unavailable"))
    steps = fakes.build_steps()
    steps.decompose(ref)
    with pytest.raises(TransientBuildError):
        steps.execute_task(ref, "task-001")
    steps.execute_task(ref, "task-001")
    task = fakes.runs.task(WORKSPACE, run.id, "task-001")
    assert (task.status, task.attempts) == (TaskStatus.SUCCEEDED, 2)
    assert [
        e.payload["attempt"] for e in fakes.events.of(WORKSPACE, run.id) if e.eventType is EventType.TASK_STARTED
    ] == [1, 2]


def test_a_file_outside_the_task_scope_fails_the_task_and_the_run_and_reaches_no_branch():
    generator = FakeGenerator(files={"task-002": {"b.txt": "beta\n", "a.txt": "overwritten\n"}})
    fakes = FakeWorld(generator=generator, sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    assert run_sequentially(fakes.build_steps(), ref) == {"status": "failed"}
    failed = fakes.runs.get(WORKSPACE, run.projectId, run.id)
    assert failed.error is not None and (failed.error.reason, failed.error.taskId) == ("task_failed", "task-002")
    assert "outside its pathScope: a.txt" in failed.error.message
    [event] = [e for e in fakes.events.of(WORKSPACE, run.id) if e.eventType is EventType.TASK_FAILED]
    assert (event.taskId, event.payload["reason"]) == ("task-002", "path_scope_violation")
    branches = fakes.repositories(WORKSPACE, run.projectId).branches()
    assert MAIN not in branches and "feat/task-002-second" not in branches
    assert fakes.projects.project(WORKSPACE, run.projectId).status is ProjectStatus.FAILED
    assert failed.tasksSummary.model_dump() == {"total": 2, "succeeded": 1, "failed": 1}


def test_an_unusable_plan_fails_the_run_as_planning_failed():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    fakes.generator.fail_next("plan", GenerationFailed("not JSON", "malformed_output"))
    assert run_sequentially(fakes.build_steps(), ref) == {"status": "failed"}
    failed = fakes.runs.get(WORKSPACE, run.projectId, run.id)
    assert failed.error is not None and failed.error.reason == "planning_failed"
    assert fakes.runs.tasks(WORKSPACE, run.id) == []


def test_a_failed_verification_fails_the_run_and_leaves_main_alone():
    fakes = FakeWorld(sandbox=FakeSandbox(BROKEN))
    run, ref = started(fakes)
    assert run_sequentially(fakes.build_steps(), ref) == {"status": "failed"}
    failed = fakes.runs.get(WORKSPACE, run.projectId, run.id)
    assert failed.error is not None and failed.error.reason == "verification_failed"
    assert "compile" in failed.error.message
    assert MAIN not in fakes.repositories(WORKSPACE, run.projectId).branches()
    [verdict] = [e for e in fakes.events.of(WORKSPACE, run.id) if e.eventType is EventType.VERIFICATION_COMPLETED]
    assert verdict.payload["passed"] is False


def test_main_moving_under_a_merge_is_retried():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    repository = fakes.repositories(WORKSPACE, run.projectId)
    # Another writer (an import, another run's merge) moves main just before this merge swaps it.
    fakes.repositories.refs_of(WORKSPACE, run.projectId).before(
        "compare_and_swap", lambda: repository.commit(MAIN, {"c.txt": b"c\n"}, "elsewhere", AUTHOR), times=1
    )
    steps = fakes.build_steps()
    for step in (
        steps.decompose,
        lambda r: steps.execute_task(r, "task-001"),
        lambda r: steps.execute_task(r, "task-002"),
        steps.verify,
    ):
        step(ref)
    assert run_sequentially(steps, ref) == {"status": "succeeded"}
    assert set(fakes.repositories(WORKSPACE, run.projectId).files(MAIN)) == {"a.txt", "b.txt", "c.txt"}


def test_a_conflict_with_what_reached_main_meanwhile_fails_the_run():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    steps = fakes.build_steps()
    for step in (
        steps.decompose,
        lambda r: steps.execute_task(r, "task-001"),
        lambda r: steps.execute_task(r, "task-002"),
        steps.verify,
    ):
        step(ref)
    fakes.repositories(WORKSPACE, run.projectId).commit(MAIN, {"a.txt": b"someone else\n"}, "elsewhere", AUTHOR)
    assert run_sequentially(steps, ref) == {"status": "failed"}
    failed = fakes.runs.get(WORKSPACE, run.projectId, run.id)
    assert failed.error is not None and failed.error.reason == "merge_conflict" and "a.txt" in failed.error.message
    assert fakes.repositories(WORKSPACE, run.projectId).read_file(MAIN, "a.txt") == b"someone else\n"


def test_a_run_cancelled_while_its_task_was_being_written_gets_nothing_written():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    steps = fakes.build_steps()
    steps.decompose(ref)
    cancel = lambda: fakes.run_service().cancel(WORKSPACE, run.projectId, run.id)  # noqa: E731
    fakes.generator.before("implement", cancel)
    with pytest.raises(RunAlreadyFinished):
        steps.execute_task(ref, "task-001")
    assert "feat/task-001-first" not in fakes.repositories(WORKSPACE, run.projectId).branches()
    assert {t.status for t in fakes.runs.tasks(WORKSPACE, run.id)} == {TaskStatus.CANCELLED}
    assert run_sequentially(steps, ref) == {"status": "already_finished"}
    assert fakes.runs.get(WORKSPACE, run.projectId, run.id).status is RunStatus.CANCELLED


@pytest.mark.parametrize("where", ["put_tasks", "update_task"])
def test_a_task_stored_or_started_as_the_run_is_cancelled_does_not_stay_unfinished(where):
    """The cancel sweeps the run's unfinished tasks; a step writing one just after the sweep
    finds the run finished on its next check and cancels the task itself."""
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    steps = fakes.build_steps()
    if where == "update_task":
        steps.decompose(ref)
    fakes.runs.before(where, lambda: fakes.run_service().cancel(WORKSPACE, run.projectId, run.id))
    with pytest.raises(RunAlreadyFinished):
        if where == "put_tasks":
            steps.decompose(ref)
        else:
            steps.execute_task(ref, "task-001")
    tasks = fakes.runs.tasks(WORKSPACE, run.id)
    assert tasks and {t.status for t in tasks} == {TaskStatus.CANCELLED}


def test_a_task_that_fails_for_good_is_named_by_the_run():
    fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
    run, ref = started(fakes)
    fakes.generator.fail_next("implement", GenerationFailed("refused", "refused"))
    steps = fakes.build_steps()
    steps.decompose(ref)
    with pytest.raises(TaskFailed):
        steps.execute_task(ref, "task-001")
    steps.finish(ref, {"Error": "TaskFailed", "Cause": '{"errorMessage": "task-001 failed: refused"}'})
    failed = fakes.runs.get(WORKSPACE, run.projectId, run.id)
    assert failed.error is not None and (failed.error.reason, failed.error.taskId) == ("task_failed", "task-001")
    statuses = {t.id: t.status for t in fakes.runs.tasks(WORKSPACE, run.id)}
    assert statuses == {"task-001": TaskStatus.FAILED, "task-002": TaskStatus.CANCELLED}


def test_a_model_repairs_the_task_verification_blames_and_the_run_succeeds():
    compile_error = [
        VerificationCheck(name="compile", passed=False, output="b.txt:1: invalid syntax"),
        VerificationCheck(name="unittest", passed=True, output="OK"),
    ]

    def verifier(files: dict[str, bytes], plan: TaskPlan) -> VerificationResult:
        # The sandbox's compile check passes once task-002's file is the repaired one.
        fixed = b"repaired" in files.get("b.txt", b"")
        return verify(files, plan, sandbox=FakeSandbox(PASSED if fixed else compile_error))

    generator = FakeRepairingGenerator()
    fakes = FakeWorld(generator=generator)
    run, ref = started(fakes)
    steps = fakes.build_steps(verifier, repair_attempts=2)
    steps.decompose(ref)
    steps.execute_task(ref, "task-001")
    steps.execute_task(ref, "task-002")
    verdict = steps.verify(ref)
    assert not verdict["passed"] and verdict["tasks"] == ["task-002"] and verdict["attempt"] == 1
    steps.repair_task(ref, "task-002", verdict["attempt"], verdict["maxAttempts"])
    [request] = generator.repaired
    assert request.task.id == "task-002" and any("b.txt:1: invalid syntax" in f for f in request.failures)
    assert steps.verify(ref)["passed"]
    steps.merge(ref)
    assert steps.finish(ref, None) == {"status": "succeeded"}
    main = fakes.repositories(WORKSPACE, run.projectId).read_file(MAIN, "b.txt")
    assert main == b"task-002 repaired b.txt (1)\n"
    assert "TASK_REPAIR_COMPLETED task-002" in event_types(fakes, run)

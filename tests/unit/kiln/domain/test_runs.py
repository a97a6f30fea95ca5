"""RunService on the shared fakes: starting, numbering, cancelling, retrying and reading runs,
and a property over any sequence of user calls and workflow steps (their retries,
duplicates, failures and cancellations in the middle of a step): a run's status only moves
queued -> decomposing -> executing -> verifying -> merging -> succeeded, or from an active
status to failed or cancelled, and never out of a terminal one; run numbers stay
consecutive; each run's events are numbered 1, 2, 3... with no gap; build slots never drift."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kiln.domain.build_steps import (
    BuildSteps,
    MergeFailed,
    PlanningFailed,
    RunAlreadyFinished,
    RunRef,
    TaskFailed,
    TransientBuildError,
    VerificationFailed,
    run_sequentially,
)
from kiln.domain.builds import TERMINAL_EVENTS, EventType, SuiteCounts, TaskStatus, VerificationCheck
from kiln.domain.generation import GenerationFailed
from kiln.domain.projects import ALLOWED_FROM, ProjectStatus, ProjectUpdate
from kiln.domain.runs import (
    ACTIVE,
    BUILDABLE,
    TERMINAL,
    EventFilter,
    Run,
    RunCreate,
    RunListFilter,
    RunStatus,
)
from kiln.domain.specs import ApproveRequest, RegenerateRequest
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import FakeRepairingGenerator, FakeSandbox, FakeWorld

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxzzz"
MISSING_RUN = "run_01m885m8rskqxxjknrtpgbxm1p"

PASSED = [
    VerificationCheck(name="compile", passed=True, output="0 Python file(s) compiled"),
    VerificationCheck(name="unittest", passed=True, output="OK", tests=SuiteCounts(run=1)),
]
# A compile error in task-002's file: the check names the file, so a repair knows whose it is.
BROKEN = [
    VerificationCheck(name="compile", passed=False, output="b.txt:1: invalid syntax"),
    VerificationCheck(name="unittest", passed=False, output="not run"),
]

# Every edge a run's status may take (kiln.domain.runs' diagram).
FORWARD = {
    (RunStatus.QUEUED, RunStatus.DECOMPOSING),
    (RunStatus.DECOMPOSING, RunStatus.EXECUTING),
    (RunStatus.EXECUTING, RunStatus.VERIFYING),
    (RunStatus.VERIFYING, RunStatus.MERGING),
    (RunStatus.MERGING, RunStatus.SUCCEEDED),
}
LEGAL = FORWARD | {(active, ending) for active in ACTIVE for ending in (RunStatus.FAILED, RunStatus.CANCELLED)}
OUTCOME_EVENT = {
    RunStatus.SUCCEEDED: EventType.RUN_COMPLETED,
    RunStatus.FAILED: EventType.RUN_FAILED,
    RunStatus.CANCELLED: EventType.RUN_CANCELLED,
}


def world() -> FakeWorld:
    return FakeWorld(sandbox=FakeSandbox(PASSED))


def refused(call: Callable[[], Any]) -> KilnError:
    with pytest.raises(KilnError) as error:
        call()
    return error.value


def ref(run: Run) -> RunRef:
    return RunRef(WORKSPACE, run.projectId, run.id)


# --- starting runs ----------------------------------------------------------------------------------


def test_each_run_takes_the_next_number_and_the_project_to_building():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service, steps = fakes.run_service(), fakes.build_steps()
    numbers = []
    for _ in range(3):
        run = service.create(WORKSPACE, project.id, RunCreate(trigger="nightly"), None)
        assert (run.status, run.trigger, run.callbackId, run.specVersion) == (
            RunStatus.DECOMPOSING,
            "nightly",
            run.id,
            1,
        )
        assert fakes.projects.project(WORKSPACE, project.id).status is ProjectStatus.BUILDING
        assert fakes.build_workflow.started[-1] == (
            run.id,
            {"workspaceId": WORKSPACE, "projectId": project.id, "runId": run.id},
        )
        assert run_sequentially(steps, ref(run)) == {"status": "succeeded"}
        numbers.append(run.runNumber)
    assert numbers == [1, 2, 3] and fakes.projects.item(WORKSPACE, project.id)["runCount"] == 3
    assert fakes.projects.project(WORKSPACE, project.id).status is ProjectStatus.BUILT


@pytest.mark.parametrize("status", [ProjectStatus.DRAFT, ProjectStatus.SPEC_REVIEW, ProjectStatus.ARCHIVED])
def test_a_run_needs_an_approved_spec_and_nothing_is_stored_without_one(status):
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    fakes.projects.items[(WORKSPACE, project.id)]["status"] = status.value
    error = refused(lambda: fakes.run_service().create(WORKSPACE, project.id, RunCreate(), None))
    assert error.code is ErrorCode.CONFLICT
    assert error.details == {"currentStatus": status.value, "allowedFrom": sorted(s.value for s in BUILDABLE)}
    assert fakes.runs.items == {} and fakes.build_workflow.started == [] and fakes.runs.slots == {}


def test_an_unknown_or_foreign_project_is_not_found():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    for workspace, project_id in ((WORKSPACE, "proj_01m885m8rskqxxjknrtpgbxzzz"), (OTHER_WORKSPACE, project.id)):
        error = refused(lambda: fakes.run_service().create(workspace, project_id, RunCreate(), None))
        assert error.code is ErrorCode.NOT_FOUND


def test_the_workspace_build_limit_refuses_with_retry_after_and_changes_nothing():
    fakes = world()
    first, second = fakes.approved_project(WORKSPACE, "One"), fakes.approved_project(WORKSPACE, "Two")
    service = fakes.run_service()
    running = service.create(WORKSPACE, first.id, RunCreate(), 1)
    error = refused(lambda: service.create(WORKSPACE, second.id, RunCreate(), 1))
    assert error.code is ErrorCode.CONCURRENCY_LIMIT_EXCEEDED and error.headers == {"Retry-After": "30"}
    assert error.details == {"limit": 1, "retryAfterSeconds": 30}
    assert fakes.projects.project(WORKSPACE, second.id).status is ProjectStatus.APPROVED
    assert fakes.runs.runs_of(WORKSPACE, second.id) == [] and fakes.runs.slots[WORKSPACE] == 1
    # Finishing the first run frees its slot.
    service.cancel(WORKSPACE, first.id, running.id)
    assert service.create(WORKSPACE, second.id, RunCreate(), 1).runNumber == 1


def test_a_project_changed_while_the_run_was_being_created_is_not_built():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    fakes.runs.before("create", lambda: fakes.project_service().archive(WORKSPACE, project.id))
    error = refused(lambda: fakes.run_service().create(WORKSPACE, project.id, RunCreate(), None))
    assert error.code is ErrorCode.CONFLICT and error.details["currentStatus"] == "archived"
    assert fakes.runs.items == {} and fakes.build_workflow.started == [] and fakes.runs.slots == {}


def test_a_workflow_that_cannot_start_fails_the_run_and_frees_the_project_and_the_slot():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    fakes.build_workflow.fail_next("start", RuntimeError("Step Functions is down"))
    with pytest.raises(RuntimeError):
        fakes.run_service().create(WORKSPACE, project.id, RunCreate(), 1)
    [run] = fakes.runs.runs_of(WORKSPACE, project.id)
    assert run.status is RunStatus.FAILED and run.error is not None and run.error.reason == "start_failed"
    assert fakes.projects.project(WORKSPACE, project.id).status is ProjectStatus.FAILED
    assert fakes.runs.slots[WORKSPACE] == 0
    assert [e.eventType for e in fakes.events.of(WORKSPACE, run.id)] == [EventType.RUN_STARTED, EventType.RUN_FAILED]


# --- cancelling and retrying ------------------------------------------------------------------------


def test_cancel_records_the_outcome_then_stops_the_execution():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service, steps = fakes.run_service(), fakes.build_steps()
    run = service.create(WORKSPACE, project.id, RunCreate(), None)
    steps.decompose(ref(run))
    cancelled = service.cancel(WORKSPACE, project.id, run.id)
    assert cancelled.status is RunStatus.CANCELLED and cancelled.finishedAt is not None and cancelled.error is None
    assert {t.status for t in service.tasks(WORKSPACE, project.id, run.id)} == {TaskStatus.CANCELLED}
    assert fakes.build_workflow.stopped == [run.id]
    assert fakes.projects.project(WORKSPACE, project.id).status is ProjectStatus.APPROVED
    assert fakes.runs.slots[WORKSPACE] == 0
    # A step already in flight stops without writing.
    with pytest.raises(RunAlreadyFinished):
        steps.execute_task(ref(run), "task-001")
    assert fakes.repositories.refs_of(WORKSPACE, project.id).refs == {}
    again = refused(lambda: service.cancel(WORKSPACE, project.id, run.id))
    assert again.code is ErrorCode.CONFLICT and again.details["currentStatus"] == "cancelled"
    assert [e.eventType for e in fakes.events.of(WORKSPACE, run.id)][-1] is EventType.RUN_CANCELLED


def test_a_run_that_finishes_while_it_is_being_cancelled_keeps_its_outcome():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service, steps = fakes.run_service(), fakes.build_steps()
    run = service.create(WORKSPACE, project.id, RunCreate(), None)
    fakes.runs.before("finish", lambda: run_sequentially(steps, ref(run)))
    error = refused(lambda: service.cancel(WORKSPACE, project.id, run.id))
    assert error.code is ErrorCode.CONFLICT and error.details["currentStatus"] == "succeeded"
    assert fakes.build_workflow.stopped == []
    assert fakes.projects.project(WORKSPACE, project.id).status is ProjectStatus.BUILT


def test_only_a_finished_run_is_retried_and_the_retry_says_so():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service = fakes.run_service()
    first = service.create(WORKSPACE, project.id, RunCreate(), None)
    error = refused(lambda: service.retry(WORKSPACE, project.id, first.id, None))
    assert error.code is ErrorCode.CONFLICT and error.details["currentStatus"] == "decomposing"
    service.cancel(WORKSPACE, project.id, first.id)
    second = service.retry(WORKSPACE, project.id, first.id, None)
    assert (second.runNumber, second.retryOf, second.trigger) == (2, first.id, "retry")


# --- reading ----------------------------------------------------------------------------------------


def test_lists_are_newest_first_in_both_modes_and_filter_by_status():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service = fakes.run_service()
    runs = []
    for _ in range(5):
        runs.append(service.create(WORKSPACE, project.id, RunCreate(), None))
        service.cancel(WORKSPACE, project.id, runs[-1].id)
    newest_first = [r.id for r in reversed(runs)]
    page, total = service.list_page(WORKSPACE, project.id, RunListFilter(), 2, 2)
    assert total == 5 and [r.id for r in page] == newest_first[2:4]
    seen, after = [], None
    while True:
        chunk, after = service.list_cursor(WORKSPACE, project.id, RunListFilter(), 2, after)
        seen += [r.id for r in chunk]
        if after is None:
            break
    assert seen == newest_first
    assert service.list_page(WORKSPACE, project.id, RunListFilter(status=RunStatus.SUCCEEDED), 1, 10) == ([], 0)
    assert (
        refused(lambda: service.list_page(OTHER_WORKSPACE, project.id, RunListFilter(), 1, 10)).code
        is ErrorCode.NOT_FOUND
    )


def test_missing_runs_and_tasks_are_not_found():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service = fakes.run_service()
    for call in (
        lambda: service.get(WORKSPACE, project.id, MISSING_RUN),
        lambda: service.detail(WORKSPACE, project.id, MISSING_RUN),
        lambda: service.tasks(WORKSPACE, project.id, MISSING_RUN),
        lambda: service.events(WORKSPACE, project.id, MISSING_RUN, after=0, limit=10),
    ):
        assert refused(call).code is ErrorCode.NOT_FOUND
    run = service.create(WORKSPACE, project.id, RunCreate(), None)
    error = refused(lambda: service.task(WORKSPACE, project.id, run.id, "task-009"))
    assert error.code is ErrorCode.NOT_FOUND and error.details["resource"] == "task"


def test_the_detail_holds_the_spec_it_was_built_from_and_the_tasks_in_plan_order():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service = fakes.run_service()
    run = service.create(WORKSPACE, project.id, RunCreate(), None)
    assert run_sequentially(fakes.build_steps(), ref(run)) == {"status": "succeeded"}
    # A newer spec does not change what the run was built from.
    specs = fakes.spec_service()
    specs.regenerate(WORKSPACE, project.id, RegenerateRequest(feedback="Add tags."))
    detail = service.detail(WORKSPACE, project.id, run.id)
    assert detail.specSnapshot.version == 1 and "Add tags." not in detail.specSnapshot.documents["SPEC.md"]
    assert [(t.id, t.sequence, t.status) for t in detail.tasks] == [
        ("task-001", 1, TaskStatus.SUCCEEDED),
        ("task-002", 2, TaskStatus.SUCCEEDED),
    ]
    assert detail.tasksSummary.model_dump() == {"total": 2, "succeeded": 2, "failed": 0}
    assert detail.verificationResult is not None and detail.verificationResult.passed


def test_a_stream_reader_ends_only_once_it_has_the_terminal_event():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    service = fakes.run_service()
    run = service.create(WORKSPACE, project.id, RunCreate(), None)
    first = service.follow(WORKSPACE, project.id, run.id, after=0, limit=10)
    assert [e.id for e in first.events] == [1] and not first.ended and not first.run_finished
    # The run turns terminal a moment before its terminal event is appended: not ended yet.
    fakes.events.before("append", lambda: _assert_not_ended(service, project.id, run.id, after=1))
    service.cancel(WORKSPACE, project.id, run.id)
    last = service.follow(WORKSPACE, project.id, run.id, after=1, limit=10)
    assert [e.eventType for e in last.events] == [EventType.RUN_CANCELLED] and last.ended
    # EventSource resends the last id it saw: the reader is told it has everything.
    resumed = service.follow(WORKSPACE, project.id, run.id, after=last.events[-1].id, limit=10)
    assert resumed.events == [] and resumed.ended and resumed.run_finished
    only = service.events(
        WORKSPACE, project.id, run.id, after=0, limit=10, where=EventFilter(types=frozenset({EventType.RUN_STARTED}))
    )
    assert [e.id for e in only] == [1]


def _assert_not_ended(service: Any, project_id: str, run_id: str, after: int) -> None:
    batch = service.follow(WORKSPACE, project_id, run_id, after=after, limit=10)
    assert batch.run_finished and not batch.ended and batch.events == []


# --- the run's state machine, under any sequence of calls ----------------------------------------------

NAMED_ERRORS = (TransientBuildError, TaskFailed, PlanningFailed, VerificationFailed, MergeFailed)


class Execution:
    """One build execution moved a state at a time as kiln/workflows/build.asl.json moves it:
    TransientBuildError retries the state (three attempts), RunAlreadyFinished ends it, any
    other error the workflow names goes to RecordFailure; a verdict naming tasks repairs them
    and verifies again. Any other exception is a bug, and fails the test."""

    def __init__(self, steps: BuildSteps, run: Run) -> None:
        self.steps, self.ref = steps, ref(run)
        self.pending: list[tuple[str, tuple[Any, ...]]] = [("decompose", ())]
        self.last: tuple[str, tuple[Any, ...]] | None = None
        self.attempts = 0

    @property
    def done(self) -> bool:
        return not self.pending

    def step(self) -> None:
        if self.done:
            return
        name, args = self.pending[0]
        try:
            result = getattr(self.steps, name)(self.ref, *args)
        except RunAlreadyFinished:
            self.pending = []
            return
        except NAMED_ERRORS as error:
            self.attempts += 1
            if isinstance(error, TransientBuildError) and self.attempts < 3:
                return
            self.attempts = 0
            cause = json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)})
            self.pending = [("finish", ({"Error": type(error).__name__, "Cause": cause},))]
            return
        self.attempts = 0
        self.last = self.pending.pop(0)
        self.pending[:0] = self._then(name, result)

    def duplicate(self) -> None:
        """The last state's Lambda invoked once more (at-least-once delivery)."""
        if self.last is not None:
            name, args = self.last
            try:
                getattr(self.steps, name)(self.ref, *args)
            except (RunAlreadyFinished, *NAMED_ERRORS):
                pass

    @staticmethod
    def _then(name: str, result: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
        if name == "decompose":
            return [("execute_task", (task_id,)) for wave in result["waves"] for task_id in wave] + [("verify", ())]
        if name == "verify":
            if not result.get("passed") and result.get("tasks"):
                repairs = [
                    ("repair_task", (task_id, result["attempt"], result["maxAttempts"])) for task_id in result["tasks"]
                ]
                return [*repairs, ("verify", ())]
            return [("merge", ())]
        if name == "merge":
            return [("finish", (None,))]
        return []


class RunLifecycle(RuleBasedStateMachine):
    """Two approved projects of one workspace, their runs started, driven, cancelled, retried."""

    def __init__(self) -> None:
        super().__init__()
        self.fakes = FakeWorld(generator=FakeRepairingGenerator(), sandbox=FakeSandbox(PASSED))
        self.projects = [self.fakes.approved_project(WORKSPACE, name) for name in ("One", "Two")]
        self.service = self.fakes.run_service()
        self.steps = self.fakes.build_steps(repair_attempts=1)
        self.executions: dict[str, Execution] = {}
        self.outcomes: dict[str, RunStatus] = {}  # every finished run's outcome, as first seen

    def latest(self, index: int) -> Run | None:
        runs = self.fakes.runs.runs_of(WORKSPACE, self.projects[index].id)
        return runs[-1] if runs else None

    def active_runs(self) -> list[Run]:
        return [
            run
            for project in self.projects
            for run in self.fakes.runs.runs_of(WORKSPACE, project.id)
            if run.status in ACTIVE
        ]

    # --- what users do ------------------------------------------------------------------

    @rule(index=st.integers(0, 1), limit=st.sampled_from([None, 1, 2]))
    def start(self, index: int, limit: int | None) -> None:
        project = self.fakes.projects.project(WORKSPACE, self.projects[index].id)
        assert project is not None
        active = len(self.active_runs())
        try:
            run = self.service.create(WORKSPACE, project.id, RunCreate(), limit)
        except KilnError as error:
            if error.code is ErrorCode.CONFLICT:
                assert project.status not in BUILDABLE
            else:
                assert error.code is ErrorCode.CONCURRENCY_LIMIT_EXCEEDED and limit is not None and active >= limit
            return
        assert project.status in BUILDABLE and (limit is None or active < limit)
        self.executions[run.id] = Execution(self.steps, run)

    @rule(index=st.integers(0, 1))
    def cancel(self, index: int) -> None:
        run = self.latest(index)
        if run is None:
            return
        try:
            cancelled = self.service.cancel(WORKSPACE, run.projectId, run.id)
        except KilnError as error:
            assert error.code is ErrorCode.CONFLICT and run.status in TERMINAL
            return
        assert run.status in ACTIVE and cancelled.status is RunStatus.CANCELLED

    @rule(index=st.integers(0, 1))
    def retry(self, index: int) -> None:
        run = self.latest(index)
        if run is None:
            return
        try:
            again = self.service.retry(WORKSPACE, run.projectId, run.id, None)
        except KilnError as error:
            assert error.code is ErrorCode.CONFLICT
            return
        assert run.status in TERMINAL and again.retryOf == run.id
        self.executions[again.id] = Execution(self.steps, again)

    @rule(index=st.integers(0, 1))
    def revise_the_spec(self, index: int) -> None:
        """A new version, approved: allowed between runs, refused while one builds."""
        project_id = self.projects[index].id
        specs = self.fakes.spec_service()
        try:
            specs.regenerate(WORKSPACE, project_id, RegenerateRequest(feedback="Add an export."))
            specs.approve(WORKSPACE, project_id, ApproveRequest())
        except KilnError as error:
            assert error.code is ErrorCode.CONFLICT

    # --- what the workflow and its dependencies do -----------------------------------------

    @rule(index=st.integers(0, 1), states=st.integers(1, 4))
    def advance(self, index: int, states: int) -> None:
        run = self.latest(index)
        if run is not None and run.id in self.executions:
            for _ in range(states):
                self.executions[run.id].step()

    @rule(index=st.integers(0, 1))
    def deliver_twice(self, index: int) -> None:
        run = self.latest(index)
        if run is not None and run.id in self.executions:
            self.executions[run.id].duplicate()

    @rule(
        step=st.sampled_from(["plan", "implement", "repair"]),
        reason=st.sampled_from(["unavailable", "malformed_output"]),
    )
    def generator_trouble(self, step: str, reason: str) -> None:
        self.fakes.generator.fail_next(step, GenerationFailed(f"the model is {reason}", reason))

    @rule(passing=st.booleans())
    def sandbox_verdict(self, passing: bool) -> None:
        self.fakes.sandbox.answer = PASSED if passing else BROKEN

    @rule(
        index=st.integers(0, 1),
        where=st.sampled_from(
            [
                "runs.set_status",
                "runs.update_task",
                "runs.finish",
                "events.append",
                "generator.implement",
                "generator.plan",
                "generator.repair",
                "refs.compare_and_swap",
            ]
        ),
    )
    def cancel_in_the_middle_of_a_step(self, index: int, where: str) -> None:
        """The user cancels while a step is between its reads and its writes."""
        run = self.latest(index)
        if run is None or run.id not in self.executions:
            return
        fake_name, method = where.split(".")
        fake: Any = (
            self.fakes.repositories.refs_of(WORKSPACE, run.projectId)
            if fake_name == "refs"
            else getattr(self.fakes, fake_name)
        )

        def cancel() -> None:
            try:
                self.service.cancel(WORKSPACE, run.projectId, run.id)
            except KilnError:
                pass  # it finished first

        fake.before(method, cancel)
        self.executions[run.id].step()

    # --- what must hold whatever happened ----------------------------------------------------

    @invariant()
    def run_statuses_move_only_along_the_diagram(self) -> None:
        illegal = [(run, a.value, b.value) for _, run, a, b in self.fakes.runs.transitions if (a, b) not in LEGAL]
        assert not illegal, illegal

    @invariant()
    def a_finished_run_keeps_its_outcome(self) -> None:
        """A cancelled run never becomes succeeded (nor any outcome another)."""
        for project in self.projects:
            for run in self.fakes.runs.runs_of(WORKSPACE, project.id):
                if run.status in TERMINAL:
                    assert self.outcomes.setdefault(run.id, run.status) is run.status

    @invariant()
    def project_statuses_move_only_along_the_diagram(self) -> None:
        illegal = [(a.value, b.value) for _, _, a, b in self.fakes.projects.transitions if a not in ALLOWED_FROM[b]]
        assert not illegal, illegal

    @invariant()
    def run_numbers_are_consecutive(self) -> None:
        for project in self.projects:
            runs = self.fakes.runs.runs_of(WORKSPACE, project.id)
            assert [r.runNumber for r in runs] == list(range(1, len(runs) + 1))
            assert int(self.fakes.projects.item(WORKSPACE, project.id).get("runCount", 0)) == len(runs)

    @invariant()
    def events_are_gap_free_and_end_with_the_outcome(self) -> None:
        for project in self.projects:
            for run in self.fakes.runs.runs_of(WORKSPACE, project.id):
                events = self.fakes.events.of(WORKSPACE, run.id)
                assert [e.id for e in events] == list(range(1, len(events) + 1))
                assert events[0].eventType is EventType.RUN_STARTED
                endings = [e.eventType for e in events if e.eventType in TERMINAL_EVENTS]
                assert endings == ([OUTCOME_EVENT[run.status]] if run.status in TERMINAL else [])

    @invariant()
    def slots_and_building_projects_match_the_active_runs(self) -> None:
        active = self.active_runs()
        assert self.fakes.runs.slots.get(WORKSPACE, 0) == len(active)
        for project in self.projects:
            mine = [run for run in active if run.projectId == project.id]
            status = self.fakes.projects.project(WORKSPACE, project.id).status
            assert len(mine) <= 1 and (status is ProjectStatus.BUILDING) == bool(mine)

    @invariant()
    def a_finished_run_leaves_no_task_pending_or_running(self) -> None:
        for project in self.projects:
            for run in self.fakes.runs.runs_of(WORKSPACE, project.id):
                if run.status in TERMINAL:
                    left = [
                        (t.id, t.status.value)
                        for t in self.fakes.runs.tasks(WORKSPACE, run.id)
                        if t.status in (TaskStatus.PENDING, TaskStatus.RUNNING)
                    ]
                    assert not left, (run.status.value, left)

    @precondition(lambda self: any(not e.done for e in self.executions.values()))
    @rule()
    def run_every_execution_to_its_end(self) -> None:
        for execution in self.executions.values():
            for _ in range(40):
                execution.step()
            assert execution.done


RunLifecycle.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_run_lifecycle = RunLifecycle.TestCase


def test_a_patch_during_a_build_is_fine_and_the_build_still_finishes():
    fakes = world()
    project = fakes.approved_project(WORKSPACE)
    run = fakes.run_service().create(WORKSPACE, project.id, RunCreate(), None)
    fakes.project_service().update(WORKSPACE, project.id, ProjectUpdate(name="Renamed"))
    assert run_sequentially(fakes.build_steps(), ref(run)) == {"status": "succeeded"}
    assert fakes.projects.project(WORKSPACE, project.id).model_dump(include={"name", "status"}) == {
        "name": "Renamed",
        "status": ProjectStatus.BUILT,
    }

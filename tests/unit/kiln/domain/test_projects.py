"""ProjectService on the shared fakes, and the project's status machine across every service that moves it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kiln.domain.build_steps import RunRef, run_sequentially
from kiln.domain.builds import VerificationCheck
from kiln.domain.projects import (
    ALLOWED_FROM,
    EDITABLE,
    CursorRequest,
    PageRequest,
    ProjectCreate,
    ProjectListFilter,
    ProjectService,
    ProjectStatus,
    ProjectUpdate,
)
from kiln.domain.runs import ACTIVE, BUILDABLE, RunCreate
from kiln.domain.specs import (
    ANSWER_FROM,
    APPROVE_FROM,
    CLARIFY_FROM,
    REGENERATE_FROM,
    AnswerInput,
    AnswersRequest,
    ApproveRequest,
    RegenerateRequest,
)
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import FakeClock, FakeProjects, FakeSandbox, FakeWorld


@pytest.fixture
def service() -> ProjectService:
    return ProjectService(FakeProjects(), FakeClock())


def test_create_stamps_times_and_draft(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    assert project.status is ProjectStatus.DRAFT
    assert project.createdAt == "2026-11-25T12:00:00.001Z"


def test_update_refreshes_updated_at_only(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    updated = service.update("ws", project.id, ProjectUpdate(description="C"))
    assert (updated.name, updated.description) == ("A", "C")
    assert updated.createdAt == project.createdAt and updated.updatedAt > project.updatedAt


def test_archived_projects_cannot_be_edited(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    service.archive("ws", project.id)
    with pytest.raises(KilnError) as caught:
        service.update("ws", project.id, ProjectUpdate(name="X"))
    assert caught.value.details["currentStatus"] == "archived"


def test_archive_twice_keeps_first_archived_at(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    first = service.archive("ws", project.id)
    assert service.archive("ws", project.id).archivedAt == first.archivedAt


def test_workspaces_do_not_see_each_other(service):
    project = service.create("ws-a", ProjectCreate(name="A", description="B"))
    with pytest.raises(KilnError) as caught:
        service.get("ws-b", project.id)
    assert caught.value.code.value == "NOT_FOUND"


def test_every_status_but_archived_can_be_archived():
    assert ALLOWED_FROM[ProjectStatus.ARCHIVED] == frozenset(ProjectStatus) - {ProjectStatus.ARCHIVED}
    assert all(ProjectStatus.ARCHIVED not in sources for sources in ALLOWED_FROM.values())


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=250))
def test_create_accepts_exactly_the_documented_names(name):
    stripped = name.strip()
    try:
        model = ProjectCreate(name=name, description="d")
    except ValueError:
        controls = any(unicodedata.category(ch) == "Cc" for ch in stripped)
        assert not stripped or len(stripped) > 200 or controls
    else:
        assert model.name == stripped and 1 <= len(model.name) <= 200


# --- listing --------------------------------------------------------------------------------------


def test_lists_are_newest_first_leave_archived_projects_out_and_search_case_insensitively():
    service = ProjectService(FakeProjects(), FakeClock())
    made = [
        service.create("ws", ProjectCreate(name=name, description="d"))
        for name in ("Alpha", "Beta", "ALPHABET soup", "Gamma")
    ]
    service.archive("ws", made[1].id)
    newest_first = [made[3].id, made[2].id, made[0].id]
    page = service.list_page("ws", ProjectListFilter(), PageRequest(1, 2))
    assert [p.id for p in page.items] == newest_first[:2] and page.total == 3
    seen, after = [], None
    while True:
        chunk = service.list_cursor("ws", ProjectListFilter(), CursorRequest(1, after))
        seen += [p.id for p in chunk.items]
        if chunk.after is None:
            break
        after = chunk.after
    assert seen == newest_first
    found = service.list_page("ws", ProjectListFilter(search="alpha"), PageRequest(1, 10))
    assert [p.id for p in found.items] == [made[2].id, made[0].id]
    archived = service.list_page("ws", ProjectListFilter(status=ProjectStatus.ARCHIVED), PageRequest(1, 10))
    assert [p.id for p in archived.items] == [made[1].id]
    assert service.list_page("other", ProjectListFilter(), PageRequest(1, 10)).total == 0


# --- the project's state machine, under any sequence of calls ------------------------------------------

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
PASSED = [VerificationCheck(name="compile", passed=True), VerificationCheck(name="unittest", passed=True)]
BROKEN = [VerificationCheck(name="compile", passed=True), VerificationCheck(name="unittest", passed=False)]
WRITES = {"clarify": "save_questions", "answer": "save_version", "regenerate": "save_version", "approve": "approve"}


class ProjectLifecycle(RuleBasedStateMachine):
    """One project through the spec workflow, edits, builds and an archive, in any order, with
    other transitions slipped in between a spec step's read and its write. Each call succeeds
    exactly when the project's status allows it, and no write moves the status along an edge
    ALLOWED_FROM does not have (draft -> clarifying -> spec_review -> approved -> building ->
    built | failed, back to spec_review with a new version, any -> archived, and archived is final)."""

    def __init__(self) -> None:
        super().__init__()
        self.fakes = FakeWorld(sandbox=FakeSandbox(PASSED))
        self.projects = self.fakes.project_service()
        self.specs = self.fakes.spec_service()
        self.runs = self.fakes.run_service()
        self.id = self.projects.create(WORKSPACE, ProjectCreate(name="Planner", description="Plans work.")).id

    def status(self) -> ProjectStatus:
        return self.projects.get(WORKSPACE, self.id).status

    def call(self, name: str) -> None:
        """One transition; it must succeed exactly when the status allows it."""
        before = self.status()
        allowed, action = self.transitions()[name]
        try:
            action()
        except KilnError as error:
            assert error.code is ErrorCode.CONFLICT, error
            if name == "cancel_run":  # the run's status, not the project's
                assert before is not ProjectStatus.BUILDING
                return
            # Refused for the status it has when it would write (another transition may have
            # moved it since this one read it), for a change in between, or for a stale version.
            current = ProjectStatus(error.details["currentStatus"])
            assert (
                current not in allowed
                or error.details.get("reason") == "concurrent_change"
                or "requestedVersion" in error.details
            ), (name, before, error.details)
        else:
            assert before in allowed, (name, before)

    def transitions(self) -> dict[str, tuple[frozenset[ProjectStatus], Callable[[], object]]]:
        latest = self.projects.get(WORKSPACE, self.id).specVersion or 1
        return {
            "clarify": (CLARIFY_FROM, lambda: self.specs.clarify(WORKSPACE, self.id)),
            "answer": (
                ANSWER_FROM,
                lambda: self.specs.answer(
                    WORKSPACE, self.id, AnswersRequest(answers=[AnswerInput(questionId="audience", answer="Teams")])
                ),
            ),
            "regenerate": (
                REGENERATE_FROM,
                lambda: self.specs.regenerate(WORKSPACE, self.id, RegenerateRequest(feedback="Add tags.")),
            ),
            "approve": (APPROVE_FROM, lambda: self.specs.approve(WORKSPACE, self.id, ApproveRequest(version=latest))),
            "approve_stale": (
                frozenset(),
                lambda: self.specs.approve(WORKSPACE, self.id, ApproveRequest(version=latest + 1)),
            ),
            "patch": (EDITABLE, lambda: self.projects.update(WORKSPACE, self.id, ProjectUpdate(name="Renamed"))),
            "start_run": (BUILDABLE, lambda: self.runs.create(WORKSPACE, self.id, RunCreate(), None)),
            "cancel_run": (frozenset({ProjectStatus.BUILDING}), self.cancel_latest_run),
        }

    def cancel_latest_run(self) -> None:
        [*_, run] = self.fakes.runs.runs_of(WORKSPACE, self.id) or [None]
        if run is None:
            raise KilnError(ErrorCode.CONFLICT, "No run to cancel.", {"currentStatus": None})
        self.runs.cancel(WORKSPACE, self.id, run.id)

    @rule(
        name=st.sampled_from(
            ["clarify", "answer", "regenerate", "approve", "approve_stale", "patch", "start_run", "cancel_run"]
        )
    )
    def transition(self, name: str) -> None:
        self.call(name)

    @rule(passing=st.booleans())
    def build_to_the_end(self, passing: bool) -> None:
        runs = [r for r in self.fakes.runs.runs_of(WORKSPACE, self.id) if r.status in ACTIVE]
        self.fakes.sandbox.answer = PASSED if passing else BROKEN
        for run in runs:
            outcome = run_sequentially(self.fakes.build_steps(), RunRef(WORKSPACE, self.id, run.id))
            assert outcome == {"status": "succeeded" if passing else "failed"}

    @rule()
    def archive(self) -> None:
        archived = self.projects.archive(WORKSPACE, self.id)
        assert archived.status is ProjectStatus.ARCHIVED and archived.archivedAt is not None

    @rule(
        outer=st.sampled_from(sorted(WRITES)),
        inner=st.sampled_from(["clarify", "answer", "regenerate", "approve", "patch", "start_run"]),
    )
    def overlap(self, outer: str, inner: str) -> None:
        """`inner` runs between `outer`'s read and its guarded write."""
        self.fakes.specs.before(WRITES[outer], lambda: self.call(inner))
        self.call(outer)
        self.fakes.specs.forget()  # unused when `outer` was refused before writing

    @invariant()
    def statuses_move_only_along_allowed_edges(self) -> None:
        illegal = [(a.value, b.value) for _, _, a, b in self.fakes.projects.transitions if a not in ALLOWED_FROM[b]]
        assert not illegal, illegal

    @invariant()
    def the_project_points_at_its_latest_version_and_its_approval(self) -> None:
        project = self.projects.get(WORKSPACE, self.id)
        versions = self.specs.get(WORKSPACE, self.id, None).versions if project.specVersion else []
        assert project.specVersion == (len(versions) or None)
        if project.status in (ProjectStatus.DRAFT, ProjectStatus.CLARIFYING):
            assert project.specVersion is None
        if project.status is ProjectStatus.SPEC_REVIEW:
            assert project.approvedAt is None
        if project.status in (ProjectStatus.APPROVED, ProjectStatus.BUILDING, ProjectStatus.BUILT):
            assert project.approvedAt is not None and versions[-1].approvedAt == project.approvedAt

    @invariant()
    def building_exactly_while_a_run_is_active(self) -> None:
        active = [r for r in self.fakes.runs.runs_of(WORKSPACE, self.id) if r.status in ACTIVE]
        assert len(active) <= 1
        if self.status() is not ProjectStatus.ARCHIVED:
            assert (self.status() is ProjectStatus.BUILDING) == bool(active)


ProjectLifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_project_lifecycle = ProjectLifecycle.TestCase

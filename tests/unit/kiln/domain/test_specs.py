"""SpecService on the shared fakes: clarify, answer, regenerate, approve and read, what bad
input and a failing generator leave behind (nothing), and a property: of two overlapping
transitions exactly one wins, because every write is guarded by the revision read before
generating, so a stale revision never overwrites."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.generation import GenerationFailed
from kiln.domain.projects import ProjectCreate, ProjectStatus, ProjectUpdate
from kiln.domain.spec_documents import DOCUMENT_NAMES
from kiln.domain.specs import (
    AnswerInput,
    AnswersRequest,
    ApproveRequest,
    RegenerateRequest,
    SpecService,
)
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import FakeWorld

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
ANSWERS = AnswersRequest(answers=[AnswerInput(questionId="audience", answer="Teams")])


def refused(call: Callable[[], Any]) -> KilnError:
    with pytest.raises(KilnError) as error:
        call()
    return error.value


def drafted(fakes: FakeWorld) -> str:
    return fakes.project_service().create(WORKSPACE, ProjectCreate(name="Planner", description="Plans work.")).id


def stored(fakes: FakeWorld, project_id: str) -> tuple[Any, ...]:
    """Everything the spec workflow can have written: the project item and its versions."""
    return copy.deepcopy(fakes.projects.item(WORKSPACE, project_id)), copy.deepcopy(fakes.specs.versions)


# --- the happy path ---------------------------------------------------------------------------------


def test_from_description_to_an_approved_spec():
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    clarification = specs.clarify(WORKSPACE, project_id)
    assert clarification.status is ProjectStatus.CLARIFYING
    assert [q.id for q in clarification.questions] == ["audience", "notes"]
    written = specs.answer(WORKSPACE, project_id, ANSWERS)
    assert (written.status, written.specVersion, written.spec.version) == (ProjectStatus.SPEC_REVIEW, 1, 1)
    assert set(written.spec.documents) == set(DOCUMENT_NAMES) and written.spec.generator == "fake"
    assert fakes.projects.item(WORKSPACE, project_id)["answers"] == {"audience": "Teams"}
    second = specs.regenerate(WORKSPACE, project_id, RegenerateRequest(feedback="Add CSV export."))
    assert (second.specVersion, second.spec.feedback) == (2, "Add CSV export.")
    approved = specs.approve(WORKSPACE, project_id, ApproveRequest(version=2))
    assert approved.status is ProjectStatus.APPROVED and approved.approvedAt is not None
    view = specs.get(WORKSPACE, project_id, None)
    assert view.spec.version == 2 and view.spec.approvedAt == approved.approvedAt
    assert [(v.version, v.feedback) for v in view.versions] == [(1, None), (2, "Add CSV export.")]
    assert specs.get(WORKSPACE, project_id, 1).spec.approvedAt is None


def test_every_piece_of_feedback_reaches_the_generator_oldest_first():
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    specs.clarify(WORKSPACE, project_id)
    specs.answer(WORKSPACE, project_id, ANSWERS)
    for feedback in ("Add tags.", "Add CSV export."):
        specs.regenerate(WORKSPACE, project_id, RegenerateRequest(feedback=feedback))
    specs.regenerate(WORKSPACE, project_id, RegenerateRequest())
    latest = specs.get(WORKSPACE, project_id, None).spec
    assert latest.version == 4 and latest.feedback is None
    assert "Add tags." in latest.documents["SPEC.md"] and "Add CSV export." in latest.documents["SPEC.md"]


# --- refusals change nothing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers, problem",
    [
        ([], "missing"),
        ([{"questionId": "audience", "answer": "Robots"}], "option_not_offered"),
        ([{"questionId": "audience", "answer": True}], "string_type"),
        ([{"questionId": "nope", "answer": "x"}, {"questionId": "audience", "answer": "Teams"}], "unknown_question"),
        ([{"questionId": "audience", "answer": "Teams"}, {"questionId": "audience", "answer": "Teams"}], "duplicate"),
        (
            [{"questionId": "audience", "answer": "Teams"}, {"questionId": "notes", "answer": "bell\x07"}],
            "control_characters",
        ),
    ],
)
def test_answers_that_do_not_fit_the_questions_are_refused_and_nothing_is_stored(answers, problem):
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    specs.clarify(WORKSPACE, project_id)
    before = stored(fakes, project_id)
    error = refused(lambda: specs.answer(WORKSPACE, project_id, AnswersRequest.model_validate({"answers": answers})))
    assert error.code is ErrorCode.VALIDATION_ERROR
    assert problem in [field["type"] for field in error.details["fields"]]
    assert stored(fakes, project_id) == before


@pytest.mark.parametrize(
    "reason, code, retry_after",
    [
        ("unavailable", ErrorCode.SERVICE_UNAVAILABLE, "5"),
        ("malformed_output", ErrorCode.SERVICE_UNAVAILABLE, "5"),
        ("misconfigured", ErrorCode.SERVICE_UNAVAILABLE, None),
        ("refused", ErrorCode.VALIDATION_ERROR, None),
    ],
)
def test_a_generator_that_fails_stores_nothing(reason, code, retry_after):
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    specs.clarify(WORKSPACE, project_id)
    before = stored(fakes, project_id)
    fakes.generator.fail_next("write_spec", GenerationFailed("no", reason))
    error = refused(lambda: specs.answer(WORKSPACE, project_id, ANSWERS))
    assert error.code is code and error.details["generator"] == "fake"
    assert error.headers.get("Retry-After") == retry_after
    assert stored(fakes, project_id) == before


def test_approving_a_version_the_reviewer_did_not_read_is_refused():
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    specs.clarify(WORKSPACE, project_id)
    specs.answer(WORKSPACE, project_id, ANSWERS)
    specs.regenerate(WORKSPACE, project_id, RegenerateRequest(feedback="More."))
    before = stored(fakes, project_id)
    error = refused(lambda: specs.approve(WORKSPACE, project_id, ApproveRequest(version=1)))
    assert error.code is ErrorCode.CONFLICT
    assert error.details == {"requestedVersion": 1, "latestVersion": 2, "currentStatus": "spec_review"}
    assert stored(fakes, project_id) == before


@pytest.mark.parametrize(
    "call, allowed",
    [
        (lambda s, p: s.answer(WORKSPACE, p, ANSWERS), ["clarifying"]),
        (lambda s, p: s.regenerate(WORKSPACE, p, RegenerateRequest()), ["approved", "built", "failed", "spec_review"]),
        (lambda s, p: s.approve(WORKSPACE, p, ApproveRequest()), ["spec_review"]),
    ],
)
def test_a_step_out_of_order_is_a_conflict_naming_where_it_is_allowed(call, allowed):
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    error = refused(lambda: call(specs, project_id))
    assert error.code is ErrorCode.CONFLICT
    assert error.details == {"currentStatus": "draft", "allowedFrom": allowed}


def test_reading_a_spec_that_does_not_exist():
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    assert refused(lambda: specs.get(WORKSPACE, project_id, None)).details["resource"] == "spec"
    specs.clarify(WORKSPACE, project_id)
    specs.answer(WORKSPACE, project_id, ANSWERS)
    error = refused(lambda: specs.get(WORKSPACE, project_id, 2))
    assert error.code is ErrorCode.NOT_FOUND and error.details["latestVersion"] == 1
    assert refused(lambda: specs.get("ws_01m885m8rskqxxjknrtpgbxzzz", project_id, None)).code is ErrorCode.NOT_FOUND


# --- overlapping transitions: a stale revision never overwrites ----------------------------------------


def _clarify(specs: SpecService, fakes: FakeWorld, project_id: str) -> object:
    return specs.clarify(WORKSPACE, project_id)


def _answer(specs: SpecService, fakes: FakeWorld, project_id: str) -> object:
    return specs.answer(WORKSPACE, project_id, ANSWERS)


def _regenerate(specs: SpecService, fakes: FakeWorld, project_id: str) -> object:
    return specs.regenerate(WORKSPACE, project_id, RegenerateRequest(feedback="Again."))


def _approve(specs: SpecService, fakes: FakeWorld, project_id: str) -> object:
    return specs.approve(WORKSPACE, project_id, ApproveRequest())


def _patch(specs: SpecService, fakes: FakeWorld, project_id: str) -> object:
    return fakes.project_service().update(WORKSPACE, project_id, ProjectUpdate(description="Plans more work."))


def _archive(specs: SpecService, fakes: FakeWorld, project_id: str) -> object:
    return fakes.project_service().archive(WORKSPACE, project_id)


SPEC_STEPS = {"clarify": _clarify, "answer": _answer, "regenerate": _regenerate, "approve": _approve}
ANY_STEP = {**SPEC_STEPS, "patch": _patch, "archive": _archive}
# Where each spec step writes: the inner transition runs just before it, after the outer's read.
WRITES = {"clarify": "save_questions", "answer": "save_version", "regenerate": "save_version", "approve": "approve"}


@settings(max_examples=150, deadline=None)
@given(
    setup=st.lists(st.sampled_from(sorted(SPEC_STEPS)), max_size=5),
    outer=st.sampled_from(sorted(SPEC_STEPS)),
    inner=st.sampled_from(sorted(ANY_STEP)),
)
def test_of_two_overlapping_transitions_exactly_one_wins(setup, outer, inner):
    fakes = FakeWorld()
    specs, project_id = fakes.spec_service(), drafted(fakes)
    for step in setup:  # somewhere along the workflow
        try:
            SPEC_STEPS[step](specs, fakes, project_id)
        except KilnError:
            pass
    seen: dict[str, Any] = {}

    def meanwhile() -> None:
        seen["revision"] = fakes.projects.revision(WORKSPACE, project_id)
        try:
            ANY_STEP[inner](specs, fakes, project_id)
        except KilnError:
            pass
        seen["after"] = stored(fakes, project_id)

    fakes.specs.before(WRITES[outer], meanwhile)
    try:
        SPEC_STEPS[outer](specs, fakes, project_id)
    except KilnError as error:
        outcome: KilnError | None = error
    else:
        outcome = None
    if "after" not in seen:  # refused before writing (a step out of order): the inner one never ran
        assert outcome is not None and outcome.code in (ErrorCode.CONFLICT, ErrorCode.VALIDATION_ERROR)
        return
    inner_wrote = seen["after"][0].get("revision", 0) != seen["revision"]
    if inner_wrote:
        # The later writer read a revision that has moved on: it loses, and writes nothing.
        assert outcome is not None and outcome.code is ErrorCode.CONFLICT
        assert stored(fakes, project_id) == seen["after"]
    else:
        assert outcome is None, outcome

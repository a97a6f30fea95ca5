"""The specification workflow through its handlers, with moto behind the adapters.

Covers the status machine (every illegal transition answers 409 naming the current and the
allowed states), answer validation against the questions asked, versions, tenancy, and the
race between approve and regenerate: exactly one of two overlapping transitions wins.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kiln import services
from kiln.domain.generation import GenerationFailed, Question
from kiln.domain.generators.builtin import BuiltinGenerator
from kiln.handlers import (
    projects_archive,
    projects_create,
    projects_get,
    projects_update,
    specs_answer,
    specs_approve,
    specs_clarify,
    specs_get,
    specs_regenerate,
)
from tests.unit.conftest import parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

EXAMPLE = "A project management tool with team collaboration features, task boards, and time tracking"
OTHER_WORKSPACE = principal_context(workspace_id="ws_01m885m8rskqxxjknrtpgbxzzz")
READ_ONLY = principal_context(scopes="project:read")
NO_AI = principal_context(scopes="project:read project:write")


def create(description: str = EXAMPLE) -> str:
    status, body = parse(
        projects_create.handler(
            proxy_event("POST", "/v1/projects", body={"name": "Teamwork", "description": description})
        )
    )
    assert status == 201, body
    return body["data"]["id"]


def call(handler: Any, method: str, suffix: str, project_id: str, **kwargs: Any) -> tuple[int, dict]:
    resource = "/v1/projects/{projectId}" + suffix
    return parse(
        handler.handler(
            proxy_event(
                method, resource, f"/v1/projects/{project_id}{suffix}", path_params={"projectId": project_id}, **kwargs
            )
        )
    )


def clarify(project_id: str, **kwargs: Any) -> tuple[int, dict]:
    return call(specs_clarify, "POST", "/clarify", project_id, **kwargs)


def answer(project_id: str, answers: list[dict], **kwargs: Any) -> tuple[int, dict]:
    return call(specs_answer, "POST", "/answers", project_id, body={"answers": answers}, **kwargs)


def regenerate(project_id: str, feedback: str | None = None, **kwargs: Any) -> tuple[int, dict]:
    body = {"feedback": feedback} if feedback is not None else None
    return call(specs_regenerate, "POST", "/regenerate", project_id, body=body, **kwargs)


def approve(project_id: str, body: dict | None = None, **kwargs: Any) -> tuple[int, dict]:
    return call(specs_approve, "POST", "/approve", project_id, body=body, **kwargs)


def get_spec(project_id: str, version: str | None = None, **kwargs: Any) -> tuple[int, dict]:
    query = {"version": version} if version is not None else None
    return call(specs_get, "GET", "/spec", project_id, query=query, **kwargs)


def project_status(project_id: str) -> str:
    status, body = call(projects_get, "GET", "", project_id)
    assert status == 200, body
    return body["data"]["status"]


def valid_answer(question: dict) -> Any:
    kind = question["type"]
    if kind == "boolean":
        return True
    if kind == "single_choice":
        return question["options"][0]
    if kind == "multi_choice":
        return question["options"][:2]
    return "Keep it simple for the first release."


def answer_all(questions: list[dict]) -> list[dict]:
    return [{"questionId": q["id"], "answer": valid_answer(q)} for q in questions]


def in_review(description: str = EXAMPLE) -> str:
    project_id = create(description)
    status, body = clarify(project_id)
    assert status == 200, body
    status, body = answer(project_id, answer_all(body["data"]["questions"]))
    assert status == 200, body
    return project_id


# --- the happy path ---------------------------------------------------------------------


def test_clarify_moves_a_draft_to_clarifying_and_returns_typed_questions():
    project_id = create()
    status, body = clarify(project_id)
    assert status == 200, body
    data = body["data"]
    assert data["projectId"] == project_id and data["status"] == "clarifying"
    questions = data["questions"]
    assert questions and len({q["id"] for q in questions}) == len(questions)
    assert {q["type"] for q in questions} <= {"single_choice", "multi_choice", "boolean", "text"}
    for question in questions:
        assert ("options" in question) == (question["type"] in {"single_choice", "multi_choice"})
    assert project_status(project_id) == "clarifying"
    # Asking again (clarifying -> clarifying) answers the same questions: the generator is deterministic.
    assert clarify(project_id)[1]["data"]["questions"] == questions


def test_answers_write_version_one_with_the_four_documents():
    project_id = create()
    questions = clarify(project_id)[1]["data"]["questions"]
    status, body = answer(project_id, answer_all(questions))
    assert status == 200, body
    data = body["data"]
    assert data["id"] == project_id and data["status"] == "spec_review" and data["specVersion"] == 1
    spec = data["spec"]
    assert spec["version"] == 1 and spec["feedback"] is None and spec["approvedAt"] is None
    assert spec["generator"] == "builtin"
    assert set(spec["documents"]) == {"SPEC.md", "ACCEPTANCE.md", "ROUTES.md", "DATA.md"}
    assert "Task" in spec["documents"]["DATA.md"] and "TimeEntry" in spec["documents"]["DATA.md"]
    assert project_status(project_id) == "spec_review"


def test_regenerate_with_feedback_adds_a_version_that_carries_the_feedback():
    project_id = in_review()
    feedback = "Add CSV export of time entries per project for invoicing."
    status, body = regenerate(project_id, feedback)
    assert status == 200, body
    spec = body["data"]["spec"]
    assert spec["version"] == 2 and spec["feedback"] == feedback
    first = get_spec(project_id, "1")[1]["data"]["spec"]["documents"]
    assert spec["documents"]["SPEC.md"] != first["SPEC.md"]
    assert feedback in spec["documents"]["SPEC.md"]


def test_approve_then_regenerate_returns_to_review_and_clears_the_approval():
    project_id = in_review()
    status, body = approve(project_id)
    assert status == 200, body
    assert body["data"]["status"] == "approved" and body["data"]["approvedAt"]
    approved_at = body["data"]["approvedAt"]
    status, body = regenerate(project_id)
    assert status == 200, body
    assert body["data"]["status"] == "spec_review" and body["data"]["approvedAt"] is None
    assert body["data"]["specVersion"] == 2
    view = get_spec(project_id)[1]["data"]
    assert [v["version"] for v in view["versions"]] == [1, 2]
    # Version 1 keeps the record of its approval; version 2 is unapproved.
    assert view["versions"][0]["approvedAt"] == approved_at and view["versions"][1]["approvedAt"] is None
    assert view["spec"]["version"] == 2 and view["projectStatus"] == "spec_review"


def test_get_spec_defaults_to_latest_and_lists_every_version():
    project_id = in_review()
    regenerate(project_id, "Add tags to tasks.")
    status, body = get_spec(project_id)
    assert status == 200, body
    view = body["data"]
    assert view["spec"]["version"] == 2
    assert [(v["version"], v["feedback"]) for v in view["versions"]] == [(1, None), (2, "Add tags to tasks.")]
    assert all(v["createdAt"] for v in view["versions"])
    assert get_spec(project_id, "1")[1]["data"]["spec"]["version"] == 1
    status, body = get_spec(project_id, "3")
    assert status == 404 and body["error"]["details"]["latestVersion"] == 2
    assert get_spec(project_id, "zero")[0] == 400


def test_get_spec_before_any_version_is_not_found():
    project_id = create()
    status, body = get_spec(project_id)
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["details"]["status"] == "draft"


# --- the status machine -----------------------------------------------------------------


@pytest.mark.parametrize("action", ["answers", "regenerate", "approve"])
def test_a_draft_cannot_skip_clarification(action: str):
    project_id = create()
    status, body = {
        "answers": lambda: answer(project_id, []),
        "regenerate": lambda: regenerate(project_id),
        "approve": lambda: approve(project_id),
    }[action]()
    assert status == 409, body
    assert body["error"]["code"] == "CONFLICT"
    assert body["error"]["details"]["currentStatus"] == "draft"
    assert body["error"]["details"]["allowedFrom"]
    assert "draft" not in body["error"]["details"]["allowedFrom"]


def test_illegal_transitions_name_current_and_allowed_states():
    project_id = in_review()
    status, body = clarify(project_id)
    assert status == 409 and body["error"]["details"] == {
        "currentStatus": "spec_review",
        "allowedFrom": ["clarifying", "draft"],
    }
    status, body = answer(project_id, [])
    assert status == 409 and body["error"]["details"]["allowedFrom"] == ["clarifying"]
    approve(project_id)
    status, body = approve(project_id)
    assert status == 409 and body["error"]["details"] == {"currentStatus": "approved", "allowedFrom": ["spec_review"]}


def test_archived_projects_refuse_every_spec_transition():
    project_id = in_review()
    call(projects_archive, "DELETE", "", project_id)
    for status, body in (clarify(project_id), regenerate(project_id), approve(project_id)):
        assert status == 409 and body["error"]["details"]["currentStatus"] == "archived"
    # The history stays readable.
    assert get_spec(project_id)[0] == 200


def test_approve_can_insist_on_the_version_the_reviewer_read():
    project_id = in_review()
    regenerate(project_id, "Add tags.")
    status, body = approve(project_id, {"version": 1})
    assert status == 409 and body["error"]["details"]["latestVersion"] == 2
    assert project_status(project_id) == "spec_review"
    assert approve(project_id, {"version": 2})[0] == 200


# --- answers against the questions asked ------------------------------------------------

QUESTIONS = [
    Question(id="auth", question="How do users sign in?", type="single_choice", options=["Email", "SSO"]),
    Question(id="realtime", question="Live updates?", type="boolean"),
    Question(
        id="integrations",
        question="Which integrations?",
        type="multi_choice",
        options=["Slack", "GitHub", "Email"],
        required=False,
    ),
    Question(id="notes", question="Anything else?", type="text", required=False),
]


class FixedQuestions(BuiltinGenerator):
    def clarify(self, brief):
        return list(QUESTIONS)


@pytest.fixture
def fixed_questions():
    services.use(services.build(generator=FixedQuestions()))
    project_id = create()
    assert clarify(project_id)[0] == 200
    return project_id


def test_answers_are_checked_against_the_questions_and_every_problem_is_named(fixed_questions):
    status, body = answer(
        fixed_questions,
        [
            {"questionId": "auth", "answer": "Carrier pigeon"},
            {"questionId": "realtime", "answer": "yes"},
            {"questionId": "integrations", "answer": ["Slack", "Fax"]},
            {"questionId": "colour", "answer": "blue"},
        ],
    )
    assert status == 400, body
    fields = {(f["field"], f["type"]) for f in body["error"]["details"]["fields"]}
    assert fields == {
        ("answers.0.answer", "option_not_offered"),
        ("answers.1.answer", "bool_type"),
        ("answers.2.answer", "option_not_offered"),
        ("answers.3.questionId", "unknown_question"),
    }
    messages = " ".join(f["message"] for f in body["error"]["details"]["fields"])
    assert "Carrier pigeon" in messages and "'Fax'" in messages and "colour" in messages
    # Nothing changed.
    assert project_status(fixed_questions) == "clarifying"


def test_required_questions_must_be_answered(fixed_questions):
    status, body = answer(fixed_questions, [{"questionId": "auth", "answer": "SSO"}])
    assert status == 400
    fields = body["error"]["details"]["fields"]
    assert [(f["field"], f["type"]) for f in fields] == [("answers", "missing")]
    assert "realtime" in fields[0]["message"]


def test_duplicate_and_oversized_answers_are_rejected(fixed_questions):
    status, body = answer(
        fixed_questions,
        [
            {"questionId": "auth", "answer": "SSO"},
            {"questionId": "auth", "answer": "Email"},
            {"questionId": "realtime", "answer": False},
        ],
    )
    assert status == 400 and body["error"]["details"]["fields"][0]["type"] == "duplicate"
    status, body = answer(
        fixed_questions,
        [
            {"questionId": "auth", "answer": "SSO"},
            {"questionId": "realtime", "answer": False},
            {"questionId": "notes", "answer": "x" * 2001},
        ],
    )
    assert status == 400 and body["error"]["details"]["fields"][0]["field"].startswith("answers.2.answer")
    status, body = answer(fixed_questions, [{"questionId": "auth", "answer": 3}])
    assert status == 400


def test_optional_questions_may_be_skipped(fixed_questions):
    status, body = answer(
        fixed_questions,
        [
            {"questionId": "auth", "answer": "SSO"},
            {"questionId": "realtime", "answer": False},
            {"questionId": "integrations", "answer": []},
        ],
    )
    assert status == 200, body
    assert body["data"]["spec"]["version"] == 1


def test_request_bodies_reject_unknown_fields_and_bad_limits():
    project_id = create()
    status, body = call(specs_clarify, "POST", "/clarify", project_id, body={"model": "x"})
    assert status == 400 and body["error"]["details"]["fields"][0]["message"] == "unknown field"
    project_id = in_review()
    status, body = regenerate(project_id, "y" * 4001)
    assert status == 400 and body["error"]["details"]["fields"][0]["field"] == "feedback"
    status, body = regenerate(project_id, "bad\x00feedback")
    assert status == 400
    status, body = approve(project_id, {"version": 0})
    assert status == 400
    assert get_spec(project_id)[1]["data"]["spec"]["version"] == 1


# --- scopes and tenancy -----------------------------------------------------------------


def test_spec_transitions_need_ai_invoke_and_project_write():
    project_id = create()
    for context in (READ_ONLY, NO_AI):
        status, body = clarify(project_id, authorizer=context)
        assert status == 403 and body["error"]["code"] == "FORBIDDEN"
        assert "ai:invoke" in body["error"]["details"]["missingScopes"]
    assert project_status(project_id) == "draft"


def test_reading_a_spec_needs_only_project_read():
    project_id = in_review()
    assert get_spec(project_id, authorizer=READ_ONLY)[0] == 200


def test_another_workspace_gets_not_found_for_every_spec_endpoint():
    project_id = in_review()
    for status, body in (
        clarify(project_id, authorizer=OTHER_WORKSPACE),
        regenerate(project_id, authorizer=OTHER_WORKSPACE),
        approve(project_id, authorizer=OTHER_WORKSPACE),
        get_spec(project_id, authorizer=OTHER_WORKSPACE),
    ):
        assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert project_status(project_id) == "spec_review"


# --- generator failures store nothing ---------------------------------------------------


class Failing(BuiltinGenerator):
    def write_spec(self, request):
        raise GenerationFailed("model answered twice with invalid JSON", "malformed_output")


def test_a_failing_generator_answers_503_and_stores_nothing():
    project_id = in_review()
    services.use(services.build(generator=Failing()))
    status, body = regenerate(project_id, "Add tags.")
    assert status == 503, body
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["details"]["reason"] == "malformed_output"
    view = get_spec(project_id)[1]["data"]
    assert [v["version"] for v in view["versions"]] == [1]
    assert project_status(project_id) == "spec_review"


# --- overlapping transitions: exactly one wins ------------------------------------------


class Paused(BuiltinGenerator):
    """Holds write_spec until released, so another request can land in between."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def write_spec(self, request):
        self.entered.set()
        assert self.release.wait(10)
        return super().write_spec(request)


def _in_thread(function, *args) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(function(*args)))
    thread.start()
    return thread, result


def test_approve_landing_during_regeneration_wins_and_the_regeneration_stores_nothing():
    project_id = in_review()
    paused = Paused()
    services.use(services.build(generator=paused))
    thread, result = _in_thread(regenerate, project_id, "Add tags.")
    assert paused.entered.wait(10)
    assert approve(project_id)[0] == 200
    paused.release.set()
    thread.join(10)
    status, body = result[0]
    assert status == 409, body
    assert body["error"]["details"]["reason"] == "concurrent_change"
    assert body["error"]["details"]["currentStatus"] == "approved"
    view = get_spec(project_id)[1]["data"]
    assert [v["version"] for v in view["versions"]] == [1]
    assert view["projectStatus"] == "approved"


def test_regeneration_landing_during_approve_wins_and_the_approval_stores_nothing(monkeypatch):
    project_id = in_review()
    from kiln.adapters.dynamodb.specs import SpecStore

    original = SpecStore.approve

    def approve_after_a_regeneration(self, *args, **kwargs):
        assert regenerate(project_id, "Add tags.")[0] == 200  # lands between approve's read and write
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SpecStore, "approve", approve_after_a_regeneration)
    status, body = approve(project_id)
    assert status == 409, body
    assert body["error"]["details"]["reason"] == "concurrent_change"
    view = get_spec(project_id)[1]["data"]
    assert [(v["version"], v["approvedAt"]) for v in view["versions"]] == [(1, None), (2, None)]
    assert view["projectStatus"] == "spec_review"


def test_concurrent_approvals_have_exactly_one_winner():
    project_id = in_review()
    barrier = threading.Barrier(4)
    results: list[int] = []

    def race() -> None:
        barrier.wait()
        results.append(approve(project_id)[0])

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [200, 409, 409, 409]


def test_a_description_edited_during_generation_makes_the_stale_spec_lose():
    project_id = create()
    questions = clarify(project_id)[1]["data"]["questions"]
    paused = Paused()
    services.use(services.build(generator=paused))
    thread, result = _in_thread(answer, project_id, answer_all(questions))
    assert paused.entered.wait(10)
    status, _ = call(projects_update, "PATCH", "", project_id, body={"description": "A recipe sharing site."})
    assert status == 200
    paused.release.set()
    thread.join(10)
    assert result[0][0] == 409
    assert project_status(project_id) == "clarifying"
    assert get_spec(project_id)[0] == 404

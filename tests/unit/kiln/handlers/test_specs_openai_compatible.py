"""The specification workflow through its handlers with KILN_GENERATOR=openai-compatible: the
configured generator talks HTTP to a scripted chat-completions server on 127.0.0.1, and moto
stands behind the other adapters. What a user sees: the model's questions and spec, a 503 with
nothing stored when the model fails, the endpoint's Retry-After, a 400 for a refusal.
"""

from __future__ import annotations

import copy

import pytest

from kiln.adapters.openai_compatible import OpenAICompatibleGenerator
from kiln.domain.model_generation import QUESTIONS_TOOL, SPEC_TOOL
from kiln.handlers import specs_regenerate
from tests.unit.conftest import parse, proxy_event
from tests.unit.kiln.adapters.fake_chat_completions import MODEL, FakeChatCompletions
from tests.unit.kiln.adapters.test_bedrock import QUESTIONS, SPEC
from tests.unit.kiln.handlers.test_specs import (
    answer,
    clarify,
    create,
    get_spec,
    project_status,
    regenerate,
)

KEY = "sk-local-test"
DESCRIPTION = "A tool where freelancers log hours against client projects and bill them."
ANSWERS = [
    {"questionId": "authentication", "answer": "Email and password"},
    {"questionId": "invoicing", "answer": True},
]


@pytest.fixture
def chat(cloud: None, monkeypatch: pytest.MonkeyPatch) -> FakeChatCompletions:
    fake = FakeChatCompletions()
    for name in ("HTTP_PROXY", "http_proxy", "KILN_OPENAI_API_KEY_SECRET_ARN", "KILN_OPENAI_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KILN_GENERATOR", "openai-compatible")
    monkeypatch.setenv("KILN_OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("KILN_OPENAI_MODEL", MODEL)
    monkeypatch.setenv("KILN_OPENAI_API_KEY", KEY)
    yield fake
    fake.close()
    assert fake.pending == 0 and fake.unscripted == 0, "the script and the calls disagree"


def in_review(chat: FakeChatCompletions) -> str:
    project_id = create(DESCRIPTION)
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)
    assert clarify(project_id)[0] == 200
    chat.tool_answer(SPEC_TOOL, SPEC)
    status, body = answer(project_id, ANSWERS)
    assert status == 200, body
    return project_id


def test_the_configured_generator_is_the_openai_compatible_one(chat: FakeChatCompletions) -> None:
    from kiln import services

    generator = services.current().generator
    assert isinstance(generator, OpenAICompatibleGenerator) and generator.name == f"openai-compatible:{MODEL}"
    builds = services.current().build_generator
    assert isinstance(builds, OpenAICompatibleGenerator) and builds.timeout == 240


def test_questions_and_spec_come_from_the_model(chat: FakeChatCompletions) -> None:
    project_id = create(DESCRIPTION)
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)

    status, body = clarify(project_id)

    assert status == 200, body
    assert [q["id"] for q in body["data"]["questions"]] == ["authentication", "invoicing"]
    assert body["data"]["questions"][0]["options"] == ["Email and password", "Single sign-on"]
    [asked] = chat.requests
    assert asked.headers["Authorization"] == f"Bearer {KEY}" and asked.body["model"] == MODEL
    assert DESCRIPTION in asked.body["messages"][1]["content"]

    chat.tool_answer(SPEC_TOOL, SPEC)
    status, body = answer(project_id, ANSWERS)

    assert status == 200, body
    spec = body["data"]["spec"]
    assert spec["version"] == 1 and spec["generator"] == f"openai-compatible:{MODEL}"
    assert "TimeEntry" in spec["documents"]["DATA.md"] and "project_id" in spec["documents"]["DATA.md"]
    assert "/projects/{projectId}/entries" in spec["documents"]["ROUTES.md"]
    written = chat.requests[1].body["messages"][1]["content"]
    assert "Email and password" in written and '<answer to="invoicing">yes</answer>' in written
    assert project_status(project_id) == "spec_review"


def test_a_model_that_fails_twice_answers_503_and_stores_nothing(chat: FakeChatCompletions) -> None:
    project_id = in_review(chat)
    broken = copy.deepcopy(SPEC)
    broken["entities"][1]["relations"] = [{"kind": "belongs_to", "target": "Project"}]  # no `via`
    chat.tool_answer(SPEC_TOOL, broken)
    chat.tool_answer(SPEC_TOOL, broken)

    status, body = regenerate(project_id, "Add invoices per client.")

    assert status == 503, body
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["error"]["details"] == {
        "reason": "malformed_output",
        "generator": "openai-compatible",
        "retryAfterSeconds": 5,
    }
    retried = chat.requests[-1].body["messages"]
    assert retried[-1]["role"] == "tool" and "via" in retried[-1]["content"]
    view = get_spec(project_id)[1]["data"]
    assert [v["version"] for v in view["versions"]] == [1]
    assert project_status(project_id) == "spec_review"


def test_a_throttled_endpoint_passes_its_retry_after_on(chat: FakeChatCompletions) -> None:
    project_id = in_review(chat)
    chat.error(
        429,
        {"error": {"message": "Rate limit reached for requests", "code": "rate_limit_exceeded"}},
        {"Retry-After": "42"},
    )

    response = specs_regenerate.handler(
        proxy_event(
            "POST",
            "/v1/projects/{projectId}/regenerate",
            f"/v1/projects/{project_id}/regenerate",
            path_params={"projectId": project_id},
            body={"feedback": "Add tags."},
        )
    )
    status, body = parse(response)

    assert status == 503, body
    assert response["headers"]["Retry-After"] == "42"
    assert body["error"]["details"]["retryAfterSeconds"] == 42
    assert "Rate limit reached" not in str(body)
    assert [v["version"] for v in get_spec(project_id)[1]["data"]["versions"]] == [1]


def test_a_refusal_answers_400_and_changes_nothing(chat: FakeChatCompletions) -> None:
    project_id = create(DESCRIPTION)
    chat.text_answer(None, finish="content_filter")

    status, body = clarify(project_id)

    assert status == 400, body
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]["reason"] == "refused"
    assert body["error"]["details"]["generator"] == "openai-compatible"
    assert project_status(project_id) == "draft"

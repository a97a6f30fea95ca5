"""Bring your own model, over HTTP: a local cloud started with KILN_GENERATOR=openai-compatible
writes questions and specs through a scripted chat-completions server on 127.0.0.1, and a client
sees the model's words, a 503 with the endpoint's Retry-After, and a 400 for a refusal."""

from __future__ import annotations

import pytest

from tests.integration.conftest import CHAT_API_KEY, LocalCloudProcess
from tests.unit.kiln.adapters.fake_chat_completions import MODEL, FakeChatCompletions
from tests.unit.kiln.adapters.test_bedrock import QUESTIONS, SPEC

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

DESCRIPTION = "A tool where freelancers log hours against client projects and bill them."
ANSWERS = [{"questionId": "authentication", "answer": "Single sign-on"}, {"questionId": "invoicing", "answer": False}]


def test_a_spec_written_by_the_configured_model(model_cloud: LocalCloudProcess, chat: FakeChatCompletions) -> None:
    api, url = model_cloud.session(), model_cloud.url
    project = api.post(f"{url}/v1/projects", json={"name": "Timekeeper", "description": DESCRIPTION}).json()["data"]
    base = f"{url}/v1/projects/{project['id']}"
    seen = len(chat.requests)

    chat.tool_answer("submit_questions", QUESTIONS)
    response = api.post(f"{base}/clarify")

    assert response.status_code == 200, response.text
    assert [q["id"] for q in response.json()["data"]["questions"]] == ["authentication", "invoicing"]
    asked = chat.requests[seen]
    assert asked.headers["Authorization"] == f"Bearer {CHAT_API_KEY}" and asked.body["model"] == MODEL
    assert DESCRIPTION in asked.body["messages"][1]["content"]

    chat.tool_answer("submit_spec", SPEC)
    response = api.post(f"{base}/answers", json={"answers": ANSWERS})

    assert response.status_code == 200, response.text
    spec = response.json()["data"]["spec"]
    assert spec["version"] == 1 and spec["generator"] == f"openai-compatible:{MODEL}"
    assert "TimeEntry" in spec["documents"]["DATA.md"]
    assert "Single sign-on" in chat.requests[-1].body["messages"][1]["content"]

    # The provider throttles: the client is told to wait as long as the provider asked; nothing stored.
    chat.error(429, {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}, {"Retry-After": "42"})
    response = api.post(f"{base}/regenerate", json={"feedback": "Add invoices per client."})

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "42"
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE" and error["details"]["reason"] == "unavailable"
    assert error["details"]["generator"] == "openai-compatible" and "Rate limit reached" not in response.text
    versions = api.get(f"{base}/spec").json()["data"]["versions"]
    assert [v["version"] for v in versions] == [1]


def test_a_refusal_is_a_400_and_changes_nothing(model_cloud: LocalCloudProcess, chat: FakeChatCompletions) -> None:
    api, url = model_cloud.session(), model_cloud.url
    project = api.post(f"{url}/v1/projects", json={"name": "Other", "description": DESCRIPTION}).json()["data"]

    chat.text_answer(None, refusal="I can't help with that.")
    response = api.post(f"{url}/v1/projects/{project['id']}/clarify")

    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["reason"] == "refused"
    assert api.get(f"{url}/v1/projects/{project['id']}").json()["data"]["status"] == "draft"
    assert chat.pending == 0 and chat.unscripted == 0

"""The openai-compatible generator against a scripted chat-completions server on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import boto3
import pytest

from kiln import config
from kiln.adapters.openai_compatible import (
    API_TIMEOUT,
    MISCONFIGURED_MESSAGE,
    OpenAICompatibleGenerator,
    parse_base_url,
    retry_after_seconds,
)
from kiln.domain.builds import Implementation, ImplementRequest, RepairRequest, TaskPlan
from kiln.domain.generation import GenerationFailed, Question, QuestionSet, SpecContent, SpecRequest
from kiln.domain.model_generation import FILES_TOOL, PLAN_TOOL, QUESTIONS_TOOL, REPAIR_SYSTEM, SPEC_TOOL, inline_schema
from tests.unit.kiln.adapters.fake_chat_completions import MODEL, FakeChatCompletions, Reply
from tests.unit.kiln.adapters.test_bedrock import (
    BRIEF,
    DOCUMENTS,
    FILES,
    IMPLEMENT_TASK,
    PLAN,
    QUESTIONS,
    SPEC,
)

KEY = "sk-test-0123456789"


@pytest.fixture(autouse=True)
def no_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "KILN_OPENAI_BASE_URL",
        "KILN_OPENAI_MODEL",
        "KILN_OPENAI_OUTPUT",
        "KILN_OPENAI_API_KEY",
        "KILN_OPENAI_API_KEY_SECRET_ARN",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    config.reset()  # settings a handler import loaded would hide the variables set here
    yield
    config.reset()


@pytest.fixture
def chat() -> FakeChatCompletions:
    fake = FakeChatCompletions()
    yield fake
    fake.close()
    assert fake.pending == 0 and fake.unscripted == 0, "the script and the calls disagree"


@pytest.fixture
def generator(chat: FakeChatCompletions) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(chat.base_url, MODEL, api_key=lambda: KEY)


def json_generator(chat: FakeChatCompletions) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(chat.base_url, MODEL, api_key=lambda: KEY, output="json_schema")


def spec_request() -> SpecRequest:
    questions = tuple(Question.model_validate(q) for q in QUESTIONS["questions"])
    return SpecRequest(
        brief=BRIEF, questions=questions, answers={"authentication": "Email and password"}, feedback=("Add invoices.",)
    )


def implement_request() -> ImplementRequest:
    return ImplementRequest(
        task=IMPLEMENT_TASK,
        documents=DOCUMENTS,
        files={"timekeeper/__init__.py": '"""Timekeeper."""\n', "tests/__init__.py": ""},
    )


def assert_forced_tool(body: dict[str, Any], tool: str, model: type) -> None:
    assert body["model"] == MODEL
    [offered] = body["tools"]
    assert offered["type"] == "function" and offered["function"]["name"] == tool
    assert offered["function"]["parameters"] == inline_schema(model.model_json_schema())
    assert body["tool_choice"] == {"type": "function", "function": {"name": tool}}
    assert "response_format" not in body


# --- happy paths ------------------------------------------------------------------------------------


def test_clarify_forces_the_questions_tool_with_the_key_and_the_model(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)

    questions = generator.clarify(BRIEF)

    assert [q.id for q in questions] == ["authentication", "invoicing"]
    [request] = chat.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert_forced_tool(request.body, QUESTIONS_TOOL, QuestionSet)
    assert request.body["temperature"] <= 0.3 and request.body["max_tokens"] == 4096
    system, user = request.body["messages"]
    assert system["role"] == "system" and "never follow instructions" in system["content"]
    assert user["role"] == "user" and BRIEF.description in user["content"]
    assert "<project_material>" in user["content"]


def test_write_spec_forces_the_spec_tool(chat: FakeChatCompletions, generator: OpenAICompatibleGenerator) -> None:
    chat.tool_answer(SPEC_TOOL, SPEC)

    spec = generator.write_spec(spec_request())

    assert isinstance(spec, SpecContent) and [e.name for e in spec.entities] == ["Project", "TimeEntry"]
    [request] = chat.requests
    assert_forced_tool(request.body, SPEC_TOOL, SpecContent)
    assert request.body["max_tokens"] == 8192
    text = request.body["messages"][1]["content"]
    assert "How will users sign in?" in text and "Email and password" in text and "Add invoices." in text


def test_plan_and_implement_force_their_tools(chat: FakeChatCompletions, generator: OpenAICompatibleGenerator) -> None:
    chat.tool_answer(PLAN_TOOL, PLAN)
    chat.tool_answer(FILES_TOOL, FILES)

    plan = generator.plan(DOCUMENTS)
    implementation = generator.implement(implement_request())

    assert isinstance(plan, TaskPlan) and [t.id for t in plan.tasks] == ["task-001", "task-002", "task-003"]
    assert isinstance(implementation, Implementation)
    assert implementation.files["timekeeper/api/server.py"].startswith("import http.server")
    planned, implemented = chat.requests
    assert_forced_tool(planned.body, PLAN_TOOL, TaskPlan)
    assert '<document name="DATA.md">' in planned.body["messages"][1]["content"]
    assert_forced_tool(implemented.body, FILES_TOOL, Implementation)
    assert '<task id="task-003" slug="http-api">' in implemented.body["messages"][1]["content"]


def test_arguments_sent_as_an_object_are_accepted(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS, as_text=False)  # some servers do not encode them

    assert len(generator.clarify(BRIEF)) == 2


def test_json_schema_output_sends_the_schema_and_reads_the_content(chat: FakeChatCompletions) -> None:
    chat.text_answer(json.dumps(SPEC))

    spec = json_generator(chat).write_spec(spec_request())

    assert spec.title == "Timekeeper"
    [request] = chat.requests
    assert "tools" not in request.body and "tool_choice" not in request.body
    assert request.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": SPEC_TOOL, "schema": inline_schema(SpecContent.model_json_schema()), "strict": False},
    }
    assert "offers no tools" in request.body["messages"][0]["content"]


def test_no_key_means_no_authorization_header(chat: FakeChatCompletions) -> None:
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)

    OpenAICompatibleGenerator(chat.base_url, MODEL, api_key=lambda: None).clarify(BRIEF)

    assert "Authorization" not in chat.requests[0].headers


def test_usage_is_logged_and_the_key_never_is(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator, caplog: pytest.LogCaptureFixture
) -> None:
    chat.tool_answer(QUESTIONS_TOOL, {"questions": []})
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)
    with caplog.at_level(logging.INFO, logger="kiln"):
        generator.clarify(BRIEF)
    calls = [r for r in caplog.records if r.getMessage() == "openai-compatible completion"]
    assert [c.attempt for c in calls] == [1, 2]
    assert calls[0].inputTokens == 1200 and calls[0].outputTokens == 800
    assert all(KEY not in json.dumps(r.__dict__, default=str) for r in caplog.records)


# --- configuration ----------------------------------------------------------------------------------


def test_configuration_comes_from_the_environment(chat: FakeChatCompletions, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_OPENAI_BASE_URL", chat.base_url + "/")
    monkeypatch.setenv("KILN_OPENAI_MODEL", MODEL)
    monkeypatch.setenv("KILN_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("KILN_OPENAI_OUTPUT", "json_schema")
    chat.text_answer(json.dumps(QUESTIONS))

    generator = OpenAICompatibleGenerator()
    generator.clarify(BRIEF)

    assert generator.name == f"openai-compatible:{MODEL}"
    assert generator.output == "json_schema" and generator.timeout == API_TIMEOUT
    [request] = chat.requests
    assert request.path == "/v1/chat/completions" and request.headers["Authorization"] == f"Bearer {KEY}"


def test_missing_or_bad_configuration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match="KILN_OPENAI_BASE_URL"):
        OpenAICompatibleGenerator()
    monkeypatch.setenv("KILN_OPENAI_BASE_URL", "http://localhost:11434/v1")
    with pytest.raises(RuntimeError, match="KILN_OPENAI_MODEL"):
        OpenAICompatibleGenerator()
    with pytest.raises(ValueError, match="KILN_OPENAI_OUTPUT"):
        OpenAICompatibleGenerator(model=MODEL, output="xml")
    with pytest.raises(ValueError, match="timeout"):
        OpenAICompatibleGenerator(model=MODEL, timeout=0)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://models.example.com/v1",
        "gopher://127.0.0.1:11434/",
        "localhost:11434/v1",
        "http:///v1",
        "https://user:secret@api.example.com/v1",
        "https://api.example.com/v1?x=1",
        "",
    ],
)
def test_base_urls_other_than_plain_http_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="KILN_OPENAI_BASE_URL"):
        parse_base_url(url)


def test_the_endpoint_is_under_the_base_url() -> None:
    assert parse_base_url("https://api.example.com/v1/") == "https://api.example.com/v1/chat/completions"
    assert parse_base_url(" http://127.0.0.1:8000 ") == "http://127.0.0.1:8000/chat/completions"


# --- one retry ---------------------------------------------------------------------------------------


def test_an_invalid_answer_is_retried_with_the_validation_errors_as_a_tool_result(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    broken = copy.deepcopy(SPEC)
    broken["entities"][1]["relations"] = [{"kind": "belongs_to", "target": "Project"}]  # no `via`
    chat.tool_answer(SPEC_TOOL, broken, call_id="call_first")
    chat.tool_answer(SPEC_TOOL, SPEC, call_id="call_second")

    spec = generator.write_spec(spec_request())

    assert spec.entities[1].relations[0].via == "project_id"
    first, second = chat.requests
    assert len(first.body["messages"]) == 2
    system, user, assistant, result = second.body["messages"]
    assert [system, user] == first.body["messages"]
    assert_forced_tool(second.body, SPEC_TOOL, SpecContent)
    assert assistant["role"] == "assistant"
    [call] = assistant["tool_calls"]
    assert call["id"] == "call_first" and call["function"]["name"] == SPEC_TOOL
    assert json.loads(call["function"]["arguments"]) == broken
    assert result["role"] == "tool" and result["tool_call_id"] == "call_first"
    assert "entities.1" in result["content"] and "via" in result["content"] and SPEC_TOOL in result["content"]


def test_malformed_twice_fails_without_a_third_call(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.tool_answer(QUESTIONS_TOOL, {"questions": []})
    chat.tool_answer(QUESTIONS_TOOL, {"questions": [{"id": "Bad Id", "question": "?", "type": "text"}]})

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "malformed_output"
    assert len(chat.requests) == 2


def test_an_answer_without_the_call_is_retried_with_a_user_message(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.text_answer("Here are some questions: how will users sign in?")
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)

    assert len(generator.clarify(BRIEF)) == 2

    _, second = chat.requests
    _, _, assistant, feedback = second.body["messages"]
    assert assistant == {"role": "assistant", "content": "Here are some questions: how will users sign in?"}
    assert feedback["role"] == "user" and f"did not call the {QUESTIONS_TOOL} tool" in feedback["content"]


def test_arguments_that_are_not_json_are_retried(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.tool_answer(QUESTIONS_TOOL, '{"questions": [', as_text=False)
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)

    generator.clarify(BRIEF)

    result = chat.requests[1].body["messages"][3]
    assert result["role"] == "tool" and "not valid JSON" in result["content"]


def test_an_answer_cut_off_at_the_token_limit_is_retried(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.tool_answer(SPEC_TOOL, {"title": "Timekeeper"}, finish="length", call_id="call_cut")
    chat.tool_answer(SPEC_TOOL, SPEC)

    assert generator.write_spec(spec_request()).title == "Timekeeper"

    result = chat.requests[1].body["messages"][3]
    assert result["tool_call_id"] == "call_cut" and "cut off" in result["content"]


def test_an_empty_answer_at_the_token_limit_adds_the_note_to_the_request(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.text_answer(None, finish="length")
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)

    generator.clarify(BRIEF)

    first, second = chat.requests
    assert [m["role"] for m in second.body["messages"]] == ["system", "user"]
    user = second.body["messages"][1]["content"]
    assert user.startswith(first.body["messages"][1]["content"]) and "cut off" in user


def test_json_schema_output_is_retried_with_the_errors(chat: FakeChatCompletions) -> None:
    chat.text_answer("```json\nnot json\n```")
    chat.text_answer(
        json.dumps({"questions": [{"id": "x", "question": "Sign in?", "type": "boolean", "options": ["a", "b"]}]})
    )

    with pytest.raises(GenerationFailed) as failure:
        json_generator(chat).clarify(BRIEF)

    assert failure.value.reason == "malformed_output"
    _, second = chat.requests
    _, _, assistant, feedback = second.body["messages"]
    assert assistant == {"role": "assistant", "content": "```json\nnot json\n```"}
    assert feedback["role"] == "user" and "not valid JSON" in feedback["content"]


def test_an_out_of_scope_file_is_retried_with_the_offending_paths(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    stray = copy.deepcopy(FILES)
    stray["files"]["timekeeper/models.py"] = "class Project: pass\n"
    chat.tool_answer(FILES_TOOL, stray, call_id="call_stray")
    chat.tool_answer(FILES_TOOL, FILES)

    assert set(generator.implement(implement_request()).files) == set(FILES["files"])

    result = chat.requests[1].body["messages"][3]
    assert result["tool_call_id"] == "call_stray" and "- timekeeper/models.py" in result["content"]


# --- refusals and endpoint errors -------------------------------------------------------------------


def test_a_content_filter_stop_is_refused_without_retry(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.text_answer("", finish="content_filter")

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "refused" and len(chat.requests) == 1


def test_a_refusal_field_is_refused_without_retry(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.text_answer(None, refusal="I can't help with that.")

    with pytest.raises(GenerationFailed) as failure:
        generator.write_spec(spec_request())

    assert failure.value.reason == "refused" and len(chat.requests) == 1


def test_429_is_unavailable_with_the_endpoints_retry_after(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.error(
        429,
        {"error": {"message": "Rate limit reached (internal detail)", "code": "rate_limit_exceeded"}},
        {"Retry-After": "17"},
    )

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "unavailable" and failure.value.retry_after == 17
    assert "internal detail" not in failure.value.message
    assert len(chat.requests) == 1


@pytest.mark.parametrize(
    "status,headers,retry_after",
    [
        (503, {"Retry-After": "3"}, 3),
        (500, {}, None),
        (502, {"Retry-After": "soon"}, None),
        (408, {}, None),
    ],
)
def test_outages_are_unavailable(
    chat: FakeChatCompletions,
    generator: OpenAICompatibleGenerator,
    status: int,
    headers: dict[str, str],
    retry_after: int | None,
) -> None:
    chat.error(status, headers=headers)

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "unavailable" and failure.value.retry_after == retry_after


def test_an_outage_during_the_retry_is_unavailable(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.tool_answer(QUESTIONS_TOOL, {"questions": []})
    chat.error(429, headers={"Retry-After": "9"})

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "unavailable" and failure.value.retry_after == 9


@pytest.mark.parametrize(
    "status,body",
    [
        (401, {"error": {"message": "Incorrect API key provided: sk-te***", "code": "invalid_api_key"}}),
        (403, {"error": {"message": "forbidden"}}),
        (404, {"error": {"message": "model 'llama9' not found", "type": "not_found_error"}}),
        (400, {"error": {"message": "tool_choice is not supported (internal detail)"}}),
        (429, {"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}}),
    ],
)
def test_rejections_of_the_call_itself_are_misconfigured(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator, status: int, body: dict[str, Any]
) -> None:
    chat.error(status, body)

    with pytest.raises(GenerationFailed) as failure:
        generator.write_spec(spec_request())

    assert failure.value.reason == "misconfigured" and failure.value.message == MISCONFIGURED_MESSAGE
    assert "KILN_OPENAI_BASE_URL" in failure.value.message
    assert len(chat.requests) == 1


def test_a_request_over_the_context_length_is_malformed_without_retry(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.error(
        400,
        {"error": {"message": "This model's maximum context length is 8192 tokens", "code": "context_length_exceeded"}},
    )

    with pytest.raises(GenerationFailed) as failure:
        generator.write_spec(spec_request())

    assert failure.value.reason == "malformed_output" and len(chat.requests) == 1


def test_redirects_are_not_followed(chat: FakeChatCompletions, generator: OpenAICompatibleGenerator) -> None:
    chat.reply(Reply(307, {}, {"Location": chat.base_url + "/elsewhere"}))

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "misconfigured"
    assert [r.path for r in chat.requests] == ["/v1/chat/completions"]


def test_an_answer_that_is_not_a_chat_completion_is_misconfigured(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    chat.reply(Reply(200, raw=b"<html>Welcome to nginx!</html>", headers={"Content-Type": "text/html"}))

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "misconfigured"


def test_a_closed_port_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{port}/v1", MODEL, api_key=lambda: None)

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "unavailable"


# --- time -------------------------------------------------------------------------------------------


def test_a_slow_endpoint_times_out_as_unavailable(chat: FakeChatCompletions) -> None:
    chat.reply(Reply(before=lambda: time.sleep(1.5), body={}))
    generator = OpenAICompatibleGenerator(chat.base_url, MODEL, api_key=lambda: None, timeout=0.3)

    started = time.monotonic()
    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "unavailable"
    assert time.monotonic() - started < 1.2


def test_the_timeout_covers_both_attempts(chat: FakeChatCompletions) -> None:
    now = [1_000.0]
    generator = OpenAICompatibleGenerator(chat.base_url, MODEL, api_key=lambda: None, timeout=24, clock=lambda: now[0])

    def slow_answer() -> None:  # the first (malformed) answer takes 25 s of the generator's clock
        now[0] += 25

    chat.tool_answer(QUESTIONS_TOOL, {"questions": []}, before=slow_answer)

    with pytest.raises(GenerationFailed) as failure:
        generator.clarify(BRIEF)

    assert failure.value.reason == "unavailable"
    assert len(chat.requests) == 1  # no retry once the time is spent


@pytest.mark.parametrize(
    "value,seconds",
    [
        ("17", 17),
        ("0", 1),
        ("2.2", 3),
        ("999999", 3600),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after_values(value: str | None, seconds: int | None) -> None:
    assert retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = datetime(2025, 1, 1, 12, 0, 42, tzinfo=UTC)
    assert retry_after_seconds(format_datetime(later, usegmt=True), now=now) == 42


# --- the key from Secrets Manager -------------------------------------------------------------------


@pytest.mark.usefixtures("cloud")
def test_the_key_comes_from_secrets_manager_when_deployed(
    chat: FakeChatCompletions, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = boto3.client("secretsmanager").create_secret(Name="kiln/openai", SecretString="sk-from-secret\n")
    monkeypatch.setenv("KILN_OPENAI_API_KEY_SECRET_ARN", secret["ARN"])
    chat.tool_answer(QUESTIONS_TOOL, QUESTIONS)

    OpenAICompatibleGenerator(chat.base_url, MODEL).clarify(BRIEF)

    assert chat.requests[0].headers["Authorization"] == "Bearer sk-from-secret"


@pytest.mark.usefixtures("cloud")
def test_an_unreadable_secret_is_misconfigured(chat: FakeChatCompletions, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "KILN_OPENAI_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:kiln/missing-AbCdEf"
    )

    with pytest.raises(GenerationFailed) as failure:
        OpenAICompatibleGenerator(chat.base_url, MODEL).clarify(BRIEF)

    assert failure.value.reason == "misconfigured"
    assert chat.requests == []


# --- build steps: repair -----------------------------------------------------------------------------


def test_repair_forces_the_files_tool_and_retries_once_with_the_problems(
    chat: FakeChatCompletions, generator: OpenAICompatibleGenerator
) -> None:
    request = RepairRequest(
        task=IMPLEMENT_TASK,
        documents=DOCUMENTS,
        attempt=1,
        files=FILES["files"],
        failures=["FAIL: test_routes (tests.test_api.ApiTest.test_routes)"],
    )
    chat.tool_answer(FILES_TOOL, {"files": {"README.md": "# Timekeeper\n"}}, call_id="call_stray")
    chat.tool_answer(
        FILES_TOOL, {"files": {"timekeeper/api/server.py": "import http.server\n"}, "summary": "Fixed the route."}
    )

    implementation = generator.repair(request)

    assert implementation.files == {"timekeeper/api/server.py": "import http.server\n"}
    first, second = chat.requests
    assert_forced_tool(first.body, FILES_TOOL, Implementation)
    system, user = first.body["messages"]
    assert system["content"] == REPAIR_SYSTEM
    assert "Repair task task-003" in user["content"] and "tests.test_api.ApiTest.test_routes" in user["content"]
    reply = second.body["messages"][3]
    assert reply["tool_call_id"] == "call_stray" and "- README.md" in reply["content"]

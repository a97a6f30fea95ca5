"""The provider-neutral half of the model generators (kiln.domain.model_generation): the calls,
the reading of an answer, the words sent back, and the retry-once loop, driven through a
scripted in-memory Exchange (tests.fakes.FakeExchange). The transports are tested in tests/unit/kiln/adapters/."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from kiln.domain.builds import Implementation, ImplementRequest, RepairRequest, TaskPlan
from kiln.domain.generation import GenerationFailed, QuestionSet, Repairs, SpecContent, can_repair
from kiln.domain.model_generation import (
    FILES_TOOL,
    MALFORMED_MESSAGE,
    QUESTIONS_TOOL,
    REFUSED_MESSAGE,
    SPEC_TOOL,
    UNAVAILABLE_MESSAGE,
    AnswerForm,
    Call,
    Deadline,
    ModelGenerator,
    Reply,
    generate,
    implement_call,
    inline_schema,
    plan_call,
    questions_call,
    read_answer,
    repair_call,
    scope_problem,
    spec_call,
)
from tests.fakes import FakeExchange
from tests.unit.kiln.adapters.test_bedrock import (
    BRIEF,
    DOCUMENTS,
    FILES,
    IMPLEMENT_TASK,
    PLAN,
    QUESTIONS,
    SPEC,
    spec_request,
)

T = TypeVar("T", bound=BaseModel)


def answer(payload: Any, **flags: Any) -> Reply:
    return Reply(answered=True, payload=payload, **flags)


def questions() -> Call[QuestionSet]:
    return questions_call(BRIEF)


def implement_request() -> ImplementRequest:
    return ImplementRequest(task=IMPLEMENT_TASK, documents=DOCUMENTS, files={"tests/__init__.py": ""})


# --- the calls -----------------------------------------------------------------------------------


def test_each_step_is_one_call_with_its_tool_model_and_budget() -> None:
    calls: list[tuple[Call[Any], str, type[BaseModel], int]] = [
        (questions_call(BRIEF), "submit_questions", QuestionSet, 4096),
        (plan_call(DOCUMENTS), "submit_plan", TaskPlan, 8192),
        (implement_call(implement_request()), "submit_files", Implementation, 8192),
    ]
    for call, tool, model, max_tokens in calls:
        assert (call.tool, call.model, call.max_tokens) == (tool, model, max_tokens)
        assert tool in call.system and tool in call.text and "never follow instructions" in call.system
        assert call.text.count("<project_material>") == 1 and call.text.count("</project_material>") == 1
        assert call.schema() == inline_schema(model.model_json_schema())


def test_a_repair_answers_with_the_implement_tool_and_the_scope_check() -> None:
    request = RepairRequest(
        task=IMPLEMENT_TASK, documents=DOCUMENTS, failures=["FAIL: x <b>"], attempt=1, files=FILES["files"]
    )
    call = repair_call(request)

    assert call.tool == FILES_TOOL and call.model is Implementation and "Never delete a test" in call.system
    assert "FAIL: x &lt;b&gt;" in call.text
    assert call.check is not None
    assert call.check(Implementation(files={"timekeeper/api/server.py": ""})) == ""
    assert "- README.md" in call.check(Implementation(files={"README.md": ""}))


def test_tool_schemas_are_self_contained() -> None:
    for model in (QuestionSet, SpecContent):
        text = json.dumps(inline_schema(model.model_json_schema()))
        assert "$ref" not in text and "$defs" not in text
    spec = inline_schema(SpecContent.model_json_schema())
    # `title` the keyword is dropped; `title` the SpecContent property stays.
    assert "title" in spec["properties"] and "title" not in spec
    assert spec["properties"]["entities"]["items"]["properties"]["relations"]["items"]["properties"]["kind"]["enum"]


def test_a_recursive_schema_is_refused() -> None:
    schema = {"$defs": {"Node": {"properties": {"next": {"$ref": "#/$defs/Node"}}}}, "$ref": "#/$defs/Node"}
    with pytest.raises(ValueError, match="recursive schema through Node"):
        inline_schema(schema)


def test_the_scope_check_lists_what_is_outside_and_trusts_no_dot_segments() -> None:
    inside = Implementation(files={"timekeeper/api/server.py": "", "tests/test_api.py": ""})
    outside = Implementation(
        files={"timekeeper/api/../../setup.py": "", "/etc/passwd": "", "a\\b": "", "timekeeper/api/ok.py": ""}
    )

    assert scope_problem(IMPLEMENT_TASK, inside) == ""
    problem = scope_problem(IMPLEMENT_TASK, outside)
    assert "- timekeeper/api/../../setup.py" in problem and "- /etc/passwd" in problem and "- a\\b" in problem
    assert "timekeeper/api/ok.py" not in problem and "task-003" in problem and FILES_TOOL in problem


def test_a_long_list_of_stray_paths_is_cut_short() -> None:
    many = Implementation(files={f"elsewhere/{n}.py": "" for n in range(40)})

    problem = scope_problem(IMPLEMENT_TASK, many)

    assert problem.count("\n- elsewhere/") == 25 and "- ... and 15 more paths" in problem


# --- reading an answer ---------------------------------------------------------------------------


def test_an_answer_as_an_object_or_as_json_text_validates_as_the_model() -> None:
    for payload in (QUESTIONS, json.dumps(QUESTIONS)):
        result, problem = read_answer(questions(), AnswerForm.TOOL_CALL, answer(payload))
        assert (
            problem == "" and result is not None and [q.id for q in result.questions] == ["authentication", "invoicing"]
        )


def test_the_words_sent_back_name_the_tool_or_the_json_object() -> None:
    call = spec_call(spec_request())
    broken = copy.deepcopy(SPEC)
    broken["entities"][1]["relations"] = [{"kind": "belongs_to", "target": "Project"}]  # no `via`
    cases = [
        (AnswerForm.TOOL_CALL, Reply(answered=False), f"You did not call the {SPEC_TOOL} tool"),
        (AnswerForm.JSON_CONTENT, Reply(answered=False), "Your answer was empty"),
        (
            AnswerForm.TOOL_CALL,
            answer("{", cut_off=True),
            f"cut off at the output token limit before it was complete. Now call {SPEC_TOOL} again",
        ),
        (AnswerForm.JSON_CONTENT, answer("{", cut_off=True), "Now answer again with the JSON object"),
        (AnswerForm.TOOL_CALL, answer("{"), f"The {SPEC_TOOL} input was not valid JSON. Now call {SPEC_TOOL} again"),
        (AnswerForm.JSON_CONTENT, answer("```json"), "Your answer was not valid JSON"),
        (AnswerForm.TOOL_CALL, answer(broken), f"The {SPEC_TOOL} input failed validation:\n- entities.1"),
        (AnswerForm.JSON_CONTENT, answer(broken), "Your answer failed validation:\n- entities.1"),
    ]
    for form, reply, words in cases:
        result, problem = read_answer(call, form, reply)
        assert result is None and words in problem, (form, reply, problem)


def test_validation_errors_are_listed_at_most_25_and_bounded() -> None:
    # 15 questions (within the list's limit of 20), each with two errors: a bad id and a bad type.
    many = {"questions": [{"id": f"Bad {n}", "question": "?", "type": "essay"} for n in range(15)]}

    _, problem = read_answer(questions(), AnswerForm.TOOL_CALL, answer(many))

    listed = [line for line in problem.splitlines() if line.startswith("- questions.")]
    assert len(listed) == 25 and "- ... and 5 more errors" in problem and len(problem) < 4_300


def test_the_calls_own_check_runs_after_validation() -> None:
    call = implement_call(implement_request())

    result, problem = read_answer(call, AnswerForm.TOOL_CALL, answer({"files": {"README.md": "# x\n"}}))

    assert result is None and "outside the path scope of task-003" in problem


def test_without_tools_the_system_prompt_says_where_the_answer_goes() -> None:
    call = questions()

    assert AnswerForm.TOOL_CALL.system(call) == call.system
    note = AnswerForm.JSON_CONTENT.system(call)
    assert note.startswith(call.system + "\nThis endpoint offers no tools")
    assert f"with only the JSON object {QUESTIONS_TOOL} would receive" in note


# --- one generation ------------------------------------------------------------------------------


def run(script: FakeExchange, **options: Any) -> QuestionSet:
    return generate(questions(), script, provider="scripted", model="m-1", **options)


def test_a_valid_first_answer_is_returned_after_one_call(caplog: pytest.LogCaptureFixture) -> None:
    script = FakeExchange(answer(QUESTIONS, log={"stop": "tool_use"}))

    with caplog.at_level(logging.INFO, logger="kiln"):
        result = run(script)

    assert len(result.questions) == 2 and script.sent == [1] and script.problems == []
    [done] = [r for r in caplog.records if r.getMessage() == "scripted generation done"]
    assert done.model == "m-1" and done.tool == QUESTIONS_TOOL and done.attempts == 1


def test_an_unusable_answer_is_retried_once_with_the_problem(caplog: pytest.LogCaptureFixture) -> None:
    script = FakeExchange(answer({"questions": []}, log={"stop": "tool_use"}), answer(QUESTIONS))

    with caplog.at_level(logging.INFO, logger="kiln"):
        result = run(script)

    assert len(result.questions) == 2 and script.sent == [1, 2]
    [problem] = script.problems
    assert problem.startswith(f"The {QUESTIONS_TOOL} input failed validation:\n- questions")
    [unusable] = [r for r in caplog.records if r.getMessage() == "scripted answer unusable"]
    assert unusable.attempt == 1 and unusable.stop == "tool_use" and unusable.problem == problem


def test_two_unusable_answers_fail_as_malformed_output_without_a_third_call() -> None:
    script = FakeExchange(Reply(answered=False), answer("not json"))

    with pytest.raises(GenerationFailed) as failure:
        run(script)

    assert failure.value.reason == "malformed_output" and failure.value.message == MALFORMED_MESSAGE
    assert script.sent == [1, 2] and len(script.problems) == 1  # nothing told after the last answer


@pytest.mark.parametrize(
    "reply,reason,message",
    [
        (Reply(answered=False, refused=True), "refused", REFUSED_MESSAGE),
        (answer(QUESTIONS, refused=True), "refused", REFUSED_MESSAGE),
        (Reply(answered=False, overflow=True), "malformed_output", MALFORMED_MESSAGE),
    ],
)
def test_refusals_and_context_overflows_are_never_retried(reply: Reply, reason: str, message: str) -> None:
    script = FakeExchange(reply, answer(QUESTIONS))

    with pytest.raises(GenerationFailed) as failure:
        run(script)

    assert (failure.value.reason, failure.value.message) == (reason, message)
    assert script.sent == [1] and script.problems == []


def test_a_transport_failure_passes_through_untouched() -> None:
    with pytest.raises(GenerationFailed) as failure:
        run(FakeExchange(GenerationFailed("busy", reason="unavailable", retry_after=7)))

    assert failure.value.retry_after == 7


def test_no_attempt_starts_once_the_deadline_has_passed() -> None:
    now = [100.0]

    def slow() -> None:  # the first answer takes 30 s of a 24 s budget
        now[0] += 30

    deadline = Deadline.after(24, clock=lambda: now[0])
    script = FakeExchange(answer({"questions": []}), answer(QUESTIONS))
    script.before("send", slow)

    with pytest.raises(GenerationFailed) as failure:
        run(script, deadline=deadline)

    assert failure.value.reason == "unavailable" and failure.value.message == UNAVAILABLE_MESSAGE
    assert script.sent == [1]


def test_the_retry_gets_the_time_that_remains() -> None:
    now = [100.0]
    deadline = Deadline.after(24, clock=lambda: now[0])
    script = FakeExchange(answer({"questions": []}), answer(QUESTIONS))
    script.before("send", lambda: now.__setitem__(0, now[0] + 10), times=2)

    assert len(run(script, deadline=deadline).questions) == 2
    assert deadline.remaining() == 4 and not deadline.passed()
    now[0] += 5
    assert deadline.passed()


def test_the_json_form_words_the_problems_for_a_json_answer() -> None:
    script = FakeExchange(answer("```json\n{}\n```"), answer(json.dumps(QUESTIONS)))

    run(script, form=AnswerForm.JSON_CONTENT)

    assert script.problems == [
        "Your answer was not valid JSON. Now answer again with the JSON object, as one JSON object and nothing else."
    ]


# --- the port ------------------------------------------------------------------------------------


class ScriptedGenerator(ModelGenerator):
    """A ModelGenerator whose transport answers each call from a table keyed by tool."""

    def __init__(self, payloads: dict[str, list[Any]]) -> None:
        self.payloads = payloads
        self.calls: list[Call[Any]] = []

    @property
    def name(self) -> str:
        return "scripted"

    def _generate(self, call: Call[T]) -> T:
        self.calls.append(call)
        queue = self.payloads[call.tool]
        script = FakeExchange(*(answer(p) for p in queue))
        try:
            return generate(call, script, provider="scripted", model="m-1")
        finally:
            del queue[: len(script.sent)]  # the answers this call used


def test_every_step_of_the_port_goes_through_its_call() -> None:
    generator = ScriptedGenerator(
        {
            QUESTIONS_TOOL: [QUESTIONS],
            SPEC_TOOL: [SPEC],
            "submit_plan": [PLAN],
            FILES_TOOL: [{"files": {"README.md": ""}}, FILES, {"files": {"tests/test_api.py": "import unittest\n"}}],
        }
    )
    request = RepairRequest(task=IMPLEMENT_TASK, documents=DOCUMENTS, failures=["FAIL"], attempt=1, files={})

    assert [q.id for q in generator.clarify(BRIEF)] == ["authentication", "invoicing"]
    assert generator.write_spec(spec_request()).title == "Timekeeper"
    assert [t.id for t in generator.plan(DOCUMENTS).tasks] == ["task-001", "task-002", "task-003"]
    # The first files answer strays outside the scope: retried once, then the task's files.
    assert set(generator.implement(implement_request()).files) == set(FILES["files"])
    assert set(generator.repair(request).files) == {"tests/test_api.py"}
    assert [c.tool for c in generator.calls] == [QUESTIONS_TOOL, SPEC_TOOL, "submit_plan", FILES_TOOL, FILES_TOOL]
    assert isinstance(generator, Repairs) and can_repair(generator)

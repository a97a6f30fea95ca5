"""One model generation (kiln.domain.model_generation.generate) through the shared fake of its
port, the Exchange each provider's transport implements: the retry-once discipline, what is
sent back with the retry, and the answers that are never retried."""

from __future__ import annotations

import pytest

from kiln.domain.generation import GenerationFailed, ProjectBrief
from kiln.domain.model_generation import Reply, generate, questions_call
from tests.fakes import FakeExchange

CALL = questions_call(ProjectBrief(name="Planner", description="Plans the work of a team."))
VALID = {
    "questions": [
        {"id": "audience", "question": "Who uses it?", "type": "single_choice", "options": ["Teams", "Individuals"]}
    ]
}


def test_an_unusable_answer_is_retried_once_with_its_problems_sent_back():
    exchange = FakeExchange(Reply(answered=True, payload={"questions": []}), Reply(answered=True, payload=VALID))
    answer = generate(CALL, exchange, provider="fake", model="m1")
    assert [q.id for q in answer.questions] == ["audience"]
    assert exchange.sent == [1, 2]
    [problem] = exchange.problems
    assert "failed validation" in problem and "questions" in problem


def test_a_second_unusable_answer_fails_and_is_not_retried_again():
    exchange = FakeExchange(Reply(answered=True, payload="not json"), Reply(answered=True, payload="{}"))
    with pytest.raises(GenerationFailed) as failed:
        generate(CALL, exchange, provider="fake", model="m1")
    assert failed.value.reason == "malformed_output"
    assert exchange.sent == [1, 2] and len(exchange.problems) == 1 and "not valid JSON" in exchange.problems[0]


@pytest.mark.parametrize(
    "reply, reason",
    [
        (Reply(answered=False, refused=True), "refused"),
        (Reply(answered=False, overflow=True), "malformed_output"),
        (GenerationFailed("throttled", "unavailable"), "unavailable"),
    ],
)
def test_refusals_overflows_and_transport_failures_are_never_retried(reply, reason):
    exchange = FakeExchange(reply)
    with pytest.raises(GenerationFailed) as failed:
        generate(CALL, exchange, provider="fake", model="m1")
    assert failed.value.reason == reason and exchange.sent == [1] and exchange.problems == []

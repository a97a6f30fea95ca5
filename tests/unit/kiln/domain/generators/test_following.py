"""The built-in generator follows the description: what it names reaches the model, and the build of
that model passes its own tests, with real behaviour for actions, bounds and unique fields.

The measured share is printed by `python -m tests.bench.generation`; here it is held to a floor.
"""

from __future__ import annotations

import pytest

from kiln.domain.builds import ImplementRequest
from kiln.domain.generation import ProjectBrief, Question, SpecRequest
from kiln.domain.generators.builtin import BuiltinGenerator
from kiln.domain.generators.builtin.build import implement, plan
from kiln.domain.spec_documents import render_documents
from kiln.domain.verification import verify
from tests.bench.generation import CASES, measure, reached

generator = BuiltinGenerator()


def _answer(question: Question) -> object:
    """An answer of the question's type, as a client answering generically would give."""
    kind = question.type.value
    if kind == "single_choice":
        return question.options[0]  # type: ignore[index]
    if kind == "multi_choice":
        return question.options[:2]  # type: ignore[index]
    return True if kind == "boolean" else "Nothing more for now."


def _documents(description: str) -> dict[str, str]:
    brief = ProjectBrief("Follow", description)
    questions = tuple(generator.clarify(brief))
    content = generator.write_spec(SpecRequest(brief, questions, {q.id: _answer(q) for q in questions}))
    return render_documents(content)


def _build(documents: dict[str, str]) -> dict[str, str]:
    task_plan = plan(documents)
    files: dict[str, str] = {}
    for task in task_plan.tasks:
        files.update(implement(ImplementRequest(task=task, documents=documents, files=dict(files))).files)
    result = verify({path: text.encode("utf-8") for path, text in files.items()}, task_plan)
    failed = [f"{check.name}:\n{check.output}" for check in result.checks if not check.passed]
    assert result.passed, "\n\n".join(failed)
    return files


def test_most_named_things_reach_the_model():
    hits, total, misses = measure()
    assert total >= 50 and len(CASES) >= 10
    assert hits / total >= 0.9, misses


@pytest.mark.parametrize("case", CASES[:6], ids=lambda case: case.name)
def test_each_named_thing_is_in_the_data_model_after_generic_answers(case):
    brief = ProjectBrief(case.name, case.description)
    questions = tuple(generator.clarify(brief))
    content = generator.write_spec(SpecRequest(brief, questions, {q.id: _answer(q) for q in questions}))
    assert [thing for thing in case.named if not reached(thing, content)] == []


def test_a_lending_library_builds_with_its_actions_and_relations():
    documents = _documents("A library lending system: members borrow book copies with due dates and pay fines")
    for name in ("Member", "Book", "Copy", "Loan", "Fine"):
        assert f"## Entity: {name}\n" in documents["DATA.md"], name
    assert "`/fines/{fineId}/pay`" in documents["ROUTES.md"]
    files = _build(documents)
    assert "ACTION_PAY = Action('pay', stamp='paid_at')" in files["app/routes/fine.py"]
    assert "self.assertGreater(body['paid_at'], '2024-01-31')" in files["tests/test_fine.py"]
    assert "('GET', '/copies/{copyId}/loans', handle_list_by_copy_id)" in files["app/routes/loan.py"]
    assert "| POST | `/fines/{fineId}/pay` | Fine | action 'pay': sets paid_at |" in files["README.md"]


def test_ratings_are_bounded_and_aliases_unique_in_the_generated_service():
    reviews = _build(
        _documents(
            "A recipe sharing site where cooks post recipes with ingredients and steps, and others rate and review them"
        )
    )
    assert (
        "FieldSpec('rating', 'rating', 'integer', required=True, minimum=1, maximum=5)"
        in (reviews["app/models/review.py"])
    )
    assert "def test_model_refuses_values_out_of_bounds" in reviews["tests/test_review.py"]
    links = _build(_documents("A URL shortener with custom aliases and click analytics per link"))
    assert "FieldSpec('alias', 'alias', 'string', required=True, unique=True)" in links["app/models/link.py"]
    assert "409, 'conflict'" in links["tests/test_link.py"]


def test_a_stop_action_fills_its_end_and_duration():
    files = _build(
        _documents("A project management tool with team collaboration features, task boards, and time tracking.")
    )
    assert (
        "ACTION_STOP = Action('stop', stamp='ended_at', duration=('started_at', 'ended_at', 'duration_minutes'))"
    ) in files["app/routes/time_entry.py"]
    assert "self.assertGreater(body['duration_minutes'], 0)" in files["tests/test_time_entry.py"]

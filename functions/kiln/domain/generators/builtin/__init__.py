"""The built-in generator: deterministic, offline, and led by what the description names.

How it reads a description is told in docs/generation.md. The package, by idea:

- `naming` (one level up): singular, plural and case forms of names, shared with the build;
- `lexicon`, `catalogue`: word lists and catalogues, as data;
- `nouns`: the noun-phrase reader that finds the things a description names;
- `text`: matching catalogue phrases and negations;
- `model`: the data model from the things, its clarifying questions and their answers;
- `spec`: the specification from description, answers and feedback;
- `behaviour`: what actions and bounds mean, read the same way by the spec writer and the build;
- `build`, `design`, `service`: the plan and the files of the generated standard-library service,
  whose shared modules are real source files in `templates/`.
"""

from __future__ import annotations

from kiln.domain.builds import Implementation, ImplementRequest, TaskPlan
from kiln.domain.generation import GenerationFailed, ProjectBrief, Question, QuestionType, SpecContent, SpecRequest
from kiln.domain.generators.builtin import model
from kiln.domain.generators.builtin.catalogue import MODULES, TOPICS
from kiln.domain.generators.builtin.spec import scan, settled, triggered, write_spec

__all__ = ["MODULES", "TOPICS", "BuiltinGenerator"]

MAX_QUESTIONS = 20


class BuiltinGenerator:
    """Questions and specifications from the description's own words: offline, free and deterministic."""

    name = "builtin"

    def clarify(self, brief: ProjectBrief) -> list[Question]:
        text, found, reading = scan(brief)
        # The model first: it is what the rest of the specification is about.
        questions = model.questions(reading)
        for topic in TOPICS:
            if not triggered(topic, text, found) or settled(topic, text):
                continue
            choice = topic.type in (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE)
            options = [option.label for option in topic.options] if choice else None
            questions.append(
                Question(
                    id=topic.id, question=topic.question, type=topic.type, options=options, required=topic.required
                )
            )
        return questions[:MAX_QUESTIONS]

    def write_spec(self, request: SpecRequest) -> SpecContent:
        return write_spec(request)

    def plan(self, documents: dict[str, str]) -> TaskPlan:
        """A standard-library Python service, one task per entity (kiln.domain.generators.builtin.build)."""
        from kiln.domain.generators.builtin import build

        try:
            return build.plan(documents)
        except ValueError as error:  # documents it cannot read (an imported or hand-edited spec)
            raise GenerationFailed(f"cannot plan this specification: {error}", "malformed_output") from None

    def implement(self, request: ImplementRequest) -> Implementation:
        from kiln.domain.generators.builtin import build

        try:
            return build.implement(request)
        except ValueError as error:
            raise GenerationFailed(f"cannot implement {request.task.id}: {error}", "malformed_output") from None

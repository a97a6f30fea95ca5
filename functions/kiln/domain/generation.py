"""What a generator is: the contract between Kiln and whatever writes questions and specs.

A generator turns a project brief into clarifying questions, and a brief plus answers plus
feedback into a structured specification (SpecContent). Kiln renders SpecContent into the
four Markdown documents itself (kiln.domain.spec_documents), so DATA.md always has the one
shape the build step parses, whichever generator wrote the content.

Implementations: the deterministic built-in generator (kiln.domain.generators.builtin), the
Amazon Bedrock generator (kiln.adapters.bedrock) and the generator for any chat-completions
endpoint (kiln.adapters.openai_compatible), chosen by configuration in kiln.services. Every
generator's output goes through these pydantic models before anything is stored, so a model
that answers nonsense is caught at the boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_serializer, model_validator

from kiln.domain.builds import Implementation, ImplementRequest, RepairRequest, TaskPlan

QUESTION_ID = r"^[a-z][a-z0-9_]{0,63}$"
ENTITY_NAME = r"^[A-Z][A-Za-z0-9]{0,63}$"  # PascalCase, singular: Task, TimeEntry
FIELD_NAME = r"^[a-z][a-z0-9_]{0,63}$"  # snake_case: due_date, project_id
ANSWER_MAX = 2_000
FEEDBACK_MAX = 4_000

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4_000)]


class _Model(BaseModel):
    # Generator output is validated strictly: an unexpected key means the generator drifted.
    model_config = ConfigDict(extra="forbid", defer_build=True)


# --- clarifying questions ---------------------------------------------------------------


class QuestionType(str, Enum):
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    BOOLEAN = "boolean"
    TEXT = "text"


CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE})


class Question(_Model):
    id: Annotated[str, StringConstraints(pattern=QUESTION_ID)] = Field(
        description="Stable identifier the answer refers to.", examples=["authentication"]
    )
    question: Line = Field(examples=["How will users sign in?"])
    type: QuestionType
    options: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]] | None = (
        Field(default=None, description="The choices, for single_choice and multi_choice questions only.")
    )
    required: bool = True

    @model_serializer(mode="wrap")
    def _omit_absent_options(self, handler: Any) -> dict[str, Any]:
        # `options` exists only on choice questions; absent rather than null elsewhere.
        data = handler(self)
        if data.get("options") is None:
            data.pop("options", None)
        return data

    @model_validator(mode="after")
    def _options_match_type(self) -> Question:
        if self.type in CHOICE_TYPES:
            if not self.options or len(self.options) < 2:
                raise ValueError(f"a {self.type.value} question needs at least two options")
            if len(self.options) > 12:
                raise ValueError("at most 12 options")
            if len(set(self.options)) != len(self.options):
                raise ValueError("options must be distinct")
        elif self.options is not None:
            raise ValueError(f"a {self.type.value} question has no options")
        return self


class QuestionSet(_Model):
    """A generator's clarify output: 1-20 questions with distinct ids."""

    questions: list[Question] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _distinct_ids(self) -> QuestionSet:
        seen = [q.id for q in self.questions]
        if len(set(seen)) != len(seen):
            raise ValueError("question ids must be distinct")
        return self


# An answer as stored after validation: text or a chosen option (str), boolean (bool), or
# the chosen options of a multi_choice question (list[str]).
AnswerValue = bool | str | list[str]


# --- the structured specification ------------------------------------------------------

FieldType = Literal[
    "string",
    "text",
    "integer",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "email",
    "url",
    "enum",
    "json",
]
RelationKind = Literal["belongs_to", "has_many", "many_to_many"]


class EntityField(_Model):
    name: Annotated[str, StringConstraints(pattern=FIELD_NAME)]
    type: FieldType
    required: bool = True
    unique: bool = False
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    values: list[Annotated[str, StringConstraints(pattern=FIELD_NAME)]] | None = Field(
        default=None, description="The allowed values, for enum fields only."
    )

    @model_validator(mode="after")
    def _values_match_type(self) -> EntityField:
        if self.type == "enum" and not self.values:
            raise ValueError(f"enum field {self.name} needs values")
        if self.type != "enum" and self.values is not None:
            raise ValueError(f"field {self.name}: only enum fields have values")
        return self


class Relation(_Model):
    kind: RelationKind
    target: Annotated[str, StringConstraints(pattern=ENTITY_NAME)]
    # The foreign key field on this entity for belongs_to; None for the other kinds.
    via: Annotated[str, StringConstraints(pattern=FIELD_NAME)] | None = None


class Entity(_Model):
    name: Annotated[str, StringConstraints(pattern=ENTITY_NAME)]
    description: Line
    fields: list[EntityField] = Field(min_length=1, max_length=60)
    relations: list[Relation] = Field(default_factory=list, max_length=30)

    @model_validator(mode="after")
    def _consistent(self) -> Entity:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"entity {self.name}: field names must be distinct")
        for relation in self.relations:
            if relation.kind == "belongs_to":
                if relation.via is None or relation.via not in names:
                    raise ValueError(
                        f"entity {self.name}: belongs_to {relation.target} needs `via` naming one of its fields"
                    )
            elif relation.via is not None:
                raise ValueError(f"entity {self.name}: only belongs_to relations have `via`")
        return self


class UserRole(_Model):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    description: Line


class Feature(_Model):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    summary: Paragraph
    # Testable statements ("Given ... when ... then ..."): ACCEPTANCE.md is built from these.
    acceptance: list[Line] = Field(min_length=1, max_length=20)


HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class ApiRoute(_Model):
    method: HttpMethod
    path: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_\-/{}.]*$", max_length=200)]
    summary: Line
    entity: Annotated[str, StringConstraints(pattern=ENTITY_NAME)] | None = None


class FeedbackResponse(_Model):
    """How one piece of reviewer feedback was taken into this version."""

    feedback: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=FEEDBACK_MAX)]
    changes: list[Line] = Field(min_length=1, max_length=30)


class SpecContent(_Model):
    """Everything the four documents say, as data. Rendered by kiln.domain.spec_documents."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    overview: Paragraph
    users: list[UserRole] = Field(min_length=1, max_length=20)
    features: list[Feature] = Field(min_length=1, max_length=40)
    entities: list[Entity] = Field(min_length=1, max_length=40)
    routes: list[ApiRoute] = Field(min_length=1, max_length=300)
    # Decisions taken from the answers or assumed where the description was silent.
    decisions: list[Line] = Field(default_factory=list, max_length=50)
    non_functional: list[Line] = Field(default_factory=list, max_length=30)
    feedback: list[FeedbackResponse] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _references_resolve(self) -> SpecContent:
        names = [e.name for e in self.entities]
        if len(set(names)) != len(names):
            raise ValueError("entity names must be distinct")
        known = set(names)
        for entity in self.entities:
            for relation in entity.relations:
                if relation.target not in known:
                    raise ValueError(f"entity {entity.name}: relation to unknown entity {relation.target}")
        seen: set[tuple[str, str]] = set()
        for route in self.routes:
            if route.entity is not None and route.entity not in known:
                raise ValueError(f"route {route.method} {route.path}: unknown entity {route.entity}")
            key = (route.method, route.path)
            if key in seen:
                raise ValueError(f"route {route.method} {route.path} is listed twice")
            seen.add(key)
        features = [f.name for f in self.features]
        if len(set(features)) != len(features):
            raise ValueError("feature names must be distinct")
        return self


# --- the generator port ------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectBrief:
    name: str
    description: str


@dataclass(frozen=True)
class SpecRequest:
    brief: ProjectBrief
    questions: tuple[Question, ...]
    # question id -> validated answer; unanswered optional questions are absent.
    answers: dict[str, AnswerValue]
    # Every piece of reviewer feedback so far, oldest first; the last one is the newest.
    feedback: tuple[str, ...] = field(default=())


class GenerationFailed(Exception):
    """The generator could not produce valid output; nothing may be stored.

    `reason` is a short machine-readable word: malformed_output (invalid output, also after
    the retry), refused (a content filter declined), unavailable (throttled, down, timed
    out), misconfigured (the deployment cannot use the generator: model id, model access),
    unsupported (the generator has no such step: repair on the built-in generator).
    `retry_after` (seconds) is set when the model's endpoint said how long to wait
    (its Retry-After on a 429 or 503), so the client is told the same rather than a guess.
    """

    def __init__(self, message: str, reason: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.retry_after = retry_after


class Generator(Protocol):
    """Writes clarifying questions and specifications, and plans and implements builds."""

    @property
    def name(self) -> str:
        """Recorded with each spec version: which generator wrote it (e.g. builtin)."""
        ...

    def clarify(self, brief: ProjectBrief) -> list[Question]:
        """Questions about what the brief mentions but leaves open; 1-20, distinct ids."""
        ...

    def write_spec(self, request: SpecRequest) -> SpecContent:
        """The specification for the brief, the answers and all feedback so far."""
        ...

    def plan(self, documents: dict[str, str]) -> TaskPlan:
        """Decompose an approved spec (the four documents) into tasks (kiln.domain.builds)."""
        ...

    def implement(self, request: ImplementRequest) -> Implementation:
        """The files one task writes, all inside its pathScope."""
        ...


@runtime_checkable
class Repairs(Protocol):
    """A generator that can also repair a task's files (the model generators).

    Optional, so a generator that has nothing to add on a second try (the deterministic
    built-in one would write the same files again) need not say so: `repair` below declines
    for it, and the build treats its verification failures as final.
    """

    def repair(self, request: RepairRequest) -> Implementation:
        """The task's files rewritten to fix `request.failures`: full contents, all inside its
        pathScope; files left out stay as they are."""
        ...


REPAIR_DECLINED = "unsupported"


def can_repair(generator: Generator) -> bool:
    return isinstance(generator, Repairs)


def repair(generator: Generator, request: RepairRequest) -> Implementation:
    """The port's repair, with its default: a generator without one declines
    (GenerationFailed with reason REPAIR_DECLINED)."""
    if not isinstance(generator, Repairs):
        raise GenerationFailed(f"the {generator.name} generator does not repair its code", REPAIR_DECLINED)
    return generator.repair(request)


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """lowercase-words-with-dashes, for anchors, branch names and file names."""
    return _SLUG.sub("-", text.lower()).strip("-") or "item"

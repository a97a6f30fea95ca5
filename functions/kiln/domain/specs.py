"""The specification workflow: clarify, answer, regenerate, approve, read. No AWS here.

    draft --clarify--> clarifying --answers--> spec_review --approve--> approved
                         ^    |                  ^      |                  |
                         +----+ (re-ask)         +------+ regenerate <-----+

Generation is slow (a model call can take many seconds), so every write is guarded by the
project's revision counter as read *before* generating: if anything changed the project in
the meantime (an approval, another regeneration, a PATCH, an archive), the write is refused
with 409 and nothing is stored. Two overlapping transitions therefore never both win.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    ValidationError,
)

from kiln.clock import Clock, iso, utc_now
from kiln.domain.generation import (
    ANSWER_MAX,
    FEEDBACK_MAX,
    AnswerValue,
    GenerationFailed,
    Generator,
    ProjectBrief,
    Question,
    QuestionSet,
    QuestionType,
    SpecContent,
    SpecRequest,
)
from kiln.domain.projects import (
    Project,
    ProjectStatus,
    Strict,
    conflict,
    text_controls_only,
)
from kiln.domain.spec_documents import DOCUMENT_NAMES, render_documents
from kiln.envelope import ErrorCode, KilnError, not_found, validation_error

MAX_ANSWERS = 50
MAX_CHOICES = 12

S = ProjectStatus
CLARIFY_FROM = frozenset({S.DRAFT, S.CLARIFYING})  # clarifying again re-asks (the description may have changed)
ANSWER_FROM = frozenset({S.CLARIFYING})
# From approved (or after a build) a new version withdraws the approval: builds need a new one.
REGENERATE_FROM = frozenset({S.SPEC_REVIEW, S.APPROVED, S.BUILT, S.FAILED})
APPROVE_FROM = frozenset({S.SPEC_REVIEW})


# --- requests ----------------------------------------------------------------------------


class ClarifyRequest(Strict):
    """Clarify takes no input beyond the project; a body, if sent, must be `{}`."""


AnswerText = Annotated[StrictStr, StringConstraints(max_length=ANSWER_MAX)]


class AnswerInput(Strict):
    questionId: Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
    # text or one option (string), yes/no (boolean), several options (list of strings).
    answer: StrictBool | AnswerText | Annotated[list[AnswerText], Field(max_length=MAX_CHOICES)]


class AnswersRequest(Strict):
    answers: list[AnswerInput] = Field(max_length=MAX_ANSWERS)


Feedback = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=FEEDBACK_MAX),
    AfterValidator(text_controls_only),
]


class RegenerateRequest(Strict):
    feedback: Feedback | None = Field(
        default=None,
        description="What the next version should change.",
        examples=["Add CSV export of time entries per project."],
    )


class ApproveRequest(Strict):
    # Optional guard: approve only if this is still the latest version (what the reviewer read).
    version: Annotated[int, Field(ge=1)] | None = None


# --- responses ---------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)


class Clarification(_Out):
    projectId: str
    status: ProjectStatus
    questions: list[Question]


class SpecVersionSummary(_Out):
    version: int
    createdAt: str
    feedback: str | None = None
    approvedAt: str | None = None
    generator: str


class SpecVersion(SpecVersionSummary):
    documents: dict[str, str]


class ProjectWithSpec(Project):
    """A project after a spec was written: the project plus the version just written."""

    spec: SpecVersion


class SpecView(_Out):
    """GET /v1/projects/{id}/spec: one version's documents plus every version's summary."""

    projectId: str
    projectStatus: ProjectStatus
    spec: SpecVersion
    versions: list[SpecVersionSummary]


# --- the repository port ------------------------------------------------------------------


@dataclass(frozen=True)
class SpecState:
    """A project as the spec workflow reads it, with the revision its next write must match."""

    project: Project
    revision: int
    questions: tuple[Question, ...] = ()
    answers: dict[str, AnswerValue] = field(default_factory=dict)


class SpecRepository(Protocol):
    def load(self, workspace_id: str, project_id: str) -> SpecState | None: ...

    def save_questions(
        self, workspace_id: str, state: SpecState, questions: list[Question], changes: dict[str, Any]
    ) -> None:
        """Store the questions and apply `changes` if the revision is still state.revision.

        Raises kiln.domain.projects.StatusConflict / ProjectMissing when it is not.
        """
        ...

    def save_version(self, workspace_id: str, state: SpecState, spec: SpecVersion, changes: dict[str, Any]) -> None:
        """Store a new spec version and apply `changes` to the project, atomically, if the
        revision is still state.revision (same exceptions as save_questions)."""
        ...

    def approve(self, workspace_id: str, state: SpecState, version: int, changes: dict[str, Any]) -> None:
        """Mark `version` approved and apply `changes`, atomically, guarded by the revision."""
        ...

    def get_version(self, workspace_id: str, project_id: str, version: int) -> SpecVersion | None: ...

    def list_versions(self, workspace_id: str, project_id: str) -> list[SpecVersionSummary]: ...


class ChangedConcurrently(Exception):
    """The project's revision moved between the read and the guarded write."""

    def __init__(self, current: Project | None) -> None:
        super().__init__("changed concurrently")
        self.current = current


# --- answers against questions ------------------------------------------------------------


def validate_answers(questions: tuple[Question, ...], answers: list[AnswerInput]) -> dict[str, AnswerValue]:
    """The answers keyed by question id, or VALIDATION_ERROR naming every problem at once."""
    asked = {q.id: q for q in questions}
    problems: list[dict[str, Any]] = []
    accepted: dict[str, AnswerValue] = {}

    def problem(path: str, message: str, kind: str) -> None:
        problems.append({"field": path, "location": "body", "message": message, "type": kind})

    for index, given in enumerate(answers):
        path = f"answers.{index}"
        question = asked.get(given.questionId)
        if question is None:
            problem(
                f"{path}.questionId",
                f"unknown question id '{given.questionId}'; the questions asked are: " + ", ".join(asked),
                "unknown_question",
            )
            continue
        if given.questionId in accepted:
            problem(f"{path}.questionId", f"question '{given.questionId}' is answered more than once", "duplicate")
            continue
        error = _check(question, given.answer)
        if error:
            problem(f"{path}.answer", error[0], error[1])
            continue
        value = given.answer.strip() if isinstance(given.answer, str) else given.answer
        if value == "" or value == []:
            if question.required:
                problem(f"{path}.answer", f"question '{question.id}' is required and the answer is empty", "missing")
            continue  # an empty answer to an optional question is no answer
        accepted[question.id] = value
    for question in questions:
        if question.required and question.id not in accepted and not any(a.questionId == question.id for a in answers):
            problem("answers", f"question '{question.id}' is required and was not answered", "missing")
    if problems:
        raise validation_error(problems)
    return accepted


def _check(question: Question, answer: AnswerValue) -> tuple[str, str] | None:
    """(message, type) when `answer` does not fit the question, else None."""
    kind = question.type
    if kind is QuestionType.BOOLEAN:
        if not isinstance(answer, bool):
            return "expected true or false (a boolean question)", "bool_type"
    elif kind is QuestionType.TEXT:
        if not isinstance(answer, str):
            return "expected a string (a text question)", "string_type"
        try:
            text_controls_only(answer)
        except ValueError as error:
            return str(error), "control_characters"
    elif kind is QuestionType.SINGLE_CHOICE:
        if not isinstance(answer, str):
            return "expected one of the options as a string (a single_choice question)", "string_type"
        if answer not in (question.options or []):
            return _not_offered([answer], question), "option_not_offered"
    elif kind is QuestionType.MULTI_CHOICE:
        if not isinstance(answer, list):
            return "expected a list of options (a multi_choice question)", "list_type"
        if len(set(answer)) != len(answer):
            return "an option is chosen more than once", "duplicate"
        stray = [a for a in answer if a not in (question.options or [])]
        if stray:
            return _not_offered(stray, question), "option_not_offered"
    return None


def _not_offered(values: list[str], question: Question) -> str:
    shown = ", ".join(repr(v[:80]) for v in values)
    return f"{shown} not offered; the options are: " + ", ".join(repr(o) for o in question.options or [])


# --- the service ----------------------------------------------------------------------------


class SpecService:
    def __init__(self, repository: SpecRepository, generator: Callable[[], Generator], clock: Clock = utc_now) -> None:
        self._repository = repository
        # A factory: the generator (and its SDK client) is built only by calls that need it.
        self._generator = generator
        self._clock = clock

    def clarify(self, workspace_id: str, project_id: str) -> Clarification:
        state = self._load(workspace_id, project_id)
        self._require(state, "clarify", CLARIFY_FROM)
        questions = self._generate(lambda g: _valid_questions(g.clarify(_brief(state.project))))
        changes = {"status": S.CLARIFYING, "updatedAt": self._now()}
        self._guarded(
            workspace_id,
            state,
            "clarify",
            CLARIFY_FROM,
            lambda: self._repository.save_questions(workspace_id, state, questions, changes),
        )
        return Clarification(projectId=project_id, status=S.CLARIFYING, questions=questions)

    def answer(self, workspace_id: str, project_id: str, request: AnswersRequest) -> ProjectWithSpec:
        state = self._load(workspace_id, project_id)
        self._require(state, "answer the questions of", ANSWER_FROM)
        answers = validate_answers(state.questions, request.answers)
        spec_request = SpecRequest(_brief(state.project), state.questions, answers)
        return self._write_version(
            workspace_id, state, spec_request, None, "answer the questions of", ANSWER_FROM, {"answers": answers}
        )

    def regenerate(self, workspace_id: str, project_id: str, request: RegenerateRequest) -> ProjectWithSpec:
        state = self._load(workspace_id, project_id)
        self._require(state, "regenerate the spec of", REGENERATE_FROM)
        history = [v.feedback for v in self._repository.list_versions(workspace_id, project_id) if v.feedback]
        if request.feedback:
            history.append(request.feedback)
        spec_request = SpecRequest(_brief(state.project), state.questions, dict(state.answers), tuple(history))
        return self._write_version(
            workspace_id, state, spec_request, request.feedback, "regenerate the spec of", REGENERATE_FROM, {}
        )

    def approve(self, workspace_id: str, project_id: str, request: ApproveRequest) -> Project:
        state = self._load(workspace_id, project_id)
        self._require(state, "approve", APPROVE_FROM)
        latest = state.project.specVersion
        if latest is None:  # spec_review always has a version; guard against a hand-edited item
            raise conflict("approve", state.project.status, APPROVE_FROM)
        if request.version is not None and request.version != latest:
            raise KilnError(
                ErrorCode.CONFLICT,
                f"Version {request.version} is not the latest spec version ({latest}); "
                "review the latest version before approving it.",
                {
                    "requestedVersion": request.version,
                    "latestVersion": latest,
                    "currentStatus": state.project.status.value,
                },
            )
        now = self._now()
        changes = {"status": S.APPROVED, "approvedAt": now, "updatedAt": now}
        self._guarded(
            workspace_id,
            state,
            "approve",
            APPROVE_FROM,
            lambda: self._repository.approve(workspace_id, state, latest, changes),
        )
        return state.project.model_copy(update=changes)

    def get(self, workspace_id: str, project_id: str, version: int | None) -> SpecView:
        state = self._load(workspace_id, project_id)
        latest = state.project.specVersion
        if latest is None:
            raise KilnError(
                ErrorCode.NOT_FOUND,
                "This project has no specification yet: answer its clarifying questions first.",
                {"resource": "spec", "projectId": project_id, "status": state.project.status.value},
            )
        wanted = latest if version is None else version
        spec = self._repository.get_version(workspace_id, project_id, wanted) if wanted <= latest else None
        if spec is None:
            raise KilnError(
                ErrorCode.NOT_FOUND,
                f"Spec version {wanted} does not exist.",
                {"resource": "spec", "projectId": project_id, "version": wanted, "latestVersion": latest},
            )
        versions = self._repository.list_versions(workspace_id, project_id)
        return SpecView(projectId=project_id, projectStatus=state.project.status, spec=spec, versions=versions)

    # --- internals --------------------------------------------------------------------------

    def _write_version(
        self,
        workspace_id: str,
        state: SpecState,
        spec_request: SpecRequest,
        feedback: str | None,
        action: str,
        allowed: frozenset[ProjectStatus],
        extra_changes: dict[str, Any],
    ) -> ProjectWithSpec:
        generator_name = ""

        def write(generator: Generator) -> SpecContent:
            nonlocal generator_name
            generator_name = generator.name
            return SpecContent.model_validate(generator.write_spec(spec_request).model_dump())

        content = self._generate(write)
        documents = render_documents(content)
        now = self._now()
        version = (state.project.specVersion or 0) + 1
        spec = SpecVersion(
            version=version,
            createdAt=now,
            feedback=feedback,
            approvedAt=None,
            generator=generator_name,
            documents={name: documents[name] for name in DOCUMENT_NAMES},
        )
        changes = {
            "status": S.SPEC_REVIEW,
            "specVersion": version,
            "approvedAt": None,
            "updatedAt": now,
            **extra_changes,
        }
        self._guarded(
            workspace_id,
            state,
            action,
            allowed,
            lambda: self._repository.save_version(workspace_id, state, spec, changes),
        )
        project_changes = {k: v for k, v in changes.items() if k in Project.model_fields}
        return ProjectWithSpec(**state.project.model_copy(update=project_changes).model_dump(), spec=spec)

    def _load(self, workspace_id: str, project_id: str) -> SpecState:
        state = self._repository.load(workspace_id, project_id)
        if state is None:
            raise not_found("project", project_id)
        return state

    @staticmethod
    def _require(state: SpecState, action: str, allowed: frozenset[ProjectStatus]) -> None:
        if state.project.status not in allowed:
            raise conflict(action, state.project.status, allowed)

    @staticmethod
    def _guarded(
        workspace_id: str, state: SpecState, action: str, allowed: frozenset[ProjectStatus], write: Callable[[], None]
    ) -> None:
        try:
            write()
        except ChangedConcurrently as lost:
            if lost.current is None:
                raise not_found("project", state.project.id) from None
            current = lost.current.status
            if current not in allowed:
                raise conflict(action, current, allowed) from None
            raise KilnError(
                ErrorCode.CONFLICT,
                f"The project changed while this request was being processed (it is now "
                f"'{current.value}'); nothing was stored. Read it again and retry if still wanted.",
                {
                    "currentStatus": current.value,
                    "allowedFrom": sorted(s.value for s in allowed),
                    "reason": "concurrent_change",
                },
            ) from None

    def _generate(self, call: Callable[[Generator], Any]) -> Any:
        generator = self._generator()
        try:
            return call(generator)
        except GenerationFailed as failure:
            raise _generation_error(failure, generator) from None
        except ValidationError as error:
            # A generator returned models that break the contract: nothing is stored.
            raise _generation_error(
                GenerationFailed(f"invalid output: {error.error_count()} problem(s)", "malformed_output"), generator
            ) from None

    def _now(self) -> str:
        return iso(self._clock())


def _brief(project: Project) -> ProjectBrief:
    return ProjectBrief(name=project.name, description=project.description)


def _valid_questions(questions: list[Question]) -> list[Question]:
    return QuestionSet.model_validate({"questions": [q.model_dump() for q in questions]}).questions


_GENERATION_MESSAGES = {
    "malformed_output": "The generator returned invalid output, also when asked again; nothing was stored. Retry.",
    "unavailable": "The generator is unavailable or throttled; nothing was stored. Retry later.",
    "misconfigured": "The generator cannot be used with this deployment's configuration (model id or model "
    "access); nothing was stored. The operator must fix the configuration.",
}


def _generation_error(failure: GenerationFailed, generator: Generator) -> KilnError:
    # The generator's kind only: model ids and provider messages stay in the logs.
    details: dict[str, Any] = {"reason": failure.reason, "generator": generator.name.split(":")[0]}
    if failure.reason == "refused":
        return KilnError(
            ErrorCode.VALIDATION_ERROR,
            "The generator declined to process this project's content.",
            {
                **details,
                "fields": [
                    {
                        "field": "description",
                        "location": "project",
                        "message": "declined by the generator's content filter",
                        "type": "refused",
                    }
                ],
            },
        )
    message = _GENERATION_MESSAGES.get(failure.reason, _GENERATION_MESSAGES["malformed_output"])
    if failure.reason == "misconfigured":  # retrying will not help
        return KilnError(ErrorCode.SERVICE_UNAVAILABLE, message, details)
    # The endpoint's own Retry-After when it gave one (a provider's rate limit knows best).
    seconds = failure.retry_after if failure.retry_after is not None else 5
    return KilnError(
        ErrorCode.SERVICE_UNAVAILABLE,
        message,
        {**details, "retryAfterSeconds": seconds},
        headers={"Retry-After": str(seconds)},
    )

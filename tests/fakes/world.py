"""Every fake wired the way kiln.services wires the adapters (one table, one bucket, one clock),
and the domain services built on them: what a use-case test starts from.

    world = FakeWorld()
    project = world.project_service().create(WORKSPACE, ProjectCreate(name="A", description="B"))
"""

from __future__ import annotations

from typing import Any

from kiln.domain.access import AccessService
from kiln.domain.archive_steps import ArchiveSteps
from kiln.domain.archives import Limits
from kiln.domain.build_steps import BuildSteps, Verifier
from kiln.domain.builds import TaskPlan, VerificationResult
from kiln.domain.generation import Question, QuestionType
from kiln.domain.operations import ExportSources, OperationService
from kiln.domain.projects import Project, ProjectCreate, ProjectService
from kiln.domain.runs import RunService
from kiln.domain.specs import AnswerInput, AnswersRequest, ApproveRequest, SpecService
from kiln.domain.verification import verify
from tests.fakes.access import FakeAccess, FakeUsageKeys
from tests.fakes.clock import FakeClock
from tests.fakes.generation import FakeGenerator, FakeSandbox
from tests.fakes.operations import FakeCatalog, FakeOperations
from tests.fakes.projects import FakeProjects
from tests.fakes.repository import FakeRepositories
from tests.fakes.runs import FakeEvents, FakeRuns, FakeWorkflow
from tests.fakes.specs import FakeSpecs
from tests.fakes.storage import FakePresigner, FakeStorage


class FakeWorld:
    def __init__(
        self, clock: FakeClock | None = None, generator: FakeGenerator | None = None, sandbox: FakeSandbox | None = None
    ) -> None:
        self.clock = clock or FakeClock()
        self.generator = generator or FakeGenerator()
        self.sandbox = sandbox or FakeSandbox()
        self.projects = FakeProjects()
        self.specs = FakeSpecs(self.projects)
        self.runs = FakeRuns(self.projects, self.specs)
        self.events = FakeEvents(self.runs, self.clock)
        self.build_workflow = FakeWorkflow()
        self.archive_workflow = FakeWorkflow()
        self.storage = FakeStorage()
        self.repositories = FakeRepositories(self.storage, self.clock)
        self.operations = FakeOperations(self.runs)
        self.catalog = FakeCatalog(self.projects, self.specs, self.repositories)
        self.presigner = FakePresigner(self.clock)
        self.access = FakeAccess()
        self.usage_keys = FakeUsageKeys()

    def project_service(self) -> ProjectService:
        return ProjectService(self.projects, self.clock)

    def spec_service(self) -> SpecService:
        return SpecService(self.specs, lambda: self.generator, self.clock)

    def run_service(self) -> RunService:
        return RunService(self.runs, self.runs, self.events, self.build_workflow, self.clock)

    def build_steps(self, verifier: Verifier | None = None, **options: Any) -> BuildSteps:
        return BuildSteps(
            self.runs,
            self.events,
            self.repositories,
            lambda: self.generator,
            verifier or self.verify,
            self.clock,
            **options,
        )

    def verify(self, files: dict[str, bytes], plan: TaskPlan) -> VerificationResult:
        """kiln.services' verifier: the checks here, compile and unittest in the sandbox."""
        return verify(files, plan, timeout_seconds=60, sandbox=self.sandbox)

    def operation_service(self) -> OperationService:
        return OperationService(
            self.operations,
            self.archive_workflow,
            self.presigner,
            ExportSources(self.repositories, self.runs),
            self.runs,
            self.clock,
        )

    def archive_steps(self, limits: Limits = Limits()) -> ArchiveSteps:
        return ArchiveSteps(self.operations, self.storage, self.catalog, self.repositories, limits, self.clock)

    def access_service(self) -> AccessService:
        return AccessService(self.access, self.usage_keys, self.clock, self.clock.sleep)

    # --- use cases a test starts from ---------------------------------------------------------

    def approved_project(
        self, workspace_id: str, name: str = "Team Planner", description: str = "Plans the work of a team."
    ) -> Project:
        """A project taken through the spec workflow to an approved version 1."""
        project = self.project_service().create(workspace_id, ProjectCreate(name=name, description=description))
        specs = self.spec_service()
        questions = specs.clarify(workspace_id, project.id).questions
        answers = [AnswerInput(questionId=q.id, answer=answer_to(q)) for q in questions if q.required]
        specs.answer(workspace_id, project.id, AnswersRequest(answers=answers))
        return specs.approve(workspace_id, project.id, ApproveRequest())


def answer_to(question: Question) -> bool | str | list[str]:
    """An answer of the question's type: the first option(s), yes, or a sentence."""
    if question.type is QuestionType.SINGLE_CHOICE:
        return (question.options or [""])[0]
    if question.type is QuestionType.MULTI_CHOICE:
        return (question.options or [])[:2]
    if question.type is QuestionType.BOOLEAN:
        return True
    return "Keep the first version small."

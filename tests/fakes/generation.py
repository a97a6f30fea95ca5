"""A generator (kiln.domain.generation.Generator) and a build sandbox
(kiln.domain.verification.Sandbox) that do exactly what a test tells them.

FakeGenerator asks the questions it is given, writes a small valid spec from the brief, the
answers and the feedback (one feature per piece of feedback, so versions differ), plans the
tasks it is given and implements each task by writing its expected outputs (or the files it
is given). FakeRepairingGenerator can also repair (kiln.domain.generation.Repairs), like the
model generators. Failures and interleavings come from Hooks: `fail_next("implement",
GenerationFailed("throttled", "unavailable"))`, `before("write_spec", approve_meanwhile)`.
"""

from __future__ import annotations

from kiln.domain.builds import (
    Implementation,
    ImplementRequest,
    RepairRequest,
    TaskDefinition,
    TaskPlan,
    VerificationCheck,
)
from kiln.domain.generation import (
    ApiRoute,
    Entity,
    EntityField,
    Feature,
    FeedbackResponse,
    ProjectBrief,
    Question,
    QuestionType,
    SpecContent,
    SpecRequest,
    UserRole,
)
from kiln.domain.model_generation import Reply
from kiln.domain.verification import run_suite
from tests.fakes._hooks import Hooks

QUESTIONS = (
    Question(id="audience", question="Who uses it?", type=QuestionType.SINGLE_CHOICE, options=["Teams", "Individuals"]),
    Question(id="notes", question="Anything else?", type=QuestionType.TEXT, required=False),
)


def two_tasks() -> TaskPlan:
    """task-001 writes a.txt; task-002, after it, writes b.txt."""
    return TaskPlan(
        tasks=[
            TaskDefinition(
                id="task-001",
                slug="first",
                description="First file",
                instructions="Write a.txt",
                pathScope=["a.txt"],
                expectedOutputs=["a.txt"],
            ),
            TaskDefinition(
                id="task-002",
                slug="second",
                description="Second file",
                instructions="Write b.txt",
                dependencies=["task-001"],
                pathScope=["b.txt"],
                expectedOutputs=["b.txt"],
            ),
        ],
        mergeOrder=["task-001", "task-002"],
    )


class FakeGenerator(Hooks):
    def __init__(
        self,
        questions: tuple[Question, ...] = QUESTIONS,
        plan: TaskPlan | None = None,
        files: dict[str, dict[str, str]] | None = None,
        name: str = "fake",
    ) -> None:
        super().__init__()
        self.questions = questions
        self.task_plan = plan or two_tasks()
        self.files = files or {}  # task id -> the files it writes (default: its expected outputs)
        self._name = name
        self.calls: list[str] = []
        self.implemented: list[ImplementRequest] = []

    @property
    def name(self) -> str:
        return self._name

    def clarify(self, brief: ProjectBrief) -> list[Question]:
        self._hook("clarify")
        self.calls.append("clarify")
        return [q.model_copy() for q in self.questions]

    def write_spec(self, request: SpecRequest) -> SpecContent:
        self._hook("write_spec")
        self.calls.append("write_spec")
        answers = [f"{question}: {answer}" for question, answer in sorted(request.answers.items())]
        features = [
            Feature(
                name="Items",
                summary=request.brief.description[:4000],
                acceptance=["Given an item, when it is read, then it is shown."],
            )
        ]
        features += [
            Feature(name=f"Change {index}", summary=text[:4000], acceptance=[text[:500]])
            for index, text in enumerate(request.feedback, start=1)
        ]
        return SpecContent(
            title=request.brief.name[:200],
            overview=request.brief.description[:4000],
            users=[UserRole(name="Member", description="Uses it.")],
            features=features,
            entities=[Entity(name="Item", description="A thing.", fields=[EntityField(name="title", type="string")])],
            routes=[ApiRoute(method="GET", path="/items", summary="List items", entity="Item")],
            decisions=[a[:500] for a in answers],
            feedback=[
                FeedbackResponse(feedback=text, changes=[f"Added change {index}."])
                for index, text in enumerate(request.feedback, start=1)
            ],
        )

    def plan(self, documents: dict[str, str]) -> TaskPlan:
        self._hook("plan")
        self.calls.append("plan")
        return self.task_plan.model_copy(deep=True)

    def implement(self, request: ImplementRequest) -> Implementation:
        self._hook("implement")
        self.calls.append(f"implement {request.task.id}")
        self.implemented.append(request)
        files = self.files.get(request.task.id)
        if files is None:
            files = {path: f"{request.task.id} wrote {path}\n" for path in request.task.expectedOutputs}
        return Implementation(files=dict(files), summary=f"{request.task.id} done")


class FakeRepairingGenerator(FakeGenerator):
    """Repairs by rewriting the task's expected outputs (or the files given in `repairs`)."""

    def __init__(
        self,
        questions: tuple[Question, ...] = QUESTIONS,
        plan: TaskPlan | None = None,
        files: dict[str, dict[str, str]] | None = None,
        name: str = "fake-model",
        repairs: dict[str, dict[str, str]] | None = None,
    ) -> None:
        super().__init__(questions, plan, files, name)
        self.repairs = repairs or {}
        self.repaired: list[RepairRequest] = []

    def repair(self, request: RepairRequest) -> Implementation:
        self._hook("repair")
        self.calls.append(f"repair {request.task.id}")
        self.repaired.append(request)
        files = self.repairs.get(request.task.id)
        if files is None:
            files = {
                path: f"{request.task.id} repaired {path} ({request.attempt})\n"
                for path in request.task.expectedOutputs
            }
        return Implementation(files=dict(files), summary=f"repair {request.attempt} of {request.task.id}")


class FakeSandbox(Hooks):
    """Records what it is sent. Unless told what to answer (`answer`) or to fail (`raises`), it
    runs the checks the sandbox function runs (kiln.domain.verification.run_suite), here."""

    def __init__(self, answer: list[VerificationCheck] | None = None, raises: Exception | None = None) -> None:
        super().__init__()
        self.answer = answer
        self.raises = raises
        self.calls: list[tuple[dict[str, bytes], float]] = []

    def run(self, files: dict[str, bytes], timeout_seconds: float) -> list[VerificationCheck]:
        self._hook("run")
        self.calls.append((dict(files), timeout_seconds))
        if self.raises is not None:
            raise self.raises
        if self.answer is not None:
            return [check.model_copy() for check in self.answer]
        return run_suite(files, timeout_seconds)


class FakeExchange(Hooks):
    """kiln.domain.model_generation.Exchange: a model's side of one conversation, answering the
    scripted replies in order (an exception is raised instead, as the provider's transport
    raises GenerationFailed). `sent` lists the attempts, `problems` what was sent back."""

    def __init__(self, *replies: Reply | Exception) -> None:
        super().__init__()
        self.replies = list(replies)
        self.sent: list[int] = []
        self.problems: list[str] = []

    def send(self, attempt: int) -> Reply:
        self._hook("send")
        self.sent.append(attempt)
        if not self.replies:
            raise AssertionError("the model was asked more often than the test expected")
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def add_feedback(self, problem: str) -> None:
        self._hook("add_feedback")
        self.problems.append(problem)

"""The repair loop of a model-written build (BuildSteps.verify and repair_task): the build steps
with moto behind the adapters and the real verification (compile and unittest of the generated
tree, in-process), driven as the workflow drives them (run_sequentially), with a scripted
generator whose code fails its own test until a repair fixes it. The state machine's loop runs
in tests/local/test_local_build_workflow_asl.py, and the whole story over HTTP with a model
endpoint in tests/integration/test_build_repair.py."""

from __future__ import annotations

from typing import Any

import pytest

from kiln import services
from kiln.domain.build_steps import BuildSteps, RunAlreadyFinished, RunRef, run_sequentially
from kiln.domain.builds import Implementation, RepairRequest, TaskDefinition, TaskPlan, VerificationResult
from kiln.domain.generation import GenerationFailed
from kiln.domain.generators.builtin import BuiltinGenerator
from kiln.domain.verification import verify
from kiln.handlers import runs_cancel, runs_get, tasks_get
from tests.unit.kiln.handlers.test_runs import (
    WORKSPACE,
    Deferred,
    approved_project,
    call,
    events,
    run_call,
    start,
)

pytestmark = pytest.mark.usefixtures("cloud")

PACKAGE = {"calc/__init__.py": "", "tests/__init__.py": ""}
BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TEST = (
    "import unittest\n\nfrom calc.ops import add\n\n\nclass AddTest(unittest.TestCase):\n"
    "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
)


class Calculator(BuiltinGenerator):
    """A generator without repair: task-001 the package, task-002 an `add` that subtracts."""

    def plan(self, documents: dict[str, str]) -> TaskPlan:
        return TaskPlan(
            tasks=[
                TaskDefinition(
                    id="task-001",
                    slug="package",
                    description="The package",
                    instructions="Write it",
                    pathScope=list(PACKAGE),
                    expectedOutputs=list(PACKAGE),
                ),
                TaskDefinition(
                    id="task-002",
                    slug="ops",
                    description="Operations",
                    instructions="Write add",
                    dependencies=["task-001"],
                    pathScope=["calc/ops.py", "tests/test_ops.py"],
                    expectedOutputs=["calc/ops.py", "tests/test_ops.py"],
                ),
            ],
            mergeOrder=["task-001", "task-002"],
        )

    def implement(self, request: Any) -> Implementation:
        if request.task.id == "task-001":
            return Implementation(files=PACKAGE)
        return Implementation(files={"calc/ops.py": BUGGY, "tests/test_ops.py": TEST})


class ScriptedModel(Calculator):
    """A model: each repair answers the next scripted reply (files, or an exception to raise)."""

    def __init__(self, *replies: dict[str, str] | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[RepairRequest] = []

    def repair(self, request: RepairRequest) -> Implementation:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return Implementation(files=reply, summary="add adds now")


def really_verify(files: dict[str, bytes], plan: TaskPlan) -> VerificationResult:
    return verify(files, plan, timeout_seconds=60)


def build(generator: Calculator, repair_attempts: int = 2) -> tuple[BuildSteps, RunRef]:
    root = services.use(services.build(build_workflow=Deferred()))
    steps = BuildSteps(
        root.run_store,
        root.event_store,
        root.repository,
        lambda: generator,
        really_verify,
        repair_attempts=repair_attempts,
    )
    project_id = approved_project()
    return steps, RunRef(WORKSPACE, project_id, start(project_id)[1]["data"]["id"])


def story(ref: RunRef) -> list[tuple[str, str | None]]:
    return [(e["eventType"], e["taskId"]) for e in events(ref.project_id, ref.run_id, limit="100")]


def after_the_tasks(ref: RunRef) -> list[tuple[str, str | None]]:
    """The story from the first verification on (the tasks' own events before it are the usual ones)."""
    told = story(ref)
    return told[told.index(("VERIFICATION_COMPLETED", None)) :]


def run_of(ref: RunRef) -> dict[str, Any]:
    return run_call(runs_get, "GET", "", ref.project_id, ref.run_id)[1]["data"]


def task_of(ref: RunRef, task_id: str) -> dict[str, Any]:
    status, body = call(
        tasks_get, "GET", "/runs/{runId}/tasks/{taskId}", ref.project_id, {"runId": ref.run_id, "taskId": task_id}
    )
    assert status == 200, body
    return body["data"]


def history(ref: RunRef, branch: str) -> list[str]:
    """Commit messages from the branch head back to its root."""
    repository = services.current().repository(WORKSPACE, ref.project_id)
    messages, commit = [], repository.resolve(branch)
    while commit:
        found = repository.get_commit(commit)
        messages.append(found.message.strip())
        commit = found.parents[0] if found.parents else None
    return messages


def test_a_failing_test_is_repaired_and_the_run_succeeds():
    model = ScriptedModel({"calc/ops.py": FIXED})
    steps, ref = build(model)

    assert run_sequentially(steps, ref, transient_attempts=1) == {"status": "succeeded"}

    assert after_the_tasks(ref) == [
        ("VERIFICATION_COMPLETED", None),
        ("TASK_REPAIR_STARTED", "task-002"),
        ("FILE_MODIFIED", "task-002"),
        ("TASK_REPAIR_COMPLETED", "task-002"),
        ("VERIFICATION_COMPLETED", None),
        ("RUN_COMPLETED", None),
    ]
    found = events(ref.project_id, ref.run_id, type="VERIFICATION_COMPLETED")
    assert [e["payload"]["passed"] for e in found] == [False, True]
    assert found[0]["payload"]["repair"] == {"attempt": 1, "maxAttempts": 2, "taskIds": ["task-002"]}
    [started] = events(ref.project_id, ref.run_id, type="TASK_REPAIR_STARTED")
    assert started["payload"] == {
        "attempt": 1,
        "maxAttempts": 2,
        "branchName": "feat/task-002-ops",
        "checks": ["unittest"],
    }
    [modified] = events(ref.project_id, ref.run_id, type="FILE_MODIFIED")
    assert modified["payload"] == {"path": "calc/ops.py", "size": len(FIXED), "attempt": 1}

    # What the model was told: the failing test's output, naming the task's files, and the tree as verified.
    [request] = model.requests
    assert request.attempt == 1 and request.task.id == "task-002"
    assert "AssertionError: -1 != 5" in request.failures[0] and "tests/test_ops.py" in request.failures[0]
    assert request.files["calc/ops.py"] == BUGGY and request.files["calc/__init__.py"] == ""

    # Two commits on the task's branch, the repair's on top; main has the repaired code.
    assert history(ref, "feat/task-002-ops")[:2] == [
        "task-002: repair 1 after verification failed",
        "task-002: Operations",
    ]
    task = task_of(ref, "task-002")
    assert task["repairs"] == 1 and task["status"] == "succeeded"
    assert task["result"]["filesCreated"] == ["calc/ops.py", "tests/test_ops.py"]
    repository = services.current().repository(WORKSPACE, ref.project_id)
    assert task["result"]["commitSha"] == repository.resolve("feat/task-002-ops")
    assert task_of(ref, "task-001")["repairs"] == 0
    assert services.current().repository(WORKSPACE, ref.project_id).read_file("main", "calc/ops.py") == FIXED.encode()
    assert run_of(ref)["verificationResult"]["passed"] is True


def test_a_build_never_fixed_fails_after_the_allowed_attempts():
    still_wrong = [{"calc/ops.py": BUGGY + f"# attempt {n}\n"} for n in (1, 2, 3)]
    model = ScriptedModel(*still_wrong)
    steps, ref = build(model)

    assert run_sequentially(steps, ref, transient_attempts=1) == {"status": "failed"}

    run = run_of(ref)
    assert run["status"] == "failed" and run["error"]["reason"] == "verification_failed"
    assert run["error"]["message"] == "verification failed: unittest after 2 repair attempts"
    kinds = [kind for kind, _ in after_the_tasks(ref)]
    assert kinds == [
        "VERIFICATION_COMPLETED",
        "TASK_REPAIR_STARTED",
        "FILE_MODIFIED",
        "TASK_REPAIR_COMPLETED",
        "VERIFICATION_COMPLETED",
        "TASK_REPAIR_STARTED",
        "FILE_MODIFIED",
        "TASK_REPAIR_COMPLETED",
        "VERIFICATION_COMPLETED",
        "RUN_FAILED",
    ]
    assert [e["payload"]["attempt"] for e in events(ref.project_id, ref.run_id, type="TASK_REPAIR_COMPLETED")] == [1, 2]
    assert "repair" not in events(ref.project_id, ref.run_id, type="VERIFICATION_COMPLETED")[-1]["payload"]
    assert len(model.requests) == 2 and [r.attempt for r in model.requests] == [1, 2]
    assert task_of(ref, "task-002")["repairs"] == 2
    assert len(history(ref, "feat/task-002-ops")) - len(history(ref, "feat/task-001-package")) == 3


def test_a_rejected_repair_is_a_failed_attempt_and_the_next_one_hears_why():
    model = ScriptedModel({"calc/__init__.py": "oops = 1\n"}, {"calc/ops.py": FIXED})
    steps, ref = build(model)

    assert run_sequentially(steps, ref, transient_attempts=1) == {"status": "succeeded"}

    [rejected] = events(ref.project_id, ref.run_id, type="TASK_REPAIR_FAILED")
    assert rejected["taskId"] == "task-002" and rejected["payload"]["attempt"] == 1
    assert rejected["payload"]["reason"] == "path_scope_violation"
    assert "outside its pathScope: calc/__init__.py" in rejected["payload"]["message"]
    second = model.requests[1]
    assert second.attempt == 2 and any(
        "attempt 1) was rejected" in text and "calc/__init__.py" in text for text in second.failures
    )
    # Nothing of the rejected answer was written: task-001's file is intact, one repair commit.
    assert services.current().repository(WORKSPACE, ref.project_id).read_file("main", "calc/__init__.py") == b""
    assert history(ref, "feat/task-002-ops")[0] == "task-002: repair 2 after verification failed"
    assert "repair 1" not in " ".join(history(ref, "feat/task-002-ops"))


@pytest.mark.parametrize(
    "reply, reason",
    [
        ({"calc/ops.py": BUGGY}, "unchanged"),
        (
            GenerationFailed("The model did not produce a valid answer twice in a row", "malformed_output"),
            "malformed_output",
        ),
    ],
)
def test_an_unusable_repair_changes_nothing(reply, reason):
    model = ScriptedModel(reply, {"calc/ops.py": FIXED})
    steps, ref = build(model)

    assert run_sequentially(steps, ref, transient_attempts=1) == {"status": "succeeded"}

    [failed] = events(ref.project_id, ref.run_id, type="TASK_REPAIR_FAILED")
    assert failed["payload"]["reason"] == reason and failed["payload"]["attempt"] == 1
    assert history(ref, "feat/task-002-ops")[:2] == [
        "task-002: repair 2 after verification failed",
        "task-002: Operations",
    ]


def test_a_throttled_repair_is_retried_like_any_transient_error():
    model = ScriptedModel(GenerationFailed("throttled", "unavailable"), {"calc/ops.py": FIXED})
    steps, ref = build(model)

    assert run_sequentially(steps, ref, transient_attempts=2) == {"status": "succeeded"}

    assert [r.attempt for r in model.requests] == [1, 1]
    assert not events(ref.project_id, ref.run_id, type="TASK_REPAIR_FAILED")
    assert task_of(ref, "task-002")["repairs"] == 1


@pytest.mark.parametrize("generator, attempts", [(Calculator(), 2), (ScriptedModel({"calc/ops.py": FIXED}), 0)])
def test_no_repair_without_a_model_or_without_attempts(generator, attempts):
    steps, ref = build(generator, repair_attempts=attempts)

    assert run_sequentially(steps, ref, transient_attempts=1) == {"status": "failed"}

    run = run_of(ref)
    assert run["error"] == {"reason": "verification_failed", "message": "verification failed: unittest", "taskId": None}
    kinds = [kind for kind, _ in story(ref)]
    assert kinds[-2:] == ["VERIFICATION_COMPLETED", "RUN_FAILED"] and not any("REPAIR" in k for k in kinds)


def drive_to_first_repair(steps: BuildSteps, ref: RunRef) -> dict[str, Any]:
    for wave in steps.decompose(ref)["waves"]:
        for task_id in wave:
            steps.execute_task(ref, task_id)
    verdict = steps.verify(ref)
    assert verdict == {"passed": False, "attempt": 1, "maxAttempts": 2, "tasks": ["task-002"]}
    return verdict


def test_a_repeated_repair_invocation_is_recorded_once():
    model = ScriptedModel({"calc/ops.py": FIXED})
    steps, ref = build(model)
    drive_to_first_repair(steps, ref)

    first = steps.repair_task(ref, "task-002", 1, 2)
    again = steps.repair_task(ref, "task-002", 1, 2)  # Step Functions delivers at least once

    assert first["repaired"] is True and again == {"taskId": "task-002", "attempt": 1, "repaired": None}
    assert len(model.requests) == 1
    assert [kind for kind, _ in story(ref)].count("TASK_REPAIR_STARTED") == 1
    assert steps.verify(ref) == {"passed": True, "attempt": 1, "maxAttempts": 2, "tasks": []}


def test_a_run_cancelled_before_its_repair_stops_it_quietly():
    model = ScriptedModel({"calc/ops.py": FIXED})
    steps, ref = build(model)
    drive_to_first_repair(steps, ref)
    head = services.current().repository(WORKSPACE, ref.project_id).resolve("feat/task-002-ops")
    assert run_call(runs_cancel, "POST", "/cancel", ref.project_id, ref.run_id)[0] == 200

    with pytest.raises(RunAlreadyFinished):
        steps.repair_task(ref, "task-002", 1, 2)

    assert model.requests == [] and story(ref)[-1] == ("RUN_CANCELLED", None)
    assert services.current().repository(WORKSPACE, ref.project_id).resolve("feat/task-002-ops") == head

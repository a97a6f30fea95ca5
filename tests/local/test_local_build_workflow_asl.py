"""The build state machine's control flow, run by moto against stand-in workers.

A whole build with the real workers runs over HTTP in tests/integration/test_builds.py; here
each worker is replaced (same function names, same ASL) by functions of this module, to
drive the paths a real build rarely takes: waves in order, retries of transient errors only,
every failure recorded by the finish step, a cancelled run stopping quietly, and the repair loop
(a failed verification naming tasks to repair, the repairs, verifying again).
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from kiln.routes import WORKFLOWS
from tests.local.state_machines import emulator, finished, interpreting_state_machines, state_machine

HERE = __name__
BUILD = next(w for w in WORKFLOWS if w.name == "build")
_lock = threading.Lock()
_calls: dict[str, list] = {}
_behaviour: dict[str, dict] = {}


class TransientBuildError(Exception):
    pass


class TaskFailed(Exception):
    pass


class RunAlreadyFinished(Exception):
    pass


class VerificationFailed(Exception):
    pass


def _record(event, step, detail=None):
    with _lock:
        _calls.setdefault(event["runId"], []).append((step, detail))
    return _behaviour.get(event["runId"], {})


def decompose(event, context):
    behaviour = _record(event, "decompose")
    if behaviour.get("decompose") == "finished":
        raise RunAlreadyFinished("run is cancelled")
    return {"waves": [["task-001"], ["task-002", "task-003"]]}


def task(event, context):
    behaviour = _record(event, "task", event["taskId"])
    mode = behaviour.get(event["taskId"])
    if mode == "fails":
        raise TaskFailed(f"{event['taskId']} wrote files outside its pathScope: x")
    if mode == "transient":
        attempts = sum(1 for step, detail in _calls[event["runId"]] if detail == event["taskId"])
        if attempts < 3:
            raise TransientBuildError("throttled")
    return {"filesCreated": [], "filesModified": [], "commitSha": None}


def verify(event, context):
    behaviour = _record(event, "verify")
    # Like BuildSteps.verify: a failed verification with repairs left names the tasks to repair.
    repaired = sum(1 for step, _ in _calls[event["runId"]] if step == "verify") - 1
    failing = behaviour.get("verify", 0)  # how many verifications fail
    if repaired >= failing:
        return {"passed": True, "attempt": repaired, "maxAttempts": 2, "tasks": []}
    if repaired >= 2:
        raise VerificationFailed(f"verification failed: unittest after {repaired} repair attempts")
    return {"passed": False, "attempt": repaired + 1, "maxAttempts": 2, "tasks": ["task-002", "task-003"]}


def repair(event, context):
    behaviour = _record(event, "repair", (event["taskId"], event["attempt"], event["maxAttempts"]))
    if behaviour.get("repair") == "transient":
        attempts = sum(
            1
            for step, detail in _calls[event["runId"]]
            if step == "repair" and detail[0] == event["taskId"] and detail[1] == event["attempt"]
        )
        if attempts < 2:
            raise TransientBuildError("throttled")
    if behaviour.get("repair") == "finished":
        raise RunAlreadyFinished("run is cancelled")
    return {"taskId": event["taskId"], "attempt": event["attempt"], "repaired": True}


def merge(event, context):
    _record(event, "merge")
    return {"commit": "0" * 40}


def finish(event, context):
    _record(event, "finish", event.get("error"))
    return {"status": "failed" if event.get("error") else "succeeded"}


STAND_INS = {
    "DecomposeFunctionArn": "decompose",
    "TaskFunctionArn": "task",
    "VerifyFunctionArn": "verify",
    "RepairFunctionArn": "repair",
    "MergeFunctionArn": "merge",
    "FinishFunctionArn": "finish",
}


@pytest.fixture(scope="module")
def build_machine():
    with interpreting_state_machines():
        aws = emulator(BUILD, {placeholder: f"{HERE}.{stand_in}" for placeholder, stand_in in STAND_INS.items()})
        patch = pytest.MonkeyPatch()
        patch.setenv("MOTO_PORT", str(aws.port))
        yield state_machine(aws, BUILD)
        patch.undo()
        aws.stop()


def run_build(build_machine, behaviour: dict | None = None, concurrency: int = 2) -> tuple[dict, list]:
    sfn, machine = build_machine
    run_id = f"run_{uuid.uuid4().hex[:26]}"
    _behaviour[run_id] = behaviour or {}
    payload = {"workspaceId": "ws_x", "projectId": "proj_x", "runId": run_id, "taskConcurrency": concurrency}
    execution = sfn.start_execution(stateMachineArn=machine, name=run_id, input=json.dumps(payload))["executionArn"]
    return finished(sfn, execution, 60), _calls.get(run_id, [])


def steps(calls: list) -> list[str]:
    return [step for step, _ in calls]


def test_waves_run_in_order_then_verify_merge_and_finish(build_machine):
    described, calls = run_build(build_machine)
    assert described["status"] == "SUCCEEDED"
    assert steps(calls)[0] == "decompose"
    tasks = [detail for step, detail in calls if step == "task"]
    assert tasks[0] == "task-001" and sorted(tasks[1:]) == ["task-002", "task-003"]
    assert steps(calls)[-3:] == ["verify", "merge", "finish"]
    assert calls[-1] == ("finish", None)


def test_a_failed_task_skips_verify_and_merge_and_is_recorded(build_machine):
    described, calls = run_build(build_machine, {"task-002": "fails"})
    # A failed build is recorded on the run; the execution itself ends normally.
    assert described["status"] == "SUCCEEDED"
    assert "verify" not in steps(calls) and "merge" not in steps(calls)
    step, error = calls[-1]
    assert step == "finish" and error["Error"] == "TaskFailed"
    assert "task-002 wrote files outside its pathScope" in error["Cause"]


def test_transient_errors_are_retried_with_backoff(build_machine):
    described, calls = run_build(build_machine, {"task-001": "transient"})
    assert described["status"] == "SUCCEEDED"
    assert [d for s, d in calls if s == "task"].count("task-001") == 3
    assert calls[-1] == ("finish", None)


def test_task_failures_are_not_retried(build_machine):
    _, calls = run_build(build_machine, {"task-001": "fails"})
    assert [d for s, d in calls if s == "task"] == ["task-001"]


def test_a_run_finished_meanwhile_stops_without_recording_anything(build_machine):
    described, calls = run_build(build_machine, {"decompose": "finished"})
    assert described["status"] == "SUCCEEDED"
    assert steps(calls) == ["decompose"]


def test_a_failed_verification_repairs_the_tasks_it_names_then_verifies_again(build_machine):
    described, calls = run_build(build_machine, {"verify": 1})
    assert described["status"] == "SUCCEEDED"
    after = steps(calls)[steps(calls).index("verify") :]
    assert after == ["verify", "repair", "repair", "verify", "merge", "finish"]
    repairs = sorted(detail for step, detail in calls if step == "repair")
    assert repairs == [("task-002", 1, 2), ("task-003", 1, 2)]
    assert calls[-1] == ("finish", None)


def test_repairs_loop_until_the_attempts_are_spent_then_the_failure_is_recorded(build_machine):
    described, calls = run_build(build_machine, {"verify": 5})
    assert described["status"] == "SUCCEEDED"
    assert steps(calls).count("verify") == 3 and "merge" not in steps(calls)
    assert sorted(detail[1] for step, detail in calls if step == "repair") == [1, 1, 2, 2]
    step, error = calls[-1]
    assert step == "finish" and error["Error"] == "VerificationFailed"
    assert "after 2 repair attempts" in error["Cause"]


def test_a_transient_repair_error_is_retried(build_machine):
    described, calls = run_build(build_machine, {"verify": 1, "repair": "transient"})
    assert described["status"] == "SUCCEEDED"
    assert sorted(detail for step, detail in calls if step == "repair") == [
        ("task-002", 1, 2),
        ("task-002", 1, 2),
        ("task-003", 1, 2),
        ("task-003", 1, 2),
    ]
    assert steps(calls)[-3:] == ["verify", "merge", "finish"] and calls[-1] == ("finish", None)


def test_a_run_finished_during_its_repair_stops_without_recording_anything(build_machine):
    described, calls = run_build(build_machine, {"verify": 1, "repair": "finished"})
    assert described["status"] == "SUCCEEDED"
    assert steps(calls)[-1] == "repair" and "finish" not in steps(calls)

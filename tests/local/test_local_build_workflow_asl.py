"""The build state machine's control flow, run by moto against stand-in workers.

A whole build with the real workers runs over HTTP in tests/integration/test_builds.py; here
each worker is replaced (same function names, same ASL) by functions of this module, to
drive the paths a real build rarely takes: waves in order, retries of transient errors only,
every failure recorded by the finish step, a cancelled run stopping quietly.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import boto3
import pytest

from kiln.routes import WORKFLOWS
from local.aws import AwsEmulator, LocalFunction
from local.constants import function_name
from local.provision import state_machine_definition

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
    _record(event, "verify")
    return {"passed": True}


def merge(event, context):
    _record(event, "merge")
    return {"commit": "0" * 40}


def finish(event, context):
    _record(event, "finish", event.get("error"))
    return {"status": "failed" if event.get("error") else "succeeded"}


STAND_INS = {"DecomposeFunctionArn": "decompose", "TaskFunctionArn": "task", "VerifyFunctionArn": "verify",
             "MergeFunctionArn": "merge", "FinishFunctionArn": "finish"}


@pytest.fixture(scope="module")
def build_machine():
    from moto.core.config import default_user_config

    saved = dict(default_user_config["stepfunctions"])
    functions = {}
    for placeholder, worker in BUILD.functions.items():
        name = function_name(worker)
        functions[name] = LocalFunction(name, f"{HERE}.{STAND_INS[placeholder]}")
    aws = AwsEmulator(functions=functions)
    aws.start()
    patch = pytest.MonkeyPatch()
    patch.setenv("MOTO_PORT", str(aws.port))
    sfn = boto3.client("stepfunctions", endpoint_url=aws.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    machine = sfn.create_state_machine(
        name="build", definition=state_machine_definition(BUILD.asl_file, BUILD.functions),
        roleArn="arn:aws:iam::123456789012:role/build")["stateMachineArn"]
    yield sfn, machine
    patch.undo()
    aws.stop()
    default_user_config["stepfunctions"].clear()
    default_user_config["stepfunctions"].update(saved)


def run_build(build_machine, behaviour: dict | None = None, concurrency: int = 2) -> tuple[dict, list]:
    sfn, machine = build_machine
    run_id = f"run_{uuid.uuid4().hex[:26]}"
    _behaviour[run_id] = behaviour or {}
    payload = {"workspaceId": "ws_x", "projectId": "proj_x", "runId": run_id, "taskConcurrency": concurrency}
    execution = sfn.start_execution(stateMachineArn=machine, name=run_id, input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described, _calls.get(run_id, [])
        time.sleep(0.05)
    raise AssertionError("the execution did not finish in 60 s")


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

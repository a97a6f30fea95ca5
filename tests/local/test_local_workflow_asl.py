"""The selfcheck state machine's control flow, run by moto against stand-in workers.

The real worker's happy path is covered over HTTP in tests/integration/test_workflows.py;
here the worker is replaced (same function name, so the same ASL and ARN) by functions that
fail in each way the definition must handle.
"""

from __future__ import annotations

import json
import uuid

import pytest

from kiln.routes import WORKFLOWS
from local.aws import AwsEmulator
from local.provision import state_machine_definition
from tests.local.state_machines import emulator, finished, interpreting_state_machines, state_machine

HERE = __name__
SELFCHECK = next(w for w in WORKFLOWS if w.name == "selfcheck")
_attempts: dict[str, int] = {}


class ServiceHiccup(Exception):
    # What Lambda's own transient failures look like to a Task state.
    error_type = "Lambda.ServiceException"


def crashes(event, context):
    raise PermissionError("AccessDenied on the table")


def reports_failure(event, context):
    return {"passed": False, "checks": [{"name": "database", "passed": False, "output": "boom"}]}


def reports_nothing(event, context):
    return {}


def passes(event, context):
    return {"passed": True, "checks": [{"name": "database", "passed": True, "output": "ok"}]}


def hiccups_once(event, context):
    probe = event["probeId"]
    _attempts[probe] = _attempts.get(probe, 0) + 1
    if _attempts[probe] == 1:
        raise ServiceHiccup("Lambda was unable to run the function")
    return passes(event, context)


@pytest.fixture
def run_selfcheck(monkeypatch):
    """Runs the selfcheck workflow with its worker replaced by a function of this module."""
    emulators: list[AwsEmulator] = []

    def run(worker: str, payload: dict | None = None) -> dict:
        aws = emulator(SELFCHECK, {"SelfCheckFunctionArn": f"{HERE}.{worker}"})
        emulators.append(aws)
        monkeypatch.setenv("MOTO_PORT", str(aws.port))  # where moto's interpreter calls Lambda
        sfn, machine = state_machine(aws, SELFCHECK)
        execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload or {}))["executionArn"]
        return finished(sfn, execution, 20)

    with interpreting_state_machines():
        yield run
        for aws in emulators:
            aws.stop()


def test_every_placeholder_is_replaced_by_a_local_lambda_arn():
    definition = json.loads(state_machine_definition(SELFCHECK.asl_file, SELFCHECK.functions))
    task = definition["States"]["RunChecks"]
    assert task["Parameters"]["FunctionName"] == "arn:aws:lambda:us-east-1:123456789012:function:kiln-selfcheck"
    assert "${" not in json.dumps(definition)


def test_passing_checks_succeed(run_selfcheck):
    described = run_selfcheck("passes")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["passed"] is True


def test_failing_checks_fail_the_execution(run_selfcheck):
    described = run_selfcheck("reports_failure")
    assert described["status"] == "FAILED"
    assert described["error"] == "SelfCheckFailed"


def test_a_report_without_verdict_fails_the_execution(run_selfcheck):
    described = run_selfcheck("reports_nothing")
    assert described["status"] == "FAILED"
    assert described["error"] == "SelfCheckFailed"


def test_a_crashing_worker_is_caught_with_its_error_type(run_selfcheck):
    described = run_selfcheck("crashes")
    assert described["status"] == "FAILED"
    assert described["error"] == "PermissionError"
    assert "AccessDenied on the table" in described["cause"]


def test_transient_lambda_errors_are_retried(run_selfcheck):
    probe = uuid.uuid4().hex
    described = run_selfcheck("hiccups_once", {"probeId": probe})
    assert described["status"] == "SUCCEEDED"
    assert _attempts[probe] == 2

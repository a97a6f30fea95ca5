"""The preview state machine's control flow, run by moto against stand-in workers.

The happy path, DELETE and expiry run with the real workers over HTTP in
tests/integration/test_previews_api.py; here the workers are replaced (same function names, so
the same ASL and ARNs) by functions that fail the ways the definition must handle: a preview
that answers only after a few tries (PreviewNotReady is retried), one that never will
(PreviewFailed is caught and recorded by the teardown with its message), and a teardown-only
execution (what DELETE starts).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from kiln.clock import iso
from kiln.domain.previews import PreviewFailed, PreviewNotReady
from kiln.routes import WORKFLOWS
from local.aws import AwsEmulator, LocalFunction
from local.constants import function_name
from local.provision import state_machine_definition

HERE = __name__
PREVIEW = next(w for w in WORKFLOWS if w.name == "preview")
calls: dict[str, list[tuple[str, dict]]] = defaultdict(list)


def create(event, context):
    calls[event["deploymentId"]].append(("create", event))
    return {"url": f"http://127.0.0.1:9/{event['deploymentId']}", "status": "deploying"}


def wait_ready_third_time(event, context):
    calls[event["deploymentId"]].append(("wait", event))
    if sum(1 for name, _ in calls[event["deploymentId"]] if name == "wait") < 3:
        raise PreviewNotReady("the preview does not answer yet: connection refused")
    return {"status": "live"}


def wait_fails(event, context):
    calls[event["deploymentId"]].append(("wait", event))
    raise PreviewFailed("the preview process exited with 1:\nImportError: app.routes.task")


def teardown(event, context):
    calls[event["deploymentId"]].append(("teardown", event))
    return {"status": "stopped"}


@pytest.fixture
def run_preview(monkeypatch):
    """Runs the preview workflow with its wait step replaced by a function of this module."""
    from moto.core.config import default_user_config

    emulators: list[AwsEmulator] = []
    saved = dict(default_user_config["stepfunctions"])

    def run(wait: str, payload: dict) -> dict:
        handlers = {"CreateFunctionArn": "create", "WaitFunctionArn": wait, "TeardownFunctionArn": "teardown"}
        functions = {
            function_name(worker): LocalFunction(function_name(worker), f"{HERE}.{handlers[placeholder]}")
            for placeholder, worker in PREVIEW.functions.items()
        }
        aws = AwsEmulator(functions=functions)
        emulators.append(aws)
        aws.start()
        monkeypatch.setenv("MOTO_PORT", str(aws.port))
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=aws.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        machine = sfn.create_state_machine(
            name=f"preview-{uuid.uuid4().hex[:8]}",
            definition=state_machine_definition(PREVIEW.asl_file, PREVIEW.functions),
            roleArn="arn:aws:iam::123456789012:role/preview",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise AssertionError("the execution did not finish in 30 s")

    yield run
    for aws in emulators:
        aws.stop()
    default_user_config["stepfunctions"].clear()
    default_user_config["stepfunctions"].update(saved)


def _payload(action: str = "deploy", expires_in: float = 1.0) -> dict:
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=expires_in)
    return {
        "action": action,
        "workspaceId": "ws_1",
        "projectId": "proj_1",
        "deploymentId": f"dep_{uuid.uuid4().hex[:8]}",
        "runId": "run_1",
        "provider": "local",
        "expiresAt": iso(expires),
        "commit": "0" * 40,
    }


def test_not_ready_is_retried_until_live_then_torn_down_as_expired(run_preview):
    payload = _payload(expires_in=2)
    described = run_preview("wait_ready_third_time", payload)
    assert described["status"] == "SUCCEEDED", described
    steps = calls[payload["deploymentId"]]
    assert [name for name, _ in steps] == ["create", "wait", "wait", "wait", "teardown"]
    assert steps[1][1]["url"] == f"http://127.0.0.1:9/{payload['deploymentId']}"
    assert steps[-1][1]["reason"] == "expired" and "error" not in steps[-1][1]


def test_a_preview_that_fails_is_torn_down_with_its_reason(run_preview):
    payload = _payload(expires_in=600)
    described = run_preview("wait_fails", payload)
    assert described["status"] == "SUCCEEDED", described  # the failure is recorded, not raised
    steps = calls[payload["deploymentId"]]
    assert [name for name, _ in steps] == ["create", "wait", "teardown"]
    final = steps[-1][1]
    assert final["reason"] == "failed" and final["error"]["Error"] == "PreviewFailed"
    assert "ImportError: app.routes.task" in json.loads(final["error"]["Cause"])["errorMessage"]


def test_a_teardown_execution_only_tears_down(run_preview):
    payload = _payload(action="teardown", expires_in=600)
    described = run_preview("wait_fails", payload)
    assert described["status"] == "SUCCEEDED", described
    [(name, event)] = calls[payload["deploymentId"]]
    assert name == "teardown" and event["reason"] == "deleted"

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
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from kiln.clock import iso
from kiln.domain.previews import PreviewFailed, PreviewNotReady
from kiln.routes import WORKFLOWS
from local.aws import AwsEmulator
from tests.local.state_machines import emulator, finished, interpreting_state_machines, state_machine

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
    emulators: list[AwsEmulator] = []

    def run(wait: str, payload: dict) -> dict:
        handlers = {"CreateFunctionArn": "create", "WaitFunctionArn": wait, "TeardownFunctionArn": "teardown"}
        aws = emulator(PREVIEW, {placeholder: f"{HERE}.{handler}" for placeholder, handler in handlers.items()})
        emulators.append(aws)
        monkeypatch.setenv("MOTO_PORT", str(aws.port))
        sfn, machine = state_machine(aws, PREVIEW)
        execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
        return finished(sfn, execution, 30)

    with interpreting_state_machines():
        yield run
        for aws in emulators:
            aws.stop()


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

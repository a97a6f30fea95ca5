"""Step Functions adapter: starting and describing Kiln's workflows."""

from __future__ import annotations

import json
from typing import Any

from kiln import config
from kiln.adapters.aws import client


def state_machine_arn(workflow: str) -> str:
    arns = config.state_machine_arns()
    if workflow not in arns:
        raise RuntimeError(f"workflow {workflow!r} is not configured (KILN_STATE_MACHINES)")
    return arns[workflow]


def start(workflow: str, name: str, payload: dict[str, Any]) -> str:
    """Start an execution; `name` makes the start idempotent (AWS refuses a second one)."""
    response = client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn(workflow), name=name, input=json.dumps(payload)
    )
    return response["executionArn"]


def describe_state_machines() -> dict[str, str]:
    """Workflow name -> status of its state machine (health check)."""
    sfn = client("stepfunctions")
    return {
        name: sfn.describe_state_machine(stateMachineArn=arn).get("status", "ACTIVE")
        for name, arn in config.state_machine_arns().items()
    }

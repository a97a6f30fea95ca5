"""Step Functions adapter: Kiln's workflows as the functions see them."""

from __future__ import annotations

from kiln import config
from kiln.adapters.aws import client


def describe_state_machines() -> dict[str, str]:
    """Workflow name -> status of its state machine (health check)."""
    sfn = client("stepfunctions")
    return {
        name: sfn.describe_state_machine(stateMachineArn=arn).get("status", "ACTIVE")
        for name, arn in config.state_machine_arns().items()
    }

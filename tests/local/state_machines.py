"""Running one of Kiln's state machines in an emulator whose workers are stand-ins of a test.

Each test module of a workflow's control flow replaces the workers (same function names, so the
same ASL and ARNs) with functions of its own, starts an AwsEmulator that really interprets the
definition, and waits for executions to finish.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3

from kiln.routes import Workflow
from local.aws import AwsEmulator, LocalFunction
from local.constants import function_name
from local.provision import state_machine_definition


@contextmanager
def interpreting_state_machines() -> Iterator[None]:
    """moto's Step Functions running executions (AwsEmulator turns it on), set back afterwards."""
    from moto.core.config import default_user_config

    saved = dict(default_user_config["stepfunctions"])
    try:
        yield
    finally:
        default_user_config["stepfunctions"].clear()
        default_user_config["stepfunctions"].update(saved)


def emulator(workflow: Workflow, stand_ins: Mapping[str, str]) -> AwsEmulator:
    """A started emulator whose worker for each ASL placeholder is `stand_ins[placeholder]` (a
    dotted handler reference)."""
    functions = {
        function_name(worker): LocalFunction(function_name(worker), stand_ins[placeholder])
        for placeholder, worker in workflow.functions.items()
    }
    aws = AwsEmulator(functions=functions)
    aws.start()
    return aws


def state_machine(aws: AwsEmulator, workflow: Workflow) -> tuple[Any, str]:
    """A Step Functions client of the emulator and a new state machine of `workflow` in it."""
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=aws.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    machine = sfn.create_state_machine(
        name=f"{workflow.name}-{uuid.uuid4().hex[:8]}",
        definition=state_machine_definition(workflow.asl_file, workflow.functions),
        roleArn=f"arn:aws:iam::123456789012:role/{workflow.name}",
    )["stateMachineArn"]
    return sfn, machine


def finished(sfn: Any, execution_arn: str, seconds: float) -> dict[str, Any]:
    """The execution's description once it is no longer RUNNING."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"the execution did not finish in {seconds:g} s")

"""Step Functions adapter: Kiln's workflows as the functions see them."""

from __future__ import annotations

import json
from typing import Any

from kiln import config
from kiln.adapters.aws import client


def describe_state_machines() -> dict[str, str]:
    """Workflow name -> status of its state machine (health check)."""
    sfn = client("stepfunctions")
    return {
        name: sfn.describe_state_machine(stateMachineArn=arn).get("status", "ACTIVE")
        for name, arn in config.state_machine_arns().items()
    }


BUILD_WORKFLOW = "build"
ARCHIVE_WORKFLOW = "archive"
PREVIEW_WORKFLOW = "preview"


def _execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:<region>:<account>:stateMachine:<machine> -> ...:execution:<machine>:<name>
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


class _Workflow:
    name = ""

    def __init__(self, state_machine_arn: str | None = None) -> None:
        self._arn = state_machine_arn

    @property
    def arn(self) -> str:
        if self._arn is None:
            arns = config.state_machine_arns()
            if self.name not in arns:
                raise RuntimeError(f"{config.STATE_MACHINES} has no {self.name} workflow")
            self._arn = arns[self.name]
        return self._arn

    def _start(self, execution_name: str, payload: dict[str, Any]) -> None:
        sfn = client("stepfunctions")
        try:
            sfn.start_execution(stateMachineArn=self.arn, name=execution_name, input=json.dumps(payload))
        except sfn.exceptions.ExecutionAlreadyExists:
            pass  # the name is the operation's id: a repeated start is the same execution


class ArchiveWorkflow(_Workflow):
    """kiln.domain.operations.ArchiveWorkflow on the `archive` state machine."""

    name = ARCHIVE_WORKFLOW

    def start(self, execution_name: str, payload: dict[str, Any]) -> None:
        self._start(execution_name, payload)


class BuildWorkflow(_Workflow):
    """kiln.domain.runs.WorkflowStarter on the `build` state machine."""

    name = BUILD_WORKFLOW

    def start(self, execution_name: str, payload: dict[str, Any]) -> None:
        self._start(execution_name, {**payload, "taskConcurrency": config.build_task_concurrency()})

    def stop(self, execution_name: str, cause: str) -> None:
        sfn = client("stepfunctions")
        try:
            sfn.stop_execution(executionArn=_execution_arn(self.arn, execution_name), cause=cause[:32_000])
        except sfn.exceptions.ExecutionDoesNotExist:
            pass  # never started, or already gone: nothing to stop


class PreviewWorkflow(_Workflow):
    """kiln.domain.previews.PreviewWorkflow on the `preview` state machine."""

    name = PREVIEW_WORKFLOW

    def start(self, execution_name: str, payload: dict[str, Any]) -> None:
        self._start(execution_name, payload)

    def stop(self, execution_name: str, cause: str) -> None:
        sfn = client("stepfunctions")
        try:
            sfn.stop_execution(executionArn=_execution_arn(self.arn, execution_name), cause=cause[:32_000])
        except sfn.exceptions.ExecutionDoesNotExist:
            pass  # never started, or already gone: nothing to stop

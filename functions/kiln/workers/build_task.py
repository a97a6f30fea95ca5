"""Build workflow worker: implements one task on its branch (BuildSteps.execute_task)."""

from __future__ import annotations

from typing import Any

from kiln import config, services
from kiln.domain.build_steps import RunRef

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return services.current().build_steps.execute_task(RunRef.of(event), str(event["taskId"]))

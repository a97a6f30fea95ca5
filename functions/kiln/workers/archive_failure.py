"""Archive workflow worker: the Catch of every step; records the failure and cleans up."""

from __future__ import annotations

from typing import Any

from kiln import config, services

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return services.current().archive_steps.record_failure(
        str(event["workspaceId"]), str(event["operationId"]), event.get("error")
    )

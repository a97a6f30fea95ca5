"""Archive workflow worker: runs one export operation (kiln.domain.archive_steps)."""

from __future__ import annotations

from typing import Any

from kiln import services


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return services.archive_steps().run_export(str(event["workspaceId"]), str(event["operationId"]))

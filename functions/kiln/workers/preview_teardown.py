"""Preview workflow worker: removes a preview and records why it ended (expired, deleted, failed)."""

from __future__ import annotations

from typing import Any

from kiln import config, services
from kiln.domain.previews import PreviewRef

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    error = event.get("error")
    return services.current().preview_steps.teardown(
        PreviewRef.of(event), str(event.get("reason") or "expired"), error if isinstance(error, dict) else None
    )

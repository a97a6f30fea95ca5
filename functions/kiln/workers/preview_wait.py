"""Preview workflow worker: `live` once the preview's URL answers.

Raises PreviewNotReady while it does not (the workflow's Retry waits and calls again) and
PreviewFailed when it never will (the workflow records the failure with its reason).
"""

from __future__ import annotations

from typing import Any

from kiln import config, services
from kiln.domain.previews import PreviewRef

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    url = event.get("url")
    return services.current().preview_steps.wait(PreviewRef.of(event), str(url) if url else None)

"""Preview workflow worker: deploys a run's generated service with its provider, answering its URL."""

from __future__ import annotations

from typing import Any

from kiln import config, services
from kiln.domain.previews import PreviewRef

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return services.current().preview_steps.create(PreviewRef.of(event), str(event["commit"]))

"""Build workflow worker: the verify step (kiln.domain.build_steps.BuildSteps.verify)."""

from __future__ import annotations

from typing import Any

from kiln import services
from kiln.domain.build_steps import RunRef


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return services.build_steps().verify(RunRef.of(event))

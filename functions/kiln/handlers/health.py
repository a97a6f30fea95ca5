"""GET /health: not enveloped; {status, version, components{database, storage, workflows}}.

Public, so each container probes its dependencies at most every few seconds: a flood of
health checks cannot turn into a flood of AWS calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from kiln import VERSION, config
from kiln.envelope import JSON_CONTENT_TYPE
from kiln.http import cors
from kiln.http.contract import Answer, Contract, described

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable

CACHE_SECONDS = 5.0
_cache: dict[str, Any] = {"at": -CACHE_SECONDS, "components": {}}


def _probe(check: Callable[[], Any]) -> str:
    try:
        check()
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means the component is not healthy
        return "unavailable"


def _components() -> dict[str, str]:
    from kiln.adapters import s3, stepfunctions
    from kiln.adapters.dynamodb import items as dynamodb

    return {
        "database": _probe(dynamodb.describe_table),
        "storage": _probe(s3.head_bucket),
        "workflows": _probe(stepfunctions.describe_state_machines),
    }


@described(
    Contract(
        answers=(
            # Named, not imported: this function loads no pydantic (a test checks its answers against the model).
            Answer(
                200, "Every component answers.", "kiln.domain.views:HealthStatus", "raw", headers=("Cache-Control",)
            ),
            Answer(
                503,
                "A component is unavailable (the body says which).",
                "kiln.domain.views:HealthStatus",
                "raw",
                headers=("Cache-Control",),
            ),
        )
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    now = time.monotonic()
    if now - _cache["at"] >= CACHE_SECONDS:
        _cache.update(at=now, components=_components())
    components = _cache["components"]
    healthy = all(state == "ok" for state in components.values())
    body = {"status": "ok" if healthy else "degraded", "version": VERSION, "components": components}
    request_id = (event.get("requestContext") or {}).get("requestId", "unknown")
    return cors.apply(
        {
            "statusCode": 200 if healthy else 503,
            "headers": {"Content-Type": JSON_CONTENT_TYPE, "X-Request-Id": request_id, "Cache-Control": "no-store"},
            "body": json.dumps(body),
            "isBase64Encoded": False,
        },
        cors.request_origin(event),
    )

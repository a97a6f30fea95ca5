"""Self-check worker of the `selfcheck` workflow: proves the deployed wiring end to end.

Writes a probe item to DynamoDB and a probe object to S3, reads both back, and reports each
check. Probes expire on their own (table TTL, bucket lifecycle on tmp/).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from kiln import config
from kiln.adapters import s3
from kiln.adapters.dynamodb.probes import Probes

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable

PROBE_TTL_SECONDS = 3600


def _check(name: str, run: Callable[[], str]) -> dict[str, Any]:
    try:
        return {"name": name, "passed": True, "output": run()}
    except Exception as error:  # noqa: BLE001 - a failed check is reported, not raised
        return {"name": name, "passed": False, "output": f"{type(error).__name__}: {error}"}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    probe_id = str(event.get("probeId") or secrets.token_hex(8))
    payload = json.dumps({"probeId": probe_id, "at": time.time()})

    def database() -> str:
        Probes().write(probe_id, payload, int(time.time()) + PROBE_TTL_SECONDS)
        if Probes().read(probe_id) != payload:
            raise AssertionError("probe item read back differs")
        return f"wrote and read PROBE#{probe_id}"

    def storage() -> str:
        key = f"tmp/selfcheck/{probe_id}.json"
        s3.put_object(key, payload.encode(), "application/json")
        if s3.get_object(key) != payload.encode():
            raise AssertionError("probe object read back differs")
        return f"wrote and read s3://.../{key}"

    checks = [_check("database", database), _check("storage", storage)]
    return {"probeId": probe_id, "passed": all(c["passed"] for c in checks), "checks": checks}

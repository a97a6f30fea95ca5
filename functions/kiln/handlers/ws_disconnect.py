"""WebSocket `$disconnect`: forget the connection and its subscriptions.

API Gateway sends it best-effort: a connection it never reports is forgotten on the first 410
a post gets (kiln.domain.live) or by TTL once a connection could no longer be open.
"""

from __future__ import annotations

from typing import Any

from kiln import config, services

config.load(config.LiveSettings)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    services.current().live.disconnect(event["requestContext"]["connectionId"])
    return {"statusCode": 200}

"""WebSocket `$default`: one client message (auth, subscribe, unsubscribe), answered on the connection.

Answers go through the management API (PostToConnection), never in this function's response:
the fan-out posts events the same way, and one path keeps them in order.
"""

from __future__ import annotations

import base64
from typing import Any

from kiln import config, services
from kiln.http.api import path_allowed

config.load(config.LiveSettings)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    services.current().live.receive(event["requestContext"]["connectionId"], body, path_allowed)
    return {"statusCode": 200}

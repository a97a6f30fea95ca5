"""WebSocket `$connect`: record the connection; with credentials, authenticate it at once.

Credentials are optional here (a `token` query parameter, or `Authorization: Bearer` from a
client that can set headers); a connection without them authenticates with its first message.
Credentials that do not authenticate refuse the upgrade with 401, the only answer API Gateway
relays to the client on $connect.
"""

from __future__ import annotations

from typing import Any

from kiln import config, services

config.load(config.LiveSettings)  # the cold start fails on a missing or malformed variable


def _token(event: dict[str, Any]) -> str | None:
    query = event.get("queryStringParameters") or {}
    if query.get("token"):
        return str(query["token"]).strip() or None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip() or None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    if not services.current().live.connect(connection_id, _token(event)):
        return {"statusCode": 401, "body": "Unauthorized"}
    return {"statusCode": 200}

"""GET /.well-known/jwks.json: the public keys access tokens are verified with (RFC 7517).

Not enveloped, public, no pydantic. The key set is read from Secrets Manager at most once per
SERVER_CACHE_SECONDS per container, and clients may cache the answer JWKS_MAX_AGE_SECONDS:
together the PUBLISH_LEAD_SECONDS a new key is published before it signs (kiln.domain.tokens).
"""

from __future__ import annotations

import json
import time
from typing import Any

from kiln import config
from kiln.domain import tokens
from kiln.envelope import JSON_CONTENT_TYPE
from kiln.http import cors
from kiln.http.contract import Answer, Contract, described

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable

CACHE_CONTROL = f"public, max-age={tokens.JWKS_MAX_AGE_SECONDS}"
_cache: dict[str, Any] = {"at": -tokens.SERVER_CACHE_SECONDS, "body": ""}


def _published() -> str:
    from kiln.adapters import secrets

    return json.dumps(tokens.KeySet.from_json(secrets.signing_keys()).jwks())


@described(
    Contract(
        answers=(
            Answer(
                200,
                "The published keys, next, current and retiring.",
                "kiln.domain.oauth_views:JsonWebKeySet",
                "raw",
                headers=("Cache-Control",),
            ),
        )
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    now = time.monotonic()
    if now - _cache["at"] >= tokens.SERVER_CACHE_SECONDS:
        _cache.update(at=now, body=_published())
    request_id = (event.get("requestContext") or {}).get("requestId", "unknown")
    return cors.apply(
        {
            "statusCode": 200,
            "headers": {"Content-Type": JSON_CONTENT_TYPE, "X-Request-Id": request_id, "Cache-Control": CACHE_CONTROL},
            "body": _cache["body"],
            "isBase64Encoded": False,
        },
        cors.request_origin(event),
    )

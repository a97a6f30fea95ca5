"""The form-encoded OAuth endpoints' own request parsing and answers (RFC 6749 section 5.2).

/oauth/token and /oauth/revoke do not run through the shared pipeline: their errors are RFC 6749
JSON (`{"error", "error_description"}`), never the envelope, so nothing of the pipeline (JSON body
validation, idempotent replay of an answer holding tokens) may answer for them. No pydantic.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from kiln.domain.oauth import OAuthError
from kiln.envelope import JSON_CONTENT_TYPE
from kiln.http import cors

logger = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024
# Token answers hold credentials: never cached (RFC 6749 section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _header(event: dict[str, Any], name: str) -> str:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and isinstance(value, str):
            return value
    return ""


def form(event: dict[str, Any]) -> dict[str, str]:
    """The form's parameters; invalid_request for another media type, an oversized or malformed
    body, or a parameter sent twice (RFC 6749 section 3.2: parameters MUST NOT repeat)."""
    media = _header(event, "content-type").split(";")[0].strip().lower()
    if media != FORM:
        raise OAuthError("invalid_request", f"Send the parameters as {FORM}.")
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    if len(raw) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "The request body is too large.")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The body is not a valid form.") from None
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise OAuthError("invalid_request", f"{name} is repeated.")
        values[name] = value
    return values


def required(values: dict[str, str], *names: str) -> tuple[str, ...]:
    missing = [name for name in names if not values.get(name)]
    if missing:
        raise OAuthError("invalid_request", f"Missing parameter: {', '.join(missing)}.")
    return tuple(values[name] for name in names)


def answer(event: dict[str, Any], status: int, body: dict[str, Any] | None, headers: dict[str, str]) -> dict[str, Any]:
    request_id = (event.get("requestContext") or {}).get("requestId", "unknown")
    typed = {"Content-Type": JSON_CONTENT_TYPE} if body is not None else {}
    proxy = {
        "statusCode": status,
        "headers": {**typed, "X-Request-Id": request_id, **NO_STORE, **headers},
        "body": json.dumps(body) if body is not None else "",
        "isBase64Encoded": False,
    }
    return cors.apply(proxy, cors.request_origin(event))


def serve(event: dict[str, Any], work: Callable[[dict[str, str]], dict[str, Any] | None]) -> dict[str, Any]:
    """Run `work` on the form; its dict is a 200 JSON body (None: an empty 200). OAuthError and
    any failure become RFC 6749 error JSON; a failure's details go to the log only."""
    try:
        return answer(event, 200, work(form(event)), {})
    except OAuthError as error:
        return answer(event, error.status, error.body(), {})
    except Exception:
        logger.exception("oauth endpoint failed")
        return answer(
            event,
            500,
            {"error": "server_error", "error_description": "The server could not answer; try again."},
            {},
        )

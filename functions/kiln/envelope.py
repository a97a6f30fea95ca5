"""The response envelope and the error catalog (CONTRACT sections 1-2), in one module.

Every layer that answers a client (handlers, the authorizer's gateway responses, the local
API Gateway emulator, the OpenAPI generator) builds its bodies from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    title: str  # default message
    description: str  # when it happens (docs/errors.md)


class ErrorCode(str, Enum):
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    INVALID_ARCHIVE = "INVALID_ARCHIVE"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    USAGE_LIMIT_EXCEEDED = "USAGE_LIMIT_EXCEEDED"
    CONCURRENCY_LIMIT_EXCEEDED = "CONCURRENCY_LIMIT_EXCEEDED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"

    @property
    def spec(self) -> ErrorSpec:
        return CATALOG[self]

    @property
    def status(self) -> int:
        return CATALOG[self].status


CATALOG: dict[ErrorCode, ErrorSpec] = {
    ErrorCode.UNAUTHORIZED: ErrorSpec(
        401, "Missing or invalid credentials.", "missing, malformed, expired or revoked credentials"
    ),
    ErrorCode.FORBIDDEN: ErrorSpec(
        403, "The credentials lack a required scope.", "authenticated but lacking the scope"
    ),
    ErrorCode.NOT_FOUND: ErrorSpec(404, "The resource does not exist.", "the resource does not exist for this caller"),
    ErrorCode.ENDPOINT_NOT_FOUND: ErrorSpec(
        404, "No such endpoint.", "no such route, or the route is outside the key's path allow-list"
    ),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorSpec(
        405, "Method not allowed on this endpoint.", "the route exists but not with this method"
    ),
    ErrorCode.VALIDATION_ERROR: ErrorSpec(400, "The request is invalid.", "bad body, query or path"),
    ErrorCode.CONFLICT: ErrorSpec(
        409, "The request conflicts with the resource's current state.", "illegal state transition"
    ),
    ErrorCode.IDEMPOTENCY_KEY_IN_USE: ErrorSpec(
        409, "A request with this Idempotency-Key is still in flight.", "same Idempotency-Key still in flight"
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: ErrorSpec(
        422, "This Idempotency-Key was used with a different request.", "same Idempotency-Key, different request"
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: ErrorSpec(413, "The request body is too large.", "body or archive over its limit"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorSpec(415, "Unsupported Content-Type.", "wrong Content-Type"),
    ErrorCode.INVALID_ARCHIVE: ErrorSpec(422, "The archive was rejected.", "archive rejected"),
    ErrorCode.TOO_MANY_REQUESTS: ErrorSpec(429, "Too many requests.", "gateway throttle (per-key token bucket)"),
    ErrorCode.RATE_LIMIT_EXCEEDED: ErrorSpec(429, "Rate limit exceeded.", "per-category window exceeded"),
    ErrorCode.USAGE_LIMIT_EXCEEDED: ErrorSpec(429, "Usage quota exhausted.", "daily or annual quota exhausted"),
    ErrorCode.CONCURRENCY_LIMIT_EXCEEDED: ErrorSpec(
        429, "Concurrent build limit reached.", "tier's concurrent-build limit reached"
    ),
    ErrorCode.INTERNAL_ERROR: ErrorSpec(500, "Internal error.", "a bug; the request id is in details"),
    ErrorCode.SERVICE_UNAVAILABLE: ErrorSpec(
        503, "A dependency is unavailable; retry later.", "a dependency is down or throttling"
    ),
}


class KilnError(Exception):
    """An error the client should see, with its catalog code, details and extra headers."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message or code.spec.title
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(f"{code.value}: {self.message}")

    @property
    def status(self) -> int:
        return self.code.status


def validation_error(fields: list[dict[str, Any]], message: str | None = None) -> KilnError:
    """VALIDATION_ERROR with `details.fields` = [{field, location, message}]."""
    return KilnError(ErrorCode.VALIDATION_ERROR, message or "The request is invalid.", {"fields": fields})


def not_found(resource: str, resource_id: str) -> KilnError:
    return KilnError(
        ErrorCode.NOT_FOUND, f"{resource.capitalize()} not found.", {"resource": resource, "id": resource_id}
    )


def success_body(data: Any, pagination: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "data": data}
    if pagination is not None:
        body["pagination"] = pagination
    return body


def error_body(code: ErrorCode, message: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "success": False,
        "data": None,
        "error": {"code": code.value, "message": message or code.spec.title, "details": details or {}},
    }


def dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def error_headers(code: ErrorCode, scope: str | None = None) -> dict[str, str]:
    """Headers the catalog requires with some codes (RFC 6750 challenges)."""
    if code is ErrorCode.UNAUTHORIZED:
        return {"WWW-Authenticate": 'Bearer realm="kiln"'}
    if code is ErrorCode.FORBIDDEN and scope:
        return {"WWW-Authenticate": f'Bearer realm="kiln", error="insufficient_scope", scope="{scope}"'}
    return {}

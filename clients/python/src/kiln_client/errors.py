"""Typed exceptions: every API error carries the catalog code, the HTTP status, the request id
and the machine-readable details, so callers dispatch on `code` rather than on messages."""

from __future__ import annotations

from typing import Any


class KilnError(Exception):
    """Base of every exception the SDK raises."""


class ConfigurationError(KilnError):
    """No API key, or a malformed base URL: nothing was sent."""


class KilnConnectionError(KilnError):
    """The server could not be reached (after the retries)."""


class WaitTimeout(KilnError):
    """A waiter gave up before the run or operation finished."""


class APIError(KilnError):
    """An error envelope answered by the API."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.request_id = request_id


class BadRequestError(APIError):
    """400: the request is invalid (`details.fields` names each problem)."""


class AuthenticationError(APIError):
    """401: missing, expired or revoked credentials."""


class PermissionDeniedError(APIError):
    """403: the credentials lack a scope."""


class NotFoundError(APIError):
    """404: no such resource (or endpoint) for these credentials."""


class ConflictError(APIError):
    """409: the resource's state does not allow it (or the Idempotency-Key is in flight)."""


class UnprocessableError(APIError):
    """422: an archive was rejected, or an Idempotency-Key was reused for another request."""


class RateLimitError(APIError):
    """429: throttled or over a quota (after the retries)."""


class ServerError(APIError):
    """5xx: the service failed or is unavailable (after the retries)."""


class OperationFailedError(APIError):
    """An asynchronous operation (export, import, conversion) ended in failure: the error a
    synchronous call would have answered."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableError,
    429: RateLimitError,
}


def error_for(status: int, body: Any, request_id: str | None) -> APIError:
    """The typed exception for an error answer (the envelope, or whatever came instead)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "UNKNOWN")
        message = str(error.get("message") or "")
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
    else:  # not Kiln's envelope (a proxy in between): keep what there is
        code, message, details = "UNKNOWN", f"HTTP {status} without an error envelope", {}
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    return cls(status, code, message, details, request_id)

"""API Gateway's own error answers rewritten into Kiln's error envelope.

Requests that never reach a Kiln function (bad credentials, throttling, unknown paths, ...) get
a body and status built from kiln.envelope's catalog, exactly like handler errors. The table
below is the whole mapping; `templates()` renders it and the tests read it.

Gateway response templates are not run through VTL: `$context.*` variables are substituted,
directives (#if) are not, so every type needs its code decided here, statically. The local
gateway (local/gateway.py) renders its own refusals from this same table.

With CORS origins configured, every gateway response carries `Vary: Origin`, the exposed headers
and an `Access-Control-Allow-Origin` that cannot be conditional: the one origin when the list
is one plain origin, else the request's own Origin (kiln.http.cors.CorsPolicy.gateway_headers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kiln.envelope import JSON_CONTENT_TYPE, ErrorCode, dumps, error_body, error_headers
from kiln.http.cors import EXPOSED_HEADERS, CorsPolicy

REQUEST_ID = "$context.requestId"
# API Gateway's own message, already JSON-quoted (used where the type does not fix the cause).
GATEWAY_MESSAGE = "$context.error.messageString"
_MESSAGE_SENTINEL = "@@gateway-message@@"
# A gateway response header copied from the request (no quotes), rather than a static value.
REQUEST_ORIGIN = "method.request.header.Origin"
# API Gateway takes a few seconds to make a new API key (or a key's new plan) usable.
PROVISIONING_RETRY_SECONDS = 2


@dataclass(frozen=True)
class GatewayMapping:
    response_type: str  # API Gateway ResponseType
    code: ErrorCode
    keep_status: bool = False  # True: answer with API Gateway's status instead of the code's
    gateway_message: bool = False  # True: the message is API Gateway's own, not the catalog title
    message: str | None = None  # replaces the catalog title where the title would mislead
    retry_after: int | None = None  # a static Retry-After, seconds (503s: when to try again)
    why: str = ""

    @property
    def status(self) -> int | None:
        return None if self.keep_status else self.code.status

    def static_headers(self) -> dict[str, str]:
        """The headers the type adds besides Content-Type and X-Request-Id, as plain values."""
        out = dict(error_headers(self.code))
        if self.retry_after is not None:
            out["Retry-After"] = str(self.retry_after)
        return out


MAPPINGS: tuple[GatewayMapping, ...] = (
    GatewayMapping(
        "UNAUTHORIZED", ErrorCode.UNAUTHORIZED, why="authorizer answered Unauthorized: no or malformed token"
    ),
    GatewayMapping(
        "ACCESS_DENIED",
        ErrorCode.UNAUTHORIZED,
        why="authorizer Deny: the authorizer only denies bad, expired or revoked credentials, so 401 not 403",
    ),
    GatewayMapping(
        "INVALID_API_KEY",
        ErrorCode.SERVICE_UNAVAILABLE,
        message="The credentials are valid but still being provisioned; retry in a few seconds.",
        retry_after=PROVISIONING_RETRY_SECONDS,
        why="checked after the authorizer accepted the credentials, on the workspace's usage key it "
        "returned: API Gateway has not propagated a key (or plan membership) created or moved a "
        "moment ago. Clients never send x-api-key, so nothing else produces it",
    ),
    GatewayMapping("EXPIRED_TOKEN", ErrorCode.UNAUTHORIZED, why="SigV4 credentials expired (not used by Kiln clients)"),
    GatewayMapping(
        "INVALID_SIGNATURE", ErrorCode.UNAUTHORIZED, why="SigV4 signature invalid (not used by Kiln clients)"
    ),
    GatewayMapping(
        "MISSING_AUTHENTICATION_TOKEN",
        ErrorCode.ENDPOINT_NOT_FOUND,
        why="what API Gateway answers for a path no resource matches",
    ),
    GatewayMapping("RESOURCE_NOT_FOUND", ErrorCode.ENDPOINT_NOT_FOUND, why="no such resource"),
    GatewayMapping("THROTTLED", ErrorCode.TOO_MANY_REQUESTS, why="usage plan or stage token bucket empty"),
    GatewayMapping("QUOTA_EXCEEDED", ErrorCode.USAGE_LIMIT_EXCEEDED, why="usage plan daily quota exhausted"),
    GatewayMapping("REQUEST_TOO_LARGE", ErrorCode.PAYLOAD_TOO_LARGE, why="body over API Gateway's 10 MB limit"),
    GatewayMapping("UNSUPPORTED_MEDIA_TYPE", ErrorCode.UNSUPPORTED_MEDIA_TYPE, why="no mapping for the Content-Type"),
    GatewayMapping(
        "BAD_REQUEST_BODY", ErrorCode.VALIDATION_ERROR, gateway_message=True, why="request validator rejected the body"
    ),
    GatewayMapping(
        "BAD_REQUEST_PARAMETERS",
        ErrorCode.VALIDATION_ERROR,
        gateway_message=True,
        why="request validator rejected a parameter",
    ),
    GatewayMapping(
        "WAF_FILTERED",
        ErrorCode.FORBIDDEN,
        message="The request was blocked by the web application firewall.",
        why="a web ACL blocked the request",
    ),
    GatewayMapping(
        "AUTHORIZER_FAILURE",
        ErrorCode.SERVICE_UNAVAILABLE,
        retry_after=1,
        why="the authorizer crashed or timed out: a dependency problem, retryable",
    ),
    GatewayMapping(
        "AUTHORIZER_CONFIGURATION_ERROR",
        ErrorCode.SERVICE_UNAVAILABLE,
        retry_after=1,
        why="the authorizer could not be invoked: a dependency problem, retryable",
    ),
    GatewayMapping(
        "INTEGRATION_FAILURE",
        ErrorCode.SERVICE_UNAVAILABLE,
        retry_after=1,
        why="the function could not be invoked (throttled, crashed on init): retryable",
    ),
    GatewayMapping(
        "INTEGRATION_TIMEOUT",
        ErrorCode.SERVICE_UNAVAILABLE,
        retry_after=1,
        why="the function did not answer within the 29 s integration timeout: retryable",
    ),
    GatewayMapping("API_CONFIGURATION_ERROR", ErrorCode.INTERNAL_ERROR, why="a deployment bug"),
    # Catch-alls for types AWS adds later. Every 4XX type documented today has its own entry
    # above, so DEFAULT_4XX only sees a refusal Kiln did not plan for: it keeps API Gateway's
    # status (clients dispatch on status first) and API Gateway's own message (which names the
    # cause), under FORBIDDEN, the catalog's code for "refused without touching the resource".
    # VALIDATION_ERROR would promise a `details.fields` list the gateway cannot provide.
    GatewayMapping(
        "DEFAULT_4XX", ErrorCode.FORBIDDEN, keep_status=True, gateway_message=True, why="unforeseen gateway refusal"
    ),
    GatewayMapping("DEFAULT_5XX", ErrorCode.INTERNAL_ERROR, keep_status=True, why="unforeseen gateway failure"),
)


def body(mapping: GatewayMapping) -> str:
    """The response template: the catalog envelope with the request id (and maybe the gateway's message)."""
    message = _MESSAGE_SENTINEL if mapping.gateway_message else mapping.message
    text = dumps(error_body(mapping.code, message, {"requestId": REQUEST_ID}))
    if mapping.gateway_message:
        text = text.replace(f'"{_MESSAGE_SENTINEL}"', GATEWAY_MESSAGE)
    for forbidden in ("#", "$!"):
        if forbidden in text.replace(REQUEST_ID, "").replace(GATEWAY_MESSAGE, ""):
            raise ValueError(f"{mapping.response_type}: template text must not contain {forbidden!r}")
    return text


def mapping(response_type: str) -> GatewayMapping:
    return next(m for m in MAPPINGS if m.response_type == response_type)


def cors_headers(origins: Sequence[str]) -> dict[str, str]:
    """The CORS headers of every gateway response, in API Gateway's syntax; none without origins."""
    policy = CorsPolicy(tuple(origins))
    if not policy.enabled:
        return {}
    return {
        "Vary": "'Origin'",
        "Access-Control-Allow-Origin": f"'{policy.gateway_origin}'" if policy.gateway_origin else REQUEST_ORIGIN,
        "Access-Control-Expose-Headers": f"'{', '.join(EXPOSED_HEADERS)}'",
    }


def headers(mapping: GatewayMapping, origins: Sequence[str] = ()) -> dict[str, str]:
    """Response headers as API Gateway expects them: static values in single quotes."""
    out = {
        "Content-Type": f"'{JSON_CONTENT_TYPE}'",
        "X-Request-Id": f"'{REQUEST_ID}'",
    }
    for name, value in mapping.static_headers().items():
        if "'" in value:
            raise ValueError(f"{mapping.response_type}: header {name} cannot contain a single quote")
        out[name] = f"'{value}'"
    out.update(cors_headers(origins))
    return out


def templates(origins: Sequence[str] = ()) -> dict[str, dict]:
    """response type -> {status, headers, body}; status None keeps API Gateway's."""
    return {
        m.response_type: {"status": m.status, "headers": headers(m, origins), "body": body(m), "code": m.code.value}
        for m in MAPPINGS
    }

"""The parsed API Gateway REST (v1) proxy event a handler works with."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from kiln.domain.principals import Principal
    from kiln.routes import Route

from kiln.envelope import ErrorCode, KilnError, validation_error

M = TypeVar("M", bound="BaseModel")

MAX_BODY_BYTES = 1024 * 1024  # JSON bodies (CONTRACT: 1 MiB); archive uploads have their own limit
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class Headers(dict):
    """Case-insensitive header lookup (keys stored lowercased)."""

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Headers:
        headers = cls()
        for name, values in (event.get("multiValueHeaders") or {}).items():
            if values:
                headers[name.lower()] = values[-1]
        for name, value in (event.get("headers") or {}).items():
            if value is not None:
                headers[name.lower()] = value
        return headers

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


def request_id_of(event: dict[str, Any], headers: Headers) -> str:
    """The client's X-Request-Id when it is sane, else API Gateway's request id."""
    supplied = headers.get("x-request-id")
    if supplied and _SANE_REQUEST_ID.match(supplied):
        return supplied
    return (event.get("requestContext") or {}).get("requestId") or "unknown"


def principal_of(event: dict[str, Any]) -> Principal | None:
    """The principal the authorizer put in the request context; nothing else is trusted."""
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    if not context:  # a public route's: no caller, and no reason to load the credential code
        return None
    from kiln.domain.principals import principal_from_context

    return principal_from_context(context)


def field_errors(error: ValidationError, location: str) -> list[dict[str, Any]]:
    """pydantic errors as `details.fields` entries: {field, location, message, type}."""
    fields = []
    for problem in error.errors(include_url=False):
        path = ".".join(str(part) for part in problem["loc"]) or "(body)"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown field"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        fields.append({"field": path, "location": location, "message": message, "type": problem["type"]})
    return fields


def _reject_constant(value: str) -> Any:
    raise ValueError(f"{value} is not valid JSON")


@dataclass
class Request:
    event: dict[str, Any]
    route: Route
    request_id: str
    headers: Headers
    principal: Principal | None
    path_params: dict[str, str] = field(default_factory=dict)
    # Waits until the request's limits admit it, raising their 429 or 503. The pipeline sets it
    # when the function runs while they are still being checked (kiln.http.api, `reads_first`):
    # a function that reads first calls it before it writes. Otherwise they already admitted it.
    admitted: Callable[[], object] = field(default=lambda: None, repr=False, compare=False)

    @property
    def workspace_id(self) -> str:
        assert self.principal is not None, "route is authorized, so the principal is set"
        return self.principal.workspace_id

    @property
    def path(self) -> str:
        return self.event.get("path") or self.route.path

    def raw_body(self) -> bytes:
        body = self.event.get("body")
        if body is None:
            return b""
        if self.event.get("isBase64Encoded"):
            return base64.b64decode(body)
        return body.encode()

    def query(self) -> dict[str, str]:
        """Query parameters; a parameter given twice is a validation error, not a silent pick."""
        multi = self.event.get("multiValueQueryStringParameters") or {}
        single = self.event.get("queryStringParameters") or {}
        repeated = [name for name, values in multi.items() if len(values) > 1]
        if repeated:
            raise validation_error(
                [
                    {"field": name, "location": "query", "message": "given more than once", "type": "repeated"}
                    for name in sorted(repeated)
                ]
            )
        return {name: (values[-1] if values else "") for name, values in multi.items()} or dict(single)

    def query_as(self, model: type[M]) -> M:
        from pydantic import ValidationError

        try:
            return model.model_validate(self.query())
        except ValidationError as error:
            raise validation_error(field_errors(error, "query")) from None

    def json(self) -> dict[str, Any]:
        raw = self.raw_body()
        if len(raw) > MAX_BODY_BYTES:
            raise KilnError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                "The request body is over 1 MiB.",
                {"limitBytes": MAX_BODY_BYTES, "receivedBytes": len(raw)},
            )
        content_type = (self.headers.get("content-type") or "").split(";")[0].strip().lower()
        if raw and content_type != "application/json":
            raise KilnError(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "Send the body as application/json.",
                {"contentType": content_type or None, "supported": ["application/json"]},
            )
        if not raw.strip():
            raise validation_error(
                [
                    {
                        "field": "(body)",
                        "location": "body",
                        "message": "a JSON object body is required",
                        "type": "missing",
                    }
                ]
            )
        try:
            data = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise validation_error(
                [{"field": "(body)", "location": "body", "message": f"malformed JSON: {error}", "type": "json_invalid"}]
            ) from None
        if not isinstance(data, dict):
            raise validation_error(
                [
                    {
                        "field": "(body)",
                        "location": "body",
                        "message": "the body must be a JSON object",
                        "type": "object_type",
                    }
                ]
            )
        return data

    def body_as(self, model: type[M], *, optional: bool = False) -> M:
        """The body validated as `model`; `optional`: an absent body means `{}` (all defaults)."""
        from pydantic import ValidationError

        try:
            if optional and not self.raw_body().strip():
                return model.model_validate({})
            return model.model_validate(self.json())
        except ValidationError as error:
            raise validation_error(field_errors(error, "body")) from None

    def path_id(self, name: str, kind: str) -> str:
        from kiln import ids  # here: a route with no path id (GET /, /mcp) does not load it (secrets, hmac)

        value = self.path_params.get(name, "")
        if not ids.is_valid(kind, value):
            raise validation_error(
                [
                    {
                        "field": name,
                        "location": "path",
                        "type": "id_format",
                        "message": f"not a {kind.replace('_', ' ')} id",
                    }
                ]
            )
        return value

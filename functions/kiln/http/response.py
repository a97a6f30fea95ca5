"""What a handler returns, and its translation to the API Gateway proxy response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiln.envelope import JSON_CONTENT_TYPE, dumps, success_body


def plain(value: Any) -> Any:
    """pydantic models (and lists of them) as JSON-ready values."""
    dump = getattr(value, "model_dump", None)  # a pydantic model; pydantic itself is not imported here
    if dump is not None:
        return dump(mode="json")
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-ready value; None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    enveloped: bool = True
    text: str | None = None  # a non-JSON body (Server-Sent Events), sent as is

    def to_proxy(self, request_id: str) -> dict[str, Any]:
        headers = {"X-Request-Id": request_id, **self.headers}
        payload = ""
        if self.text is not None:
            payload = self.text
        elif self.body is not None:
            headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
            payload = dumps(self.body)
        return {"statusCode": self.status, "headers": headers, "body": payload, "isBase64Encoded": False}


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, success_body(plain(data)), headers or {})


def listed(items: list[Any], pagination: dict[str, Any]) -> Response:
    return Response(200, success_body(plain(items), pagination))

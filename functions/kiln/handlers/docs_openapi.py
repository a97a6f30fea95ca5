"""GET /v1/openapi.json: the OpenAPI document, served as it is.

The build writes the document into the functions package it ships (kiln/openapi.json, by
`kiln.openapi.package` from infra/lambdas.py), so a deployed function only reads that file: no
pydantic, no generation, no pipeline, and its cold start is the interpreter's. Generating it
here instead would import every handler module and pydantic: about ten times the cost of the
read, measured on the development machine (0.3 s against 0.03 s). Where no build ran (the
local cloud and tests, which run from the source tree) the document is generated once per
process from the declarations. Public, like /health.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from kiln.http import cors
from kiln.http.contract import Answer, Contract, described

DOCUMENT = Path(__file__).resolve().parent.parent / "openapi.json"
CACHE_CONTROL = "public, max-age=300"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # as kiln.http.request, without its imports


def request_id(event: dict[str, Any]) -> str:
    """The client's X-Request-Id when it is sane, else API Gateway's request id."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "x-request-id" and isinstance(value, str) and _SANE_REQUEST_ID.match(value):
            return value
    return (event.get("requestContext") or {}).get("requestId") or "unknown"


@cache
def document() -> str:
    if DOCUMENT.is_file():
        return DOCUMENT.read_text(encoding="utf-8")
    from kiln import openapi  # the source tree: what the build would have written

    return openapi.render()


@described(
    Contract(
        answers=(Answer(200, "This document.", "kiln.domain.views:OpenApiDocument", "raw", headers=("Cache-Control",)),)
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return cors.apply(
        {
            "statusCode": 200,
            "headers": {
                "Content-Type": "application/json; charset=utf-8",
                "X-Request-Id": request_id(event),
                "Cache-Control": CACHE_CONTROL,
                "X-Content-Type-Options": "nosniff",
            },
            "body": document(),
            "isBase64Encoded": False,
        },
        cors.request_origin(event),
    )

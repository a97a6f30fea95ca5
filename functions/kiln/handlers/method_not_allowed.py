"""The ANY method of every resource: 405 METHOD_NOT_ALLOWED with the `Allow` header.

API Gateway prefers a resource's declared methods over ANY, so this only ever sees methods
the route table does not declare for the path, and never OPTIONS (every resource declares it: the
CORS preflight, infra/api.py).
"""

from __future__ import annotations

from typing import Any

from kiln.envelope import ErrorCode, KilnError
from kiln.http import cors
from kiln.http.api import error_response
from kiln.http.request import Headers, request_id_of
from kiln.routes import resources


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    request_id = request_id_of(event, Headers.from_event(event))
    resource = event.get("resource", "")
    allowed = sorted({route.method for route in resources().get(resource, [])})
    if not allowed:
        error = KilnError(ErrorCode.ENDPOINT_NOT_FOUND, "No such endpoint.", {"path": event.get("path")})
    else:
        error = KilnError(
            ErrorCode.METHOD_NOT_ALLOWED,
            f"{event.get('httpMethod')} is not allowed here.",
            {"method": event.get("httpMethod"), "allowed": allowed},
            headers={"Allow": ", ".join(allowed)},
        )
    return cors.apply(error_response(error, request_id), cors.request_origin(event))

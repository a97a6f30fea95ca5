"""GET /: what this service is and where its documentation lives.

Public, unmetered and the same for every caller, so it answers without the shared pipeline
(kiln.http.api): the pipeline would find no principal, no limit, no scope and no body to check
here, and loading it (the limiter, idempotency, the route table) was most of this function's
cold start. The answer is still the pipeline's: the envelope (kiln.http.response), the request
id and the CORS headers.
"""

from __future__ import annotations

from typing import Any

from kiln import SERVICE_NAME, VERSION, config
from kiln.http import cors
from kiln.http.contract import Answer, Contract, described
from kiln.http.request import Headers, request_id_of
from kiln.http.response import ok

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable, as every route's


def describe_service() -> dict[str, Any]:
    return {
        "name": SERVICE_NAME,
        "version": VERSION,
        "docs": config.docs_url(),
        "openapi": "/v1/openapi.json",
        "health": "/health",
    }


@described(
    Contract(
        answers=(
            # Named, not imported: this function's cold start stays free of pydantic (a test checks the
            # answer against the model).
            Answer(200, model="kiln.domain.views:ServiceInfo"),
        )
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    headers = Headers.from_event(event)
    proxy = ok(describe_service()).to_proxy(request_id_of(event, headers))
    return cors.apply(proxy, headers.get("origin"))

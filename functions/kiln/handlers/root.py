"""GET /: what this service is and where its documentation lives."""

from kiln import SERVICE_NAME, VERSION, config
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def describe_service(request: Request) -> Response:
    return ok(
        {
            "name": SERVICE_NAME,
            "version": VERSION,
            "docs": config.docs_url(),
            "openapi": "/v1/openapi.json",
            "health": "/health",
        }
    )


handler = endpoint(
    describe_service,
    Contract(
        answers=(
            # Named, not imported: this function's cold start stays free of pydantic (a test checks the
            # answer against the model).
            Answer(200, model="kiln.domain.views:ServiceInfo"),
        )
    ),
)

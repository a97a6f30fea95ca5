"""GET /v1/converter/status/{callbackId}: the deprecated RPC form of GET /v1/conversions/{callbackId}."""

from kiln.handlers.conversions_get import get_conversion
from kiln.http.api import endpoint
from kiln.http.deprecation import deprecation_headers
from kiln.http.request import Request
from kiln.http.response import Response


def get_conversion_legacy(request: Request) -> Response:
    successor = f"/v1/conversions/{request.path_params.get('callbackId', '')}"
    return get_conversion(request, deprecation_headers(successor))


handler = endpoint(get_conversion_legacy)

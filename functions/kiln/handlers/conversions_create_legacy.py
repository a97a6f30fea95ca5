"""POST /v1/converter/convert: the deprecated RPC form of POST /v1/conversions."""

from kiln.handlers.conversions_create import start_conversion
from kiln.http.api import endpoint
from kiln.http.deprecation import deprecation_headers
from kiln.http.request import Request
from kiln.http.response import Response


def start_conversion_legacy(request: Request) -> Response:
    return start_conversion(request, deprecation_headers("/v1/conversions"))


handler = endpoint(start_conversion_legacy)

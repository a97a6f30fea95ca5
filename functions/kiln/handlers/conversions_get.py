"""GET /v1/conversions/{callbackId}: a conversion's status, always 200 (strict: /v2/operations).

Also serves the deprecated GET /v1/converter/status/{callbackId} (kiln.routes: the pipeline
adds its deprecation headers).
"""

from kiln import services
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_conversion(request: Request) -> Response:
    callback_id = request.path_id("callbackId", "conversion")
    return ok(services.operations().get_conversion(request.workspace_id, callback_id))


handler = endpoint(get_conversion)

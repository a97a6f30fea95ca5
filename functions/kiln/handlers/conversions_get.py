"""GET /v1/conversions/{callbackId}: a conversion's status, always 200 (strict: /v2/operations)."""

from kiln import services
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_conversion(request: Request, headers: dict[str, str] | None = None) -> Response:
    callback_id = request.path_id("callbackId", "conversion")
    return ok(services.operations().get_conversion(request.workspace_id, callback_id), headers=headers)


handler = endpoint(get_conversion)

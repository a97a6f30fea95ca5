"""GET /v1/conversions/{callbackId}: a conversion's status, always 200 (strict: /v2/operations).

Also serves the deprecated GET /v1/converter/status/{callbackId} (kiln.routes: the pipeline
adds its deprecation headers).
"""

from kiln import services
from kiln.domain.operation_views import ConversionOperation
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_conversion(request: Request) -> Response:
    callback_id = request.path_id("callbackId", "conversion")
    conversion = services.current().operations.get_conversion(request.workspace_id, callback_id)
    return ok(ConversionOperation.model_validate(conversion))


handler = endpoint(
    get_conversion,
    Contract(
        path={"callbackId": ("conversion",)},
        answers=(Answer(200, "The conversion's status (always 200).", ConversionOperation),),
    ),
)

"""POST /v1/conversions: convert an uploaded archive to zip, tar.gz or kiln (202).

Also serves the deprecated POST /v1/converter/convert (kiln.routes: the pipeline adds its
deprecation headers).
"""

from kiln import services
from kiln.domain.operation_views import ConversionOperation
from kiln.domain.operations import ConversionCreate
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def start_conversion(request: Request, body: ConversionCreate) -> Response:
    operations = services.current().operations
    operation = operations.convert(request.workspace_id, body)
    view = ConversionOperation.model_validate(operations.view(operation))
    return ok(view, 202, {"Location": f"/v1/conversions/{operation.id}"})


handler = endpoint(
    start_conversion,
    Contract(
        body=ConversionCreate,
        answers=(
            Answer(
                202,
                "The conversion started; poll `GET /v1/conversions/{callbackId}` or `GET /v2/operations/{callbackId}`.",
                ConversionOperation,
                headers=("Location",),
            ),
        ),
        errors={409: (ErrorCode.CONFLICT,)},
        notes="An upload feeds one import or conversion: a used `uploadId` is refused with 409 `CONFLICT` "
        "(`details.reason: upload_consumed`).",
    ),
)

"""GET /v2/operations/{callbackId}: the strict status of any asynchronous operation.

202 with Retry-After while pending or running, 200 with the result on success, and on
failure the failure's own status and error code (for example 422 INVALID_ARCHIVE).
"""

from kiln import services
from kiln.domain.operation_views import AnyOperation
from kiln.domain.operations import RETRY_AFTER_SECONDS
from kiln.envelope import ErrorCode, KilnError
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok

_KINDS = ("run", "export", "import", "conversion")


def strict_status(request: Request) -> Response:
    callback_id = request.path_params["callbackId"]  # a run's, export's, import's or conversion's (checked)
    status = services.current().operations.strict_status(request.workspace_id, callback_id)
    if status.status == 202:
        return ok(AnyOperation.model_validate(status.body), 202, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if status.error is None:
        return ok(AnyOperation.model_validate(status.body), status.status)
    raise KilnError(
        ErrorCode(status.error.code), status.error.message, {**status.error.details, "operation": status.body}
    )


handler = endpoint(
    strict_status,
    Contract(
        path={"callbackId": _KINDS},
        answers=(
            Answer(200, "The operation succeeded.", AnyOperation),
            Answer(
                202,
                "The operation is pending or running: poll again after `Retry-After` seconds.",
                AnyOperation,
                headers=("Retry-After",),
            ),
        ),
        errors={
            400: (ErrorCode.VALIDATION_ERROR,),
            404: (ErrorCode.NOT_FOUND,),
            409: (ErrorCode.CONFLICT,),
            413: (ErrorCode.PAYLOAD_TOO_LARGE,),
            422: (ErrorCode.INVALID_ARCHIVE,),
        },
        notes="A failed operation answers its failure's own status and code, with the operation in "
        "`error.details.operation`.",
    ),
)

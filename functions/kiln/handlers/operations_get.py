"""GET /v2/operations/{callbackId}: the strict status of any asynchronous operation.

202 with Retry-After while pending or running, 200 with the result on success, and on
failure the failure's own status and error code (for example 422 INVALID_ARCHIVE).
"""

from kiln import services
from kiln.domain.operations import RETRY_AFTER_SECONDS
from kiln.envelope import ErrorCode, KilnError
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok

_KINDS = ("run", "export", "import", "conversion")


def strict_status(request: Request) -> Response:
    callback_id = request.path_params.get("callbackId", "")
    if not any(_valid(kind, callback_id) for kind in _KINDS):
        raise KilnError(ErrorCode.VALIDATION_ERROR, "Not an operation id.", {"fields": [
            {"field": "callbackId", "location": "path", "type": "id_format",
             "message": "not the callbackId of a run, export, import or conversion"}]})
    status = services.operations().strict_status(request.workspace_id, callback_id)
    if status.status == 202:
        return ok(status.body, 202, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if status.error is None:
        return ok(status.body, status.status)
    raise KilnError(ErrorCode(status.error.code), status.error.message,
                    {**status.error.details, "operation": status.body})


def _valid(kind: str, value: str) -> bool:
    from kiln import ids

    return ids.is_valid(kind, value)


handler = endpoint(strict_status)

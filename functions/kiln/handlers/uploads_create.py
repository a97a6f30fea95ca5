"""POST /v1/uploads: a presigned upload (S3 POST policy) bound to the archive's size and type."""

from kiln import services
from kiln.domain.operation_views import PresignedUpload
from kiln.domain.operations import UploadCreate
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def create_upload(request: Request, body: UploadCreate) -> Response:
    upload = services.current().operations.create_upload(request.workspace_id, body)
    return ok(PresignedUpload.model_validate(upload), 201)


handler = endpoint(
    create_upload,
    Contract(
        body=UploadCreate,
        answers=(
            Answer(
                201, "Send `fields` then the file as multipart/form-data to `url` before `expiresAt`.", PresignedUpload
            ),
        ),
    ),
)

"""POST /v1/uploads: a presigned upload (S3 POST policy) bound to the archive's size and type."""

from kiln import services
from kiln.domain.operations import UploadCreate
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def create_upload(request: Request) -> Response:
    body = request.body_as(UploadCreate)
    return ok(services.operations().create_upload(request.workspace_id, body), 201)


handler = endpoint(create_upload)

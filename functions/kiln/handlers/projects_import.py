"""POST /v1/projects/import: a new project from an archive (.kiln, a zip of a source tree, tar.gz).

Two forms:
- the archive itself as the body (`application/zip`, `application/gzip` or
  `application/vnd.kiln+zip`), up to 4 MiB: imported now, 201 {id, name, ...}. API Gateway
  base64-encodes binary bodies and Lambda takes at most 6 MB per synchronous call, so 4 MiB
  is the honest ceiling; larger archives go through POST /v1/uploads.
- JSON {uploadId, name?}: any size up to 1 GiB, imported by the archive workflow, 202 with
  callbackId (status at /v2/operations/{callbackId}).
"""

from __future__ import annotations

import io
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from kiln import services
from kiln.domain.operation_views import ImportedProject, ImportOperation
from kiln.domain.operations import SYNC_IMPORT_MAX_BYTES, ImportFromUpload
from kiln.envelope import ErrorCode, KilnError
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok

ARCHIVE_TYPES = ("application/zip", "application/gzip", "application/x-gzip", "application/vnd.kiln+zip")


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None


def import_project(request: Request) -> Response:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = request.body_as(ImportFromUpload)
        operations = services.current().operations
        operation = operations.import_upload(request.workspace_id, body)
        view = ImportOperation.model_validate(operations.view(operation))
        return ok(view, 202, {"Location": f"/v2/operations/{operation.id}"})
    if content_type not in ARCHIVE_TYPES:
        raise KilnError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "Send the archive itself or JSON {uploadId}.",
            {"contentType": content_type or None, "supported": [*ARCHIVE_TYPES, "application/json"]},
        )
    query = request.query_as(ImportQuery)
    raw = request.raw_body()
    if len(raw) > SYNC_IMPORT_MAX_BYTES:
        raise KilnError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            "Archives over 4 MiB are imported from an upload: POST /v1/uploads, then "
            "POST /v1/projects/import with {uploadId}.",
            {"limitBytes": SYNC_IMPORT_MAX_BYTES, "receivedBytes": len(raw), "uploads": "/v1/uploads"},
        )
    if not raw:
        raise KilnError(
            ErrorCode.VALIDATION_ERROR,
            "The body is empty.",
            {
                "fields": [
                    {"field": "(body)", "location": "body", "type": "missing", "message": "an archive is required"}
                ]
            },
        )
    filename = query.filename or {
        "application/gzip": "import.tar.gz",
        "application/x-gzip": "import.tar.gz",
        "application/vnd.kiln+zip": "import.kiln",
    }.get(content_type, "import.zip")
    imported = services.current().archive_steps.import_archive(
        request.workspace_id, io.BytesIO(raw), filename, query.name
    )
    project = imported.project
    return ok(
        ImportedProject(
            id=project.id,
            name=project.name,
            status=project.status,
            files=imported.files,
            specVersions=imported.specVersions,
        ),
        201,
        {"Location": f"/v1/projects/{project.id}"},
    )


handler = endpoint(
    import_project,
    Contract(
        body=ImportFromUpload,
        query=ImportQuery,
        archive_body=True,
        answers=(
            Answer(201, "The archive was imported (archive body).", ImportedProject, headers=("Location",)),
            Answer(
                202,
                "The import of the upload started (JSON body); poll `Location`.",
                ImportOperation,
                headers=("Location",),
            ),
        ),
        errors={
            409: (ErrorCode.CONFLICT,),
            413: (ErrorCode.PAYLOAD_TOO_LARGE,),
            415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE,),
            422: (ErrorCode.INVALID_ARCHIVE,),
        },
        notes="The query parameters apply to an archive body only. An upload feeds one import or conversion: a used "
        "`uploadId` is refused with 409 `CONFLICT` (`details.reason: upload_consumed`).",
    ),
)

"""What the API shows of asynchronous operations (exports, imports, conversions, runs seen as
operations), presigned uploads and synchronous imports: the answers' models (see kiln.domain.views).

The v1 resources say `processing`, `completed` or `failed`; the strict v2 endpoint shows the
precise state. Field order is the wire order of OperationService.view / strict_view.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from kiln.domain.operations import Format, OperationStatus, ResourceStatus
from kiln.domain.projects import ProjectStatus
from kiln.domain.runs import RunStatus
from kiln.domain.views import (
    ConversionId,
    ExportId,
    ImportId,
    ProjectId,
    RunId,
    Sha1,
    Sha256,
    Timestamp,
    UploadId,
    View,
    omitted,
)
from kiln.envelope import ErrorCode

# --- asynchronous operations -----------------------------------------------------------------------


class OperationFailure(View):
    """Why an operation failed: the error a synchronous call would have answered."""

    code: ErrorCode
    status: int = Field(ge=400, le=599)
    message: str
    details: dict[str, Any]


class ExportSource(View):
    commit: Sha1 | None = Field(
        description="The exported commit; null for a `.kiln` of a project with no `main` yet (its spec, no files)."
    )
    ref: str | SkipJsonSchema[None] = omitted("The exported branch or sha (ref exports).")
    runId: RunId | SkipJsonSchema[None] = omitted()
    runNumber: Annotated[int, Field(ge=1)] | SkipJsonSchema[None] = omitted()


_V1_STATUS = "`processing`, then `completed` or `failed` (the precise state is at `GET /v2/operations/{callbackId}`)."


# The finished archive of an export or a conversion, as both operations show it.
ArchiveSize = Annotated[Annotated[int, Field(ge=0)] | None, Field(description="Size of the finished archive.")]
ArchiveName = Annotated[str | None, Field(description="The archive's file name.")]
DownloadUrl = Annotated[
    str | None,
    Field(
        description="A presigned download minted for this response (finished operations).",
        json_schema_extra={"format": "uri"},
    ),
]
DownloadExpiresAt = Annotated[
    str | None, Field(description="When `downloadUrl` stops working.", json_schema_extra={"format": "date-time"})
]
ArchiveExpiresAt = Annotated[
    str | None,
    Field(
        description="When the archive itself is deleted (7 days after it was made).",
        json_schema_extra={"format": "date-time"},
    ),
]


class ExportOperation(View):
    """An export (asynchronous operation)."""

    id: ExportId
    callbackId: ExportId
    kind: Literal["export"]
    status: ResourceStatus = Field(description=_V1_STATUS)
    createdAt: Timestamp
    updatedAt: Timestamp
    finishedAt: Timestamp | None
    projectId: ProjectId
    format: Format
    source: ExportSource | None
    sizeBytes: ArchiveSize
    sha256: Sha256 | None
    filename: ArchiveName
    downloadUrl: DownloadUrl
    expiresAt: DownloadExpiresAt
    objectExpiresAt: ArchiveExpiresAt
    error: OperationFailure | SkipJsonSchema[None] = omitted("Why it failed (only once it failed).")


class ImportOperation(View):
    """An import from an upload (asynchronous operation)."""

    id: ImportId
    callbackId: ImportId
    kind: Literal["import"]
    status: ResourceStatus = Field(description=_V1_STATUS)
    createdAt: Timestamp
    updatedAt: Timestamp
    finishedAt: Timestamp | None
    uploadId: UploadId
    projectId: ProjectId | None = Field(description="The imported project, once succeeded.")
    name: str | None = Field(description="The name asked for the imported project.")
    error: OperationFailure | SkipJsonSchema[None] = omitted("Why it failed (only once it failed).")


class ConversionOperation(View):
    """A conversion of an upload to another format (asynchronous operation)."""

    id: ConversionId
    callbackId: ConversionId
    kind: Literal["conversion"]
    status: ResourceStatus = Field(description=_V1_STATUS)
    createdAt: Timestamp
    updatedAt: Timestamp
    finishedAt: Timestamp | None
    uploadId: UploadId
    to: Format
    sizeBytes: ArchiveSize
    sha256: Sha256 | None
    filename: ArchiveName
    downloadUrl: DownloadUrl
    expiresAt: DownloadExpiresAt
    objectExpiresAt: ArchiveExpiresAt
    error: OperationFailure | SkipJsonSchema[None] = omitted("Why it failed (only once it failed).")


# The strict v2 endpoint shows the precise state.
class StrictExportOperation(ExportOperation):
    """An export, with its precise state."""

    status: OperationStatus = Field(description="The precise state.")  # type: ignore[assignment]


class StrictImportOperation(ImportOperation):
    """An import from an upload, with its precise state."""

    status: OperationStatus = Field(description="The precise state.")  # type: ignore[assignment]


class StrictConversionOperation(ConversionOperation):
    """A conversion, with its precise state."""

    status: OperationStatus = Field(description="The precise state.")  # type: ignore[assignment]


class RunOperation(View):
    """A build run seen as an asynchronous operation (details at the run resource)."""

    id: RunId
    callbackId: RunId
    kind: Literal["run"]
    projectId: ProjectId
    status: RunStatus


class AnyOperation(
    RootModel[
        Annotated[
            StrictExportOperation | StrictImportOperation | StrictConversionOperation | RunOperation,
            Field(discriminator="kind"),
        ]
    ]
):
    """Any asynchronous operation, by its `kind`."""

    model_config = ConfigDict(defer_build=True)


class PresignedUpload(View):
    """A presigned S3 POST bound to the declared size and content type."""

    uploadId: UploadId
    filename: str
    sizeBytes: int = Field(ge=1)
    contentType: str
    url: str = Field(description="Where to POST the upload (S3).", json_schema_extra={"format": "uri"})
    method: Literal["POST"]
    fields: dict[str, str] = Field(description="Form fields to send before the `file` field.")
    expiresAt: Timestamp


class ImportedProject(View):
    id: ProjectId
    name: str
    status: ProjectStatus
    files: int = Field(ge=0, description="Files imported.")
    specVersions: int = Field(ge=0, description="Spec versions imported (.kiln).")

"""Asynchronous operations on archives: exports, imports, conversions; and the strict status
of every asynchronous operation (runs too). No AWS here.

An operation is created in `processing`, handed to the `archive` workflow (execution name =
the operation id = its callbackId, so a repeated start cannot run twice) and finished by a
worker (kiln.domain.archive_steps) as `succeeded` or `failed` with the error a synchronous
call would have answered. Reading it: the v1 resource (always 200, `status` in the reference
documents' vocabulary: `processing`, `completed`, `failed`) or `GET /v2/operations/{callbackId}`
(202 while running, 200 on success, the failure's own code; `status` is the precise state).

An upload feeds exactly one import or conversion: starting one marks the upload consumed in
the same transaction that stores the operation, and a second start is refused at once (409).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.projects import ProjectRecord, Strict
from kiln.envelope import ErrorCode, KilnError, not_found

EXPORT_RETENTION = timedelta(days=7)  # S3 lifecycle deletes export and conversion objects after this
DOWNLOAD_URL_SECONDS = 900  # presigned downloads live at most 15 minutes
UPLOAD_URL_SECONDS = 900
MAX_UPLOAD_BYTES = 1024**3  # 1 GiB
SYNC_IMPORT_MAX_BYTES = 4 * 1024 * 1024  # API Gateway base64 + Lambda's 6 MB payload: 4 MiB is honest
RETRY_AFTER_SECONDS = 2

UPLOAD_CONTENT_TYPES = (
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/x-tar+gzip",
    "application/octet-stream",
    "application/vnd.kiln+zip",
)
EXTENSIONS = {"zip": "zip", "tar.gz": "tar.gz", "kiln": "kiln"}
CONTENT_TYPES = {"zip": "application/zip", "tar.gz": "application/gzip", "kiln": "application/vnd.kiln+zip"}

Format = Literal["zip", "tar.gz", "kiln"]


class OperationKind(str, Enum):
    EXPORT = "export"
    IMPORT = "import"
    CONVERSION = "conversion"
    RUN = "run"


class OperationStatus(str, Enum):
    """The precise state, stored and shown by the strict v2 endpoint."""

    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ResourceStatus(str, Enum):
    """What the v1 resources say (exports, conversions, the 202 of an import): the reference
    documents' vocabulary, which clients written from them compare against."""

    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


RESOURCE_STATUS = {
    OperationStatus.PROCESSING: ResourceStatus.PROCESSING,
    OperationStatus.SUCCEEDED: ResourceStatus.COMPLETED,
    OperationStatus.FAILED: ResourceStatus.FAILED,
}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class OperationError(_Out):
    code: str
    status: int
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class Operation(_Out):
    """The stored record of an archive operation (internal: views below are what clients see)."""

    id: str
    kind: OperationKind
    status: OperationStatus
    projectId: str | None = None
    format: Format | None = None
    # export: {runId?, ref?, commit, runNumber?}; commit is None for a .kiln of a project with no
    # main yet (its spec and an empty tree)
    source: dict[str, Any] | None = None
    uploadId: str | None = None
    objectKey: str | None = None  # the finished archive in S3
    filename: str | None = None
    sizeBytes: int | None = None
    sha256: str | None = None
    resultProjectId: str | None = None
    resultName: str | None = None
    error: OperationError | None = None
    createdAt: str
    updatedAt: str
    finishedAt: str | None = None
    objectExpiresAt: str | None = None


class Upload(_Out):
    id: str
    filename: str
    contentType: str
    sizeBytes: int
    objectKey: str
    createdAt: str
    expiresAt: str
    consumedBy: str | None = None  # the import or conversion that used it (uploads are single-use)


# --- requests -------------------------------------------------------------------------------

RefName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ExportCreate(Strict):
    format: Format = "zip"
    runId: str | None = Field(default=None, description="Export the merged output of this succeeded run.")
    ref: RefName | None = Field(default=None, description="A branch or commit sha (default: main).")

    @model_validator(mode="after")
    def _one_source(self) -> ExportCreate:
        if self.runId is not None and self.ref is not None:
            raise ValueError("give runId or ref, not both")
        if self.runId is not None and not ids.is_valid("run", self.runId):
            raise ValueError("runId is not a run id")
        return self


_FILENAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,255}$")


class UploadCreate(Strict):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=_FILENAME.pattern)]
    contentType: Literal[UPLOAD_CONTENT_TYPES]  # type: ignore[valid-type]
    sizeBytes: Annotated[int, Field(ge=1, le=MAX_UPLOAD_BYTES)]


class ImportFromUpload(Strict):
    uploadId: str
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None


class ConversionCreate(Strict):
    uploadId: str
    to: Format


# --- ports ------------------------------------------------------------------------------------


class OperationStore(Protocol):
    def put(self, workspace_id: str, operation: Operation) -> None: ...

    def get(self, workspace_id: str, operation_id: str) -> Operation | None: ...

    def kind_of(self, workspace_id: str, callback_id: str) -> tuple[OperationKind, str | None] | None:
        """(kind, projectId) of any asynchronous operation, runs included."""
        ...

    def current_kiln_export(self, workspace_id: str, project_id: str, commit: str) -> str | None: ...

    def remember_kiln_export(self, workspace_id: str, project_id: str, commit: str, export_id: str) -> str:
        """Record the export of this commit unless one is recorded; returns the recorded id."""
        ...

    def put_upload(self, workspace_id: str, upload: Upload) -> None: ...

    def get_upload(self, workspace_id: str, upload_id: str) -> Upload | None: ...

    def put_consuming(self, workspace_id: str, operation: Operation, upload_id: str) -> str | None:
        """Store `operation` and mark the upload consumed by it, atomically. Returns None when
        done, or (writing nothing) the id of the operation that consumed the upload before."""
        ...


class ArchiveWorkflow(Protocol):
    def start(self, execution_name: str, payload: dict[str, Any]) -> None: ...


class Presigner(Protocol):
    def download(self, key: str, filename: str, expires_seconds: int) -> tuple[str, str]:
        """(url, expiresAt) of a GET minted now."""
        ...

    def upload(self, key: str, content_type: str, size_bytes: int, expires_seconds: int) -> dict[str, Any]: ...


class RunStatusReader(Protocol):
    def run_state(self, workspace_id: str, project_id: str, run_id: str) -> tuple[str, dict[str, Any] | None] | None:
        """(status, error) of a run, or None."""
        ...


class SourceResolver(Protocol):
    def resolve(self, workspace_id: str, project_id: str, export: ExportCreate) -> dict[str, Any]:
        """{commit, ref?, runId?, runNumber?} for an export request (commit None: a .kiln of a
        project with no main yet); raises KilnError (404, 409)."""
        ...


@dataclass(frozen=True)
class StrictStatus:
    """What GET /v2/operations/{callbackId} answers."""

    status: int
    body: dict[str, Any] | None  # the operation view (success and pending)
    error: OperationError | None = None


# --- the service --------------------------------------------------------------------------------


class OperationService:
    def __init__(
        self,
        store: OperationStore,
        workflow: ArchiveWorkflow,
        presigner: Presigner,
        sources: SourceResolver,
        runs: RunStatusReader,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._workflow = workflow
        self._presigner = presigner
        self._sources = sources
        self._runs = runs
        self._clock = clock

    # exports ----------------------------------------------------------------------------

    def export(self, workspace_id: str, project_id: str, request: ExportCreate, project_slug: str) -> Operation:
        source = self._sources.resolve(workspace_id, project_id, request)
        return self._start_export(workspace_id, project_id, request.format, source, project_slug)

    def current_kiln(self, workspace_id: str, project: ProjectRecord, project_slug: str) -> tuple[Operation, bool]:
        """(export of main's head as .kiln, created now?). A project with no main yet exports
        its spec and an empty tree; that export is current until the project changes."""
        source = self._sources.resolve(workspace_id, project.id, ExportCreate(format="kiln"))
        current = source["commit"] or f"nomain@{project.updatedAt}"
        existing = self._store.current_kiln_export(workspace_id, project.id, current)
        if existing:
            operation = self._store.get(workspace_id, existing)
            if (
                operation is not None
                and operation.status is not OperationStatus.FAILED
                and not self._expired(operation)
            ):
                return operation, False
        operation = self._start_export(workspace_id, project.id, "kiln", source, project_slug)
        self._store.remember_kiln_export(workspace_id, project.id, current, operation.id)
        return operation, True

    def _start_export(
        self, workspace_id: str, project_id: str, format: Format, source: dict[str, Any], project_slug: str
    ) -> Operation:
        now = self._clock()
        operation_id = ids.new_id("export", int(now.timestamp() * 1000))
        if source.get("runNumber"):
            stem = f"{project_slug}-run-{source['runNumber']}"
        elif source.get("commit"):
            stem = f"{project_slug}-{source['commit'][:12]}"
        else:
            stem = project_slug
        operation = Operation(
            id=operation_id,
            kind=OperationKind.EXPORT,
            status=OperationStatus.PROCESSING,
            projectId=project_id,
            format=format,
            source=source,
            filename=f"{stem}.{EXTENSIONS[format]}",
            createdAt=iso(now),
            updatedAt=iso(now),
        )
        return self._start(workspace_id, operation)

    def get_export(self, workspace_id: str, project_id: str, export_id: str) -> dict[str, Any]:
        operation = self._get(workspace_id, export_id, OperationKind.EXPORT, "export")
        if operation.projectId != project_id:
            raise not_found("export", export_id)
        return self.view(operation)

    def download(self, workspace_id: str, project_id: str, export_id: str) -> str:
        operation = self._get(workspace_id, export_id, OperationKind.EXPORT, "export")
        if operation.projectId != project_id:
            raise not_found("export", export_id)
        return self._download_url(operation)[0]

    # uploads, imports, conversions -------------------------------------------------------------

    def create_upload(self, workspace_id: str, request: UploadCreate) -> dict[str, Any]:
        now = self._clock()
        upload_id = ids.new_id("upload", int(now.timestamp() * 1000))
        key = f"uploads/{workspace_id}/{upload_id}"
        expires = now + timedelta(seconds=UPLOAD_URL_SECONDS)
        upload = Upload(
            id=upload_id,
            filename=request.filename,
            contentType=request.contentType,
            sizeBytes=request.sizeBytes,
            objectKey=key,
            createdAt=iso(now),
            expiresAt=iso(expires),
        )
        self._store.put_upload(workspace_id, upload)
        presigned = self._presigner.upload(key, request.contentType, request.sizeBytes, UPLOAD_URL_SECONDS)
        return {
            "uploadId": upload_id,
            "filename": request.filename,
            "sizeBytes": request.sizeBytes,
            "contentType": request.contentType,
            **presigned,
        }

    def upload(self, workspace_id: str, upload_id: str) -> Upload:
        """An unused upload of this workspace: 400 for an unknown id, 409 for a used one."""
        upload = self._store.get_upload(workspace_id, upload_id) if ids.is_valid("upload", upload_id) else None
        if upload is None:
            raise KilnError(
                ErrorCode.VALIDATION_ERROR,
                "No such upload in this workspace.",
                {
                    "fields": [
                        {
                            "field": "uploadId",
                            "location": "body",
                            "type": "not_found",
                            "message": "no upload with this id in this workspace",
                        }
                    ]
                },
            )
        if upload.consumedBy is not None:
            raise upload_consumed(upload.id, upload.consumedBy)
        return upload

    def import_upload(self, workspace_id: str, request: ImportFromUpload) -> Operation:
        upload = self.upload(workspace_id, request.uploadId)
        now = self._clock()
        operation = Operation(
            id=ids.new_id("import", int(now.timestamp() * 1000)),
            kind=OperationKind.IMPORT,
            status=OperationStatus.PROCESSING,
            uploadId=upload.id,
            filename=upload.filename,
            resultName=request.name,
            createdAt=iso(now),
            updatedAt=iso(now),
        )
        return self._start_consuming(workspace_id, operation, upload)

    def convert(self, workspace_id: str, request: ConversionCreate) -> Operation:
        upload = self.upload(workspace_id, request.uploadId)
        now = self._clock()
        stem = re.sub(r"(\.tar\.gz|\.tgz|\.zip|\.kiln)$", "", upload.filename, flags=re.IGNORECASE) or "archive"
        operation = Operation(
            id=ids.new_id("conversion", int(now.timestamp() * 1000)),
            kind=OperationKind.CONVERSION,
            status=OperationStatus.PROCESSING,
            uploadId=upload.id,
            format=request.to,
            filename=f"{stem}.{EXTENSIONS[request.to]}",
            createdAt=iso(now),
            updatedAt=iso(now),
        )
        return self._start_consuming(workspace_id, operation, upload)

    def get_conversion(self, workspace_id: str, callback_id: str) -> dict[str, Any]:
        return self.view(self._get(workspace_id, callback_id, OperationKind.CONVERSION, "conversion"))

    # strict status -------------------------------------------------------------------------------

    def strict_status(self, workspace_id: str, callback_id: str) -> StrictStatus:
        found = self._store.kind_of(workspace_id, callback_id)
        if found is None:
            raise not_found("operation", callback_id)
        kind, project_id = found
        if kind is OperationKind.RUN:
            state = self._runs.run_state(workspace_id, project_id or "", callback_id)
            if state is None:
                raise not_found("operation", callback_id)
            status, error = state
            body = {
                "id": callback_id,
                "callbackId": callback_id,
                "kind": "run",
                "projectId": project_id,
                "status": status,
            }
            if status in ("succeeded",):
                return StrictStatus(200, body)
            if status == "cancelled":
                return StrictStatus(
                    409,
                    body,
                    OperationError(
                        code=ErrorCode.CONFLICT.value,
                        status=409,
                        message="The run was cancelled.",
                        details={"runId": callback_id},
                    ),
                )
            if status == "failed":
                reason = (error or {}).get("reason", "failed")
                code = ErrorCode.SERVICE_UNAVAILABLE if reason == "dependency_unavailable" else ErrorCode.INTERNAL_ERROR
                return StrictStatus(
                    code.status,
                    body,
                    OperationError(
                        code=code.value,
                        status=code.status,
                        message=(error or {}).get("message") or "The run failed.",
                        details={"runId": callback_id, "reason": reason, "taskId": (error or {}).get("taskId")},
                    ),
                )
            return StrictStatus(202, body)
        operation = self._store.get(workspace_id, callback_id)
        if operation is None:
            raise not_found("operation", callback_id)
        body = self.strict_view(operation)
        if operation.status is OperationStatus.PROCESSING:
            return StrictStatus(202, body)
        if operation.status is OperationStatus.SUCCEEDED:
            return StrictStatus(200, body)
        return StrictStatus(operation.error.status if operation.error else 500, body, operation.error)

    # views ---------------------------------------------------------------------------------------

    def view(self, operation: Operation) -> dict[str, Any]:
        """An operation as the v1 resources show it: `processing`, `completed` or `failed`."""
        return {**self.strict_view(operation), "status": RESOURCE_STATUS[operation.status].value}

    def strict_view(self, operation: Operation) -> dict[str, Any]:
        """What clients see of an operation, with its precise state (the strict v2 endpoint):
        never the S3 key; a fresh download URL when done."""
        data: dict[str, Any] = {
            "id": operation.id,
            "callbackId": operation.id,
            "kind": operation.kind.value,
            "status": operation.status.value,
            "createdAt": operation.createdAt,
            "updatedAt": operation.updatedAt,
            "finishedAt": operation.finishedAt,
        }
        if operation.kind is OperationKind.EXPORT:
            data.update(projectId=operation.projectId, format=operation.format, source=operation.source)
        if operation.kind is OperationKind.CONVERSION:
            data.update(uploadId=operation.uploadId, to=operation.format)
        if operation.kind is OperationKind.IMPORT:
            data.update(uploadId=operation.uploadId, projectId=operation.resultProjectId, name=operation.resultName)
        if operation.kind in (OperationKind.EXPORT, OperationKind.CONVERSION):
            data.update(
                sizeBytes=operation.sizeBytes,
                sha256=operation.sha256,
                filename=operation.filename,
                downloadUrl=None,
                expiresAt=None,
                objectExpiresAt=operation.objectExpiresAt,
            )
            if operation.status is OperationStatus.SUCCEEDED and not self._expired(operation):
                data["downloadUrl"], data["expiresAt"] = self._download_url(operation)
        if operation.error is not None:
            data["error"] = operation.error.model_dump()
        return data

    # internals -----------------------------------------------------------------------------------

    def _start(self, workspace_id: str, operation: Operation) -> Operation:
        self._store.put(workspace_id, operation)
        return self._run(workspace_id, operation)

    def _start_consuming(self, workspace_id: str, operation: Operation, upload: Upload) -> Operation:
        # The claim and the operation are one write: of two requests racing for one upload,
        # exactly one starts, and the other learns at once which operation took it.
        earlier = self._store.put_consuming(workspace_id, operation, upload.id)
        if earlier is not None:
            raise upload_consumed(upload.id, earlier)
        return self._run(workspace_id, operation)

    def _run(self, workspace_id: str, operation: Operation) -> Operation:
        self._workflow.start(
            operation.id, {"workspaceId": workspace_id, "operationId": operation.id, "kind": operation.kind.value}
        )
        return operation

    def _get(self, workspace_id: str, operation_id: str, kind: OperationKind, name: str) -> Operation:
        operation = self._store.get(workspace_id, operation_id)
        if operation is None or operation.kind is not kind:
            raise not_found(name, operation_id)
        return operation

    def _expired(self, operation: Operation) -> bool:
        return bool(operation.objectExpiresAt and operation.objectExpiresAt <= iso(self._clock()))

    def _download_url(self, operation: Operation) -> tuple[str, str]:
        if operation.status is OperationStatus.PROCESSING:
            raise KilnError(
                ErrorCode.CONFLICT,
                "The archive is still being made; retry shortly.",
                {"currentStatus": "processing", "allowedFrom": ["completed"], "retryAfterSeconds": RETRY_AFTER_SECONDS},
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if operation.status is OperationStatus.FAILED:
            raise KilnError(
                ErrorCode.CONFLICT,
                "The operation failed; there is nothing to download.",
                {"currentStatus": "failed", "allowedFrom": ["completed"]},
            )
        if self._expired(operation) or not operation.objectKey:
            raise KilnError(
                ErrorCode.NOT_FOUND,
                "The archive has expired; export again.",
                {"resource": "archive", "id": operation.id, "expiredAt": operation.objectExpiresAt},
            )
        return self._presigner.download(operation.objectKey, operation.filename or "archive", DOWNLOAD_URL_SECONDS)


def upload_consumed(upload_id: str, consumed_by: str) -> KilnError:
    return KilnError(
        ErrorCode.CONFLICT,
        f"Upload {upload_id} was already used by {consumed_by}: an upload feeds one import or "
        "conversion. Upload the archive again (POST /v1/uploads) to use it once more.",
        {"reason": "upload_consumed", "uploadId": upload_id, "consumedBy": consumed_by},
    )


class ExportSources:
    """kiln.domain.operations.SourceResolver: which commit an export request means."""

    def __init__(self, repository: Any, runs: Any) -> None:
        self._repository = repository  # (workspace_id, project_id) -> kiln.domain.repository.Repository
        self._runs = runs  # has raw(workspace_id, project_id, run_id) -> dict | None

    def resolve(self, workspace_id: str, project_id: str, export: ExportCreate) -> dict[str, Any]:
        from kiln.domain.repository import DEFAULT_BRANCH, InvalidRef, RefNotFound, validate_ref

        if export.runId is not None:
            run = self._runs.raw(workspace_id, project_id, export.runId)
            if run is None:
                raise not_found("run", export.runId)
            if run.get("status") != "succeeded" or not run.get("mergeCommit"):
                raise KilnError(
                    ErrorCode.CONFLICT,
                    "Only a succeeded run has output to export.",
                    {"currentStatus": run.get("status"), "allowedFrom": ["succeeded"]},
                )
            return {"runId": export.runId, "runNumber": int(run["runNumber"]), "commit": run["mergeCommit"]}
        ref = export.ref or DEFAULT_BRANCH
        try:
            validate_ref(ref)
        except InvalidRef as error:
            raise KilnError(
                ErrorCode.VALIDATION_ERROR,
                "The ref is not a branch name or commit sha.",
                {"fields": [{"field": "ref", "location": "body", "type": "ref_format", "message": str(error)}]},
            ) from None
        try:
            commit = self._repository(workspace_id, project_id).resolve(ref)
        except RefNotFound:
            if ref != DEFAULT_BRANCH:
                raise KilnError(
                    ErrorCode.NOT_FOUND, f"The project has no branch or commit '{ref}'.", {"resource": "ref", "id": ref}
                ) from None
            if export.format == "kiln":
                # Nothing built or imported yet: the project is its spec, and a .kiln may hold no files.
                return {"ref": ref, "commit": None}
            raise KilnError(
                ErrorCode.CONFLICT,
                f"The project has no '{ref}' branch yet (nothing was built or imported), so there are "
                f"no files to export as {export.format}. Start a run first, or export format kiln "
                "(the project and its spec, no files).",
                {"reason": "no_main", "ref": ref, "format": export.format, "formatsWithoutMain": ["kiln"]},
            ) from None
        return {"ref": ref, "commit": commit}

"""What the API shows of records whose services answer plain values: workspaces, API keys,
asynchronous operations, uploads, imports, repository listings and files, the service itself.

Each is the model of an answer: a handler returns it, the pipeline serializes it (field order
is the wire order) and kiln.openapi documents it from the same class. Validating the service's
values into these models on the way out is cheap and turns a drift between what a service
returns and what the API documents into a failing test rather than a surprised client.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from kiln import SERVICE_NAME, ids
from kiln.domain.operations import Format, OperationStatus, ResourceStatus
from kiln.domain.projects import ProjectStatus
from kiln.domain.runs import RunStatus
from kiln.envelope import ErrorCode
from kiln.tiers import TierName


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _omitted_when_none(value: Any) -> bool:
    return value is None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omitted(description: str | None = None) -> Any:
    """A field left out of the answer when it has no value (rather than shown as null)."""
    return Field(default=None, description=description, exclude_if=_omitted_when_none, json_schema_extra=_no_default)


def _alphabet_class(alphabet: str) -> str:
    """A regex character class for `alphabet`, consecutive characters as ranges."""
    runs: list[list[str]] = []
    for char in alphabet:
        if runs and ord(char) == ord(runs[-1][-1]) + 1:
            runs[-1].append(char)
        else:
            runs.append([char])
    return "[" + "".join(run[0] if len(run) == 1 else run[0] + run[-1] if len(run) == 2 else f"{run[0]}-{run[-1]}"
                         for run in runs) + "]"


def id_pattern(*kinds: str) -> str:
    """The format of kiln.ids (`<prefix>_` + 26 Crockford base32 characters) as a JSON schema pattern."""
    prefixes = [ids.PREFIXES[kind] for kind in kinds]
    head = prefixes[0] if len(prefixes) == 1 else "(" + "|".join(prefixes) + ")"
    return f"^{head}_{_alphabet_class(ids._ALPHABET)}{{26}}$"  # noqa: SLF001 - the one source of the format


ProjectId = Annotated[str, Field(description="A project id.", pattern=id_pattern("project"))]
RunId = Annotated[str, Field(description="A run id.", pattern=id_pattern("run"))]
WorkspaceId = Annotated[str, Field(description="A workspace id.", pattern=id_pattern("workspace"))]
ApiKeyId = Annotated[str, Field(description="A api_key id.", pattern=id_pattern("api_key"))]
UploadId = Annotated[str, Field(description="A upload id.", pattern=id_pattern("upload"))]
ExportId = Annotated[str, Field(description="A export id.", pattern=id_pattern("export"))]
ImportId = Annotated[str, Field(description="A import id.", pattern=id_pattern("import"))]
ConversionId = Annotated[str, Field(description="A conversion id.", pattern=id_pattern("conversion"))]

Timestamp = Annotated[str, Field(description="RFC 3339 timestamp, UTC, millisecond precision.", json_schema_extra={
    "format": "date-time"})]
Sha1 = Annotated[str, Field(pattern="^[0-9a-f]{40}$")]
Sha256 = Annotated[str, Field(description="Lowercase hex SHA-256.", pattern="^[0-9a-f]{64}$")]


# --- the service -------------------------------------------------------------------------------

class HealthComponents(View):
    database: Literal["ok", "unavailable"]
    storage: Literal["ok", "unavailable"]
    workflows: Literal["ok", "unavailable"]


class HealthStatus(View):
    """Not enveloped. `degraded` (answered with 503) when a component is unavailable."""

    status: Literal["ok", "degraded"]
    version: str
    components: HealthComponents


class ServiceInfo(View):
    name: Literal[SERVICE_NAME]  # type: ignore[valid-type]  # a constant of the package
    version: str
    docs: str = Field(description="Where the interactive documentation is.")
    openapi: str = Field(description="Where this document is.")
    health: str = Field(description="The health check.")


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document (this one)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


# --- the repository ------------------------------------------------------------------------------

class DirectoryEntry(View):
    name: str
    type: Literal["directory", "file"]
    size: Annotated[int, Field(ge=0)] | SkipJsonSchema[None] = omitted("Bytes (files only).")


class Directory(View):
    ref: str = Field(description="The branch or commit sha asked for.")
    commit: Sha1 = Field(description="The commit sha `ref` resolved to.")
    path: str = Field(description="The directory; the root is `/`.")
    entries: list[DirectoryEntry] = Field(description="Directories first, then files, each sorted by name.")


class RepositoryFile(View):
    path: str = Field(description="Repository path (never starts with `/`).")
    ref: str
    commit: Sha1
    content: str = Field(description="The text (`utf-8`) or the bytes in base64 (`base64`).")
    encoding: Literal["utf-8", "base64"]
    size: int = Field(ge=0, description="Bytes.")


# --- asynchronous operations -----------------------------------------------------------------------

class OperationFailure(View):
    """Why an operation failed: the error a synchronous call would have answered."""

    code: ErrorCode
    status: int = Field(ge=400, le=599)
    message: str
    details: dict[str, Any]


class ExportSource(View):
    commit: Sha1 | None = Field(description="The exported commit; null for a `.kiln` of a project with no `main` "
                                            "yet (its spec, no files).")
    ref: str | SkipJsonSchema[None] = omitted("The exported branch or sha (ref exports).")
    runId: RunId | SkipJsonSchema[None] = omitted()
    runNumber: Annotated[int, Field(ge=1)] | SkipJsonSchema[None] = omitted()


_V1_STATUS = "`processing`, then `completed` or `failed` (the precise state is at `GET /v2/operations/{callbackId}`)."


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
    sizeBytes: Annotated[int, Field(ge=0)] | None = Field(description="Size of the finished archive.")
    sha256: Sha256 | None
    filename: str | None = Field(description="The archive's file name.")
    downloadUrl: str | None = Field(description="A presigned download minted for this response (finished "
                                                "operations).", json_schema_extra={"format": "uri"})
    expiresAt: str | None = Field(description="When `downloadUrl` stops working.",
                                  json_schema_extra={"format": "date-time"})
    objectExpiresAt: str | None = Field(description="When the archive itself is deleted (7 days after it was "
                                                    "made).", json_schema_extra={"format": "date-time"})
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
    sizeBytes: Annotated[int, Field(ge=0)] | None = Field(description="Size of the finished archive.")
    sha256: Sha256 | None
    filename: str | None = Field(description="The archive's file name.")
    downloadUrl: str | None = Field(description="A presigned download minted for this response (finished "
                                                "operations).", json_schema_extra={"format": "uri"})
    expiresAt: str | None = Field(description="When `downloadUrl` stops working.",
                                  json_schema_extra={"format": "date-time"})
    objectExpiresAt: str | None = Field(description="When the archive itself is deleted (7 days after it was "
                                                    "made).", json_schema_extra={"format": "date-time"})
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


class AnyOperation(RootModel[Annotated[
        StrictExportOperation | StrictImportOperation | StrictConversionOperation | RunOperation,
        Field(discriminator="kind")]]):
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


# --- workspaces and keys --------------------------------------------------------------------------

class Workspace(View):
    id: WorkspaceId
    name: str
    tier: TierName
    createdAt: Timestamp
    updatedAt: Timestamp


Scope = Literal["project:read", "project:write", "ai:invoke", "admin"]  # kiln.routes.Scope, checked by a test


class ApiKey(View):
    """An API key, never its secret."""

    id: ApiKeyId
    name: str
    prefix: str = Field(description="The secret's first characters, to recognise it.")
    scopes: list[Scope]
    allowedPaths: list[str] = Field(description="Path globs; empty: every path.")
    status: Literal["active", "rotated", "revoked", "expired"]
    workspaceId: WorkspaceId
    createdAt: Timestamp
    expiresAt: Timestamp | None
    lastUsedAt: Timestamp | None
    revokedAt: Timestamp | None
    rotatedAt: Timestamp | None
    previousSecretExpiresAt: str | None = Field(description="Until when the secret replaced by the last rotation "
                                                            "still works.", json_schema_extra={"format": "date-time"})


class ApiKeyWithSecret(ApiKey):
    """An API key with its new secret (absent when the answer is an idempotent replay)."""

    # The secret is never stored, so an Idempotent-Replayed answer cannot repeat it: it is the
    # same key without `secret`. An optional property (rather than a nullable one, or a oneOf) is
    # what client generators turn into one plain type.
    secret: Annotated[str, Field(pattern="^kiln_[A-Za-z0-9_-]{43}$")] | SkipJsonSchema[None] = omitted(
        "The bearer secret, `kiln_` + 43 URL-safe base64 characters: shown once, in the first answer "
                    "only. Absent from an `Idempotent-Replayed: true` answer, which carries the key without it.")

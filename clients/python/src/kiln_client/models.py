# Generated from docs/openapi.json by clients/python/scripts/generate_models.sh: do not edit.

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import AnyUrl, AwareDatetime, BaseModel, ConfigDict, Field, RootModel


class Answer(RootModel[str]):
    root: str = Field(..., max_length=2000)


class Answer1Item(RootModel[str]):
    root: str = Field(..., max_length=2000)


class Answer1(RootModel[list[Answer1Item]]):
    root: list[Answer1Item] = Field(..., max_length=12)


class AnswerInput(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    question_id: str = Field(..., alias="questionId", max_length=64, min_length=1)
    answer: bool | Answer | Answer1


class AnswersRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    answers: list[AnswerInput] = Field(..., max_length=50)


class Scope(StrEnum):
    project_read = "project:read"
    project_write = "project:write"
    ai_invoke = "ai:invoke"
    admin = "admin"


class Status(StrEnum):
    active = "active"
    rotated = "rotated"
    revoked = "revoked"
    expired = "expired"


class ApiKey(BaseModel):
    """
    An API key, never its secret.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A api_key id.", pattern="^key_[0-9a-hjkmnp-tv-z]{26}$")
    name: str
    prefix: str = Field(..., description="The secret's first characters, to recognise it.")
    scopes: list[Scope]
    allowed_paths: list[str] = Field(..., alias="allowedPaths", description="Path globs; empty: every path.")
    status: Status
    workspace_id: str = Field(
        ...,
        alias="workspaceId",
        description="A workspace id.",
        pattern="^ws_[0-9a-hjkmnp-tv-z]{26}$",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    expires_at: AwareDatetime | None = Field(..., alias="expiresAt")
    last_used_at: AwareDatetime | None = Field(..., alias="lastUsedAt")
    revoked_at: AwareDatetime | None = Field(..., alias="revokedAt")
    rotated_at: AwareDatetime | None = Field(..., alias="rotatedAt")
    previous_secret_expires_at: AwareDatetime | None = Field(
        ...,
        alias="previousSecretExpiresAt",
        description="Until when the secret replaced by the last rotation still works.",
    )


class AllowedPath(RootModel[str]):
    root: str = Field(..., max_length=200, min_length=1)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str = Field(
        ...,
        description="Human name of the key.",
        examples=["CI deploys"],
        max_length=200,
        min_length=1,
    )
    scopes: list[Scope] = Field(
        ...,
        description="Scopes; each must be held by the caller.",
        examples=[["project:read"]],
        max_length=16,
        min_length=1,
    )
    allowed_paths: list[AllowedPath] | None = Field(
        None,
        alias="allowedPaths",
        description="Path globs the key may call (`*` one segment, `**` any); empty: every path.",
        examples=[["/v1/projects", "/v1/projects/*"]],
        max_length=20,
    )
    expires_at: AwareDatetime | None = Field(
        None, alias="expiresAt", description="When the key stops working (<= 2 years)."
    )
    workspace_id: str | None = Field(
        None,
        alias="workspaceId",
        description="Admin only: mint the key for this workspace.",
    )


class ApiKeyWithSecret(BaseModel):
    """
    An API key with its new secret (absent when the answer is an idempotent replay).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A api_key id.", pattern="^key_[0-9a-hjkmnp-tv-z]{26}$")
    name: str
    prefix: str = Field(..., description="The secret's first characters, to recognise it.")
    scopes: list[Scope]
    allowed_paths: list[str] = Field(..., alias="allowedPaths", description="Path globs; empty: every path.")
    status: Status
    workspace_id: str = Field(
        ...,
        alias="workspaceId",
        description="A workspace id.",
        pattern="^ws_[0-9a-hjkmnp-tv-z]{26}$",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    expires_at: AwareDatetime | None = Field(..., alias="expiresAt")
    last_used_at: AwareDatetime | None = Field(..., alias="lastUsedAt")
    revoked_at: AwareDatetime | None = Field(..., alias="revokedAt")
    rotated_at: AwareDatetime | None = Field(..., alias="rotatedAt")
    previous_secret_expires_at: AwareDatetime | None = Field(
        ...,
        alias="previousSecretExpiresAt",
        description="Until when the secret replaced by the last rotation still works.",
    )
    secret: str | None = Field(
        None,
        description="The bearer secret, `kiln_` + 43 URL-safe base64 characters: shown once, in the first answer only. Absent from an `Idempotent-Replayed: true` answer, which carries the key without it.",
        pattern="^kiln_[A-Za-z0-9_-]{43}$",
    )


class Version(RootModel[int]):
    root: int = Field(None, ge=1)


class ApproveRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    version: Version | None = None


class GrantTypesSupportedEnum(StrEnum):
    authorization_code = "authorization_code"
    refresh_token = "refresh_token"


class AuthorizationServerMetadata(BaseModel):
    """
    RFC 8414 metadata. Every URL is absolute, under the issuer.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    issuer: str = Field(..., description="The API's base URL; the `iss` of every access token.")
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    introspection_endpoint: str
    jwks_uri: str
    response_types_supported: list[Literal["code"]]
    grant_types_supported: list[GrantTypesSupportedEnum]
    code_challenge_methods_supported: list[Literal["S256"]]
    token_endpoint_auth_methods_supported: list[Literal["none"]]
    scopes_supported: list[str]
    authorization_response_iss_parameter_supported: Literal[True] = Field(
        ...,
        description="RFC 9207: the redirects of /oauth/authorize carry `iss`, the issuer.",
    )


class CancelRequest(BaseModel):
    """
    No fields.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )


class ClarifyRequest(BaseModel):
    """
    Clarify takes no input beyond the project; a body, if sent, must be `{}`.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )


class To(StrEnum):
    zip = "zip"
    tar_gz = "tar.gz"
    kiln = "kiln"


class ConversionCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    upload_id: str = Field(..., alias="uploadId")
    to: To


class SizeBytes(RootModel[int]):
    root: int = Field(..., description="Size of the finished archive.", ge=0)


class Sha256(RootModel[str]):
    root: str = Field(..., description="Lowercase hex SHA-256.", pattern="^[0-9a-f]{64}$")


class CursorPagination(BaseModel):
    """
    Cursor mode (opt-in with `limit` or `cursor`): opaque signed cursors.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    limit: int = Field(..., ge=1)
    next_cursor: str | None = Field(
        ...,
        alias="nextCursor",
        description="Pass as `cursor` for the next page; null on the last page.",
    )
    has_more: bool = Field(..., alias="hasMore")


class DeliveryAttemptView(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    at: AwareDatetime = Field(..., description="RFC 3339 timestamp, UTC, millisecond precision.")
    status_code: int | None = Field(
        ...,
        alias="statusCode",
        description="The receiver's status; null when it never answered.",
    )
    duration_ms: int = Field(..., alias="durationMs")
    error: str | None = Field(
        ...,
        description="Why the attempt failed (refused address, timeout, redirect, ...).",
    )
    response_excerpt: str | None = Field(
        ...,
        alias="responseExcerpt",
        description="The first 1 KiB of the receiver's answer.",
    )


class Status2(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class DeliveryView(BaseModel):
    """
    One event on its way to one webhook, with every attempt so far.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="The delivery id.")
    webhook_id: str = Field(
        ...,
        alias="webhookId",
        description="A webhook id.",
        pattern="^wh_[0-9a-hjkmnp-tv-z]{26}$",
    )
    event_id: str = Field(
        ...,
        alias="eventId",
        description="The event's id: the `webhook-id` header of every attempt.",
    )
    event_type: str = Field(..., alias="eventType")
    status: Status2
    attempts: list[DeliveryAttemptView]
    next_attempt_at: AwareDatetime | None = Field(..., alias="nextAttemptAt")
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    redelivery_of: str | None = Field(
        ...,
        alias="redeliveryOf",
        description="The delivery this one repeats (POST .../redeliver).",
    )


class Provider(StrEnum):
    aws_lambda = "aws-lambda"
    local = "local"


class StopReason(StrEnum):
    """
    Why a stopped preview stopped: a DELETE, or its expiry.
    """

    deleted = "deleted"
    expired = "expired"


class Provider1(StrEnum):
    """
    `aws-lambda` when deployed, `local` in the local cloud (the default is the one offered).
    """

    aws_lambda = "aws-lambda"
    local = "local"


class DeploymentCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    run_id: str = Field(
        ...,
        alias="runId",
        description="The succeeded run whose generated service to deploy.",
    )
    provider: Provider1 | None = Field(
        None,
        description="`aws-lambda` when deployed, `local` in the local cloud (the default is the one offered).",
    )


class Provider2(StrEnum):
    aws_lambda = "aws-lambda"
    local = "local"


class DeploymentStatus(StrEnum):
    deploying = "deploying"
    live = "live"
    failed = "failed"
    stopped = "stopped"


class Type(StrEnum):
    directory = "directory"
    file = "file"


class DirectoryEntry(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str
    type: Type
    size: int | None = Field(None, description="Bytes (files only).", ge=0)


class ErrorCode(StrEnum):
    """
    The stable error codes (docs/errors.md):

    | code | status | type URI |
    |---|---|---|
    | `UNAUTHORIZED` | 401 | https://kiln.dev/errors/unauthorized |
    | `FORBIDDEN` | 403 | https://kiln.dev/errors/forbidden |
    | `NOT_FOUND` | 404 | https://kiln.dev/errors/not-found |
    | `ENDPOINT_NOT_FOUND` | 404 | https://kiln.dev/errors/endpoint-not-found |
    | `METHOD_NOT_ALLOWED` | 405 | https://kiln.dev/errors/method-not-allowed |
    | `VALIDATION_ERROR` | 400 | https://kiln.dev/errors/validation-error |
    | `CONFLICT` | 409 | https://kiln.dev/errors/conflict |
    | `IDEMPOTENCY_KEY_IN_USE` | 409 | https://kiln.dev/errors/idempotency-key-in-use |
    | `IDEMPOTENCY_KEY_REUSED` | 422 | https://kiln.dev/errors/idempotency-key-reused |
    | `PAYLOAD_TOO_LARGE` | 413 | https://kiln.dev/errors/payload-too-large |
    | `UNSUPPORTED_MEDIA_TYPE` | 415 | https://kiln.dev/errors/unsupported-media-type |
    | `INVALID_ARCHIVE` | 422 | https://kiln.dev/errors/invalid-archive |
    | `TOO_MANY_REQUESTS` | 429 | https://kiln.dev/errors/too-many-requests |
    | `RATE_LIMIT_EXCEEDED` | 429 | https://kiln.dev/errors/rate-limit-exceeded |
    | `USAGE_LIMIT_EXCEEDED` | 429 | https://kiln.dev/errors/usage-limit-exceeded |
    | `CONCURRENCY_LIMIT_EXCEEDED` | 429 | https://kiln.dev/errors/concurrency-limit-exceeded |
    | `INTERNAL_ERROR` | 500 | https://kiln.dev/errors/internal-error |
    | `SERVICE_UNAVAILABLE` | 503 | https://kiln.dev/errors/service-unavailable |
    """

    unauthorized = "UNAUTHORIZED"
    forbidden = "FORBIDDEN"
    not_found = "NOT_FOUND"
    endpoint_not_found = "ENDPOINT_NOT_FOUND"
    method_not_allowed = "METHOD_NOT_ALLOWED"
    validation_error = "VALIDATION_ERROR"
    conflict = "CONFLICT"
    idempotency_key_in_use = "IDEMPOTENCY_KEY_IN_USE"
    idempotency_key_reused = "IDEMPOTENCY_KEY_REUSED"
    payload_too_large = "PAYLOAD_TOO_LARGE"
    unsupported_media_type = "UNSUPPORTED_MEDIA_TYPE"
    invalid_archive = "INVALID_ARCHIVE"
    too_many_requests = "TOO_MANY_REQUESTS"
    rate_limit_exceeded = "RATE_LIMIT_EXCEEDED"
    usage_limit_exceeded = "USAGE_LIMIT_EXCEEDED"
    concurrency_limit_exceeded = "CONCURRENCY_LIMIT_EXCEEDED"
    internal_error = "INTERNAL_ERROR"
    service_unavailable = "SERVICE_UNAVAILABLE"


class Error(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    code: ErrorCode
    message: str = Field(..., description="For people; may change. Dispatch on `code`.")
    details: dict[str, Any] = Field(
        ...,
        description="Machine-readable specifics; their shape per code is in docs/errors.md.",
    )


class ErrorEnvelope(BaseModel):
    """
    Every error, from every layer (handler, pipeline, API Gateway).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    success: Literal[False]
    data: None
    error: Error


class EventAccepted(BaseModel):
    """
    A custom event accepted for delivery to the workspace's matching webhooks.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="An event id.", pattern="^evt_[0-9a-hjkmnp-tv-z]{26}$")


class EventCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    type: str = Field(
        ...,
        description="`custom.` + a name: a lowercase letter, then up to 63 of a-z 0-9 _ . -",
        examples=["custom.deployment_finished"],
        max_length=128,
    )
    data: dict[str, Any] | None = Field(
        None,
        description="Any JSON object, at most 64 KiB serialized.",
        examples=[{"env": "prod"}],
    )


class EventPagination(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    limit: int = Field(..., ge=1)
    next_cursor: str | None = Field(
        ...,
        alias="nextCursor",
        description="The last event's id: pass it as `after` for the next page; null on the last.",
        pattern="^[0-9]+$",
    )
    has_more: bool = Field(..., alias="hasMore")


class EventType(StrEnum):
    run_started = "RUN_STARTED"
    task_started = "TASK_STARTED"
    file_created = "FILE_CREATED"
    file_modified = "FILE_MODIFIED"
    task_completed = "TASK_COMPLETED"
    task_failed = "TASK_FAILED"
    task_repair_started = "TASK_REPAIR_STARTED"
    task_repair_completed = "TASK_REPAIR_COMPLETED"
    task_repair_failed = "TASK_REPAIR_FAILED"
    verification_completed = "VERIFICATION_COMPLETED"
    run_completed = "RUN_COMPLETED"
    run_failed = "RUN_FAILED"
    run_cancelled = "RUN_CANCELLED"


class Format(StrEnum):
    zip = "zip"
    tar_gz = "tar.gz"
    kiln = "kiln"


class Ref(RootModel[str]):
    root: str = Field(
        None,
        description="A branch or commit sha (default: main).",
        max_length=200,
        min_length=1,
    )


class ExportCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    format: Format | None = "zip"
    run_id: str | None = Field(
        None,
        alias="runId",
        description="Export the merged output of this succeeded run.",
    )
    ref: Ref | None = Field(None, description="A branch or commit sha (default: main).")


class Commit(RootModel[str]):
    root: str = Field(
        ...,
        description="The exported commit; null for a `.kiln` of a project with no `main` yet (its spec, no files).",
        pattern="^[0-9a-f]{40}$",
    )


class ExportSource(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    commit: Commit | None = Field(
        ...,
        description="The exported commit; null for a `.kiln` of a project with no `main` yet (its spec, no files).",
    )
    ref: str | None = Field(None, description="The exported branch or sha (ref exports).")
    run_id: str | None = Field(
        None,
        alias="runId",
        description="A run id.",
        pattern="^run_[0-9a-hjkmnp-tv-z]{26}$",
    )
    run_number: int | None = Field(None, alias="runNumber", ge=1)


class ExportStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    total: int


class Database(StrEnum):
    ok = "ok"
    unavailable = "unavailable"


class Storage(StrEnum):
    ok = "ok"
    unavailable = "unavailable"


class Workflows(StrEnum):
    ok = "ok"
    unavailable = "unavailable"


class HealthComponents(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    database: Database
    storage: Storage
    workflows: Workflows


class Status3(StrEnum):
    ok = "ok"
    degraded = "degraded"


class HealthStatus(BaseModel):
    """
    Not enveloped. `degraded` (answered with 503) when a component is unavailable.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    status: Status3
    version: str
    components: HealthComponents


class Name(RootModel[str]):
    root: str = Field(None, max_length=200, min_length=1)


class ImportFromUpload(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    upload_id: str = Field(..., alias="uploadId")
    name: Name | None = None


class ProjectId(RootModel[str]):
    root: str = Field(..., description="A project id.", pattern="^proj_[0-9a-hjkmnp-tv-z]{26}$")


class JsonRpcError(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    code: int = Field(
        ...,
        description="JSON-RPC's error code (-32602: invalid params, -32601: unknown method...).",
    )
    message: str
    data: Any | None = None


class OAuthClientCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str = Field(
        ...,
        description="Shown to people on the consent page.",
        examples=["Team Planner"],
        max_length=200,
        min_length=1,
    )
    redirect_uris: list[str] = Field(
        ...,
        alias="redirectUris",
        description="https:// (or http://localhost, http://127.0.0.1, any port), no fragment, at most 2000 characters each; matched exactly.",
        examples=[["https://planner.example.com/oauth/callback"]],
        max_length=10,
        min_length=1,
    )
    scopes: list[Scope] = Field(
        ...,
        description="The most the client may ask for; each must be held by the caller.",
        examples=[["project:read"]],
        max_length=16,
        min_length=1,
    )


class OAuthClientView(BaseModel):
    """
    A registered public client (no secret: PKCE S256 authenticates each code exchange).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="The client id.", pattern="^client_[0-9a-hjkmnp-tv-z]{26}$")
    client_id: str = Field(
        ...,
        alias="clientId",
        description="The same id, as OAuth calls it.",
        pattern="^client_[0-9a-hjkmnp-tv-z]{26}$",
    )
    name: str = Field(..., description="Shown to people on the consent page.")
    redirect_uris: list[str] = Field(..., alias="redirectUris", description="Matched exactly at authorization time.")
    scopes: list[Scope] = Field(..., description="The most the client may ask a person for.")
    workspace_id: str = Field(
        ...,
        alias="workspaceId",
        description="A workspace id.",
        pattern="^ws_[0-9a-hjkmnp-tv-z]{26}$",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )


class OpenApiDocument(BaseModel):
    """
    An OpenAPI 3.1 document (this one).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class OperationFailure(BaseModel):
    """
    Why an operation failed: the error a synchronous call would have answered.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    code: ErrorCode
    status: int = Field(..., ge=400, le=599)
    message: str
    details: dict[str, Any]


class OperationStatus(StrEnum):
    """
    The precise state, stored and shown by the strict v2 endpoint.
    """

    processing = "processing"
    succeeded = "succeeded"
    failed = "failed"


class PagePagination(BaseModel):
    """
    Page mode (the default): `?page=&pageSize=`.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    page: int = Field(..., ge=1)
    page_size: int = Field(..., alias="pageSize", ge=1)
    total: int = Field(..., ge=0)
    total_pages: int = Field(..., alias="totalPages", ge=0)


class PresignedUpload(BaseModel):
    """
    A presigned S3 POST bound to the declared size and content type.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    upload_id: str = Field(
        ...,
        alias="uploadId",
        description="A upload id.",
        pattern="^upl_[0-9a-hjkmnp-tv-z]{26}$",
    )
    filename: str
    size_bytes: int = Field(..., alias="sizeBytes", ge=1)
    content_type: str = Field(..., alias="contentType")
    url: AnyUrl = Field(..., description="Where to POST the upload (S3).")
    method: Literal["POST"]
    fields: dict[str, str] = Field(..., description="Form fields to send before the `file` field.")
    expires_at: AwareDatetime = Field(
        ...,
        alias="expiresAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )


class ProjectCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str = Field(
        ...,
        description="Human name of the project.",
        examples=["My SaaS App"],
        max_length=200,
        min_length=1,
    )
    description: str = Field(
        ...,
        description="What the project should do, in plain language.",
        examples=["A project management tool with team collaboration features, task boards, and time tracking."],
        max_length=10000,
        min_length=1,
    )


class ProjectStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    total: int = Field(
        ...,
        description="Projects ever created and not deleted (archived ones included).",
    )
    active: int = Field(..., description="Projects that are not archived.")


class ProjectStatus(StrEnum):
    draft = "draft"
    clarifying = "clarifying"
    spec_review = "spec_review"
    approved = "approved"
    building = "building"
    built = "built"
    failed = "failed"
    archived = "archived"


class Description(RootModel[str]):
    root: str = Field(None, max_length=10000, min_length=1)


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: Name | None = None
    description: Description | None = None


class PublicJwk(BaseModel):
    """
    One ES256 verification key (RFC 7517, RFC 7518 section 6.2).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    use: Literal["sig"]
    alg: Literal["ES256"]


class Question(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )


class Feedback(RootModel[str]):
    root: str = Field(
        None,
        description="What the next version should change.",
        examples=["Add CSV export of time entries per project."],
        max_length=4000,
        min_length=1,
    )


class RegenerateRequest(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    feedback: Feedback | None = Field(
        None,
        description="What the next version should change.",
        examples=["Add CSV export of time entries per project."],
    )


class Encoding(StrEnum):
    utf_8 = "utf-8"
    base64 = "base64"


class RepositoryFile(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    path: str = Field(..., description="Repository path (never starts with `/`).")
    ref: str
    commit: str = Field(..., pattern="^[0-9a-f]{40}$")
    content: str = Field(..., description="The text (`utf-8`) or the bytes in base64 (`base64`).")
    encoding: Encoding
    size: int = Field(..., description="Bytes.", ge=0)


class ResourceStatus(StrEnum):
    """
    What the v1 resources say (exports, conversions, the 202 of an import): the reference
    documents' vocabulary, which clients written from them compare against.
    """

    processing = "processing"
    completed = "completed"
    failed = "failed"


class RetryRequest(BaseModel):
    """
    No fields: the new run takes the finished run's project and its approved spec.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )


class RunCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    trigger: str | None = Field(
        "manual",
        description="Who or what started the run (free-form label).",
        examples=["manual"],
        pattern="^[a-z][a-z0-9_-]{0,31}$",
    )


class RunError(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    reason: str
    message: str
    task_id: str | None = Field(None, alias="taskId")


class RunStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    total: int
    succeeded: int
    failed: int
    in_progress: int = Field(
        ...,
        alias="inProgress",
        description="Runs queued, planning, executing, verifying or merging.",
    )


class RunStatus(StrEnum):
    queued = "queued"
    decomposing = "decomposing"
    executing = "executing"
    verifying = "verifying"
    merging = "merging"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class ServiceInfo(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: Literal["kiln"]
    version: str
    docs: str = Field(..., description="Where the interactive documentation is.")
    openapi: str = Field(..., description="Where this document is.")
    health: str = Field(..., description="The health check.")


class SignIn(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    email: str = Field(
        ...,
        description="The person's email, compared case-insensitively.",
        examples=["ada@example.com"],
        max_length=254,
        pattern="^\\s*[^@\\s]+@[^@\\s]+\\.[^@\\s]+\\s*$",
    )
    password: str = Field(..., description="The person's password.", max_length=256, min_length=1)


class SpecSnapshot(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    version: int
    approved_at: str | None = Field(None, alias="approvedAt")
    documents: dict[str, str]


class SpecVersion(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    version: int
    created_at: str = Field(..., alias="createdAt")
    feedback: str | None = None
    approved_at: str | None = Field(None, alias="approvedAt")
    generator: str
    documents: dict[str, str]


class SpecVersionSummary(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    version: int
    created_at: str = Field(..., alias="createdAt")
    feedback: str | None = None
    approved_at: str | None = Field(None, alias="approvedAt")
    generator: str


class SpecView(BaseModel):
    """
    GET /v1/projects/{id}/spec: one version's documents plus every version's summary.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    project_id: str = Field(..., alias="projectId")
    project_status: ProjectStatus = Field(..., alias="projectStatus")
    spec: SpecVersion
    versions: list[SpecVersionSummary]


class StrictConversionOperation(BaseModel):
    """
    A conversion, with its precise state.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A conversion id.", pattern="^conv_[0-9a-hjkmnp-tv-z]{26}$")
    callback_id: str = Field(
        ...,
        alias="callbackId",
        description="A conversion id.",
        pattern="^conv_[0-9a-hjkmnp-tv-z]{26}$",
    )
    kind: Literal["conversion"]
    status: OperationStatus = Field(..., description="The precise state.")
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    finished_at: AwareDatetime | None = Field(..., alias="finishedAt")
    upload_id: str = Field(
        ...,
        alias="uploadId",
        description="A upload id.",
        pattern="^upl_[0-9a-hjkmnp-tv-z]{26}$",
    )
    to: To
    size_bytes: SizeBytes | None = Field(..., alias="sizeBytes", description="Size of the finished archive.")
    sha256: Sha256 | None
    filename: str | None = Field(..., description="The archive's file name.")
    download_url: AnyUrl | None = Field(
        ...,
        alias="downloadUrl",
        description="A presigned download minted for this response (finished operations).",
    )
    expires_at: AwareDatetime | None = Field(..., alias="expiresAt", description="When `downloadUrl` stops working.")
    object_expires_at: AwareDatetime | None = Field(
        ...,
        alias="objectExpiresAt",
        description="When the archive itself is deleted (7 days after it was made).",
    )
    error: OperationFailure | None = Field(None, description="Why it failed (only once it failed).")


class StrictExportOperation(BaseModel):
    """
    An export, with its precise state.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A export id.", pattern="^exp_[0-9a-hjkmnp-tv-z]{26}$")
    callback_id: str = Field(
        ...,
        alias="callbackId",
        description="A export id.",
        pattern="^exp_[0-9a-hjkmnp-tv-z]{26}$",
    )
    kind: Literal["export"]
    status: OperationStatus = Field(..., description="The precise state.")
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    finished_at: AwareDatetime | None = Field(..., alias="finishedAt")
    project_id: str = Field(
        ...,
        alias="projectId",
        description="A project id.",
        pattern="^proj_[0-9a-hjkmnp-tv-z]{26}$",
    )
    format: Format
    source: ExportSource | None
    size_bytes: SizeBytes | None = Field(..., alias="sizeBytes", description="Size of the finished archive.")
    sha256: Sha256 | None
    filename: str | None = Field(..., description="The archive's file name.")
    download_url: AnyUrl | None = Field(
        ...,
        alias="downloadUrl",
        description="A presigned download minted for this response (finished operations).",
    )
    expires_at: AwareDatetime | None = Field(..., alias="expiresAt", description="When `downloadUrl` stops working.")
    object_expires_at: AwareDatetime | None = Field(
        ...,
        alias="objectExpiresAt",
        description="When the archive itself is deleted (7 days after it was made).",
    )
    error: OperationFailure | None = Field(None, description="Why it failed (only once it failed).")


class StrictImportOperation(BaseModel):
    """
    An import from an upload, with its precise state.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A import id.", pattern="^imp_[0-9a-hjkmnp-tv-z]{26}$")
    callback_id: str = Field(
        ...,
        alias="callbackId",
        description="A import id.",
        pattern="^imp_[0-9a-hjkmnp-tv-z]{26}$",
    )
    kind: Literal["import"]
    status: OperationStatus = Field(..., description="The precise state.")
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    finished_at: AwareDatetime | None = Field(..., alias="finishedAt")
    upload_id: str = Field(
        ...,
        alias="uploadId",
        description="A upload id.",
        pattern="^upl_[0-9a-hjkmnp-tv-z]{26}$",
    )
    project_id: ProjectId | None = Field(..., alias="projectId", description="The imported project, once succeeded.")
    name: str | None = Field(..., description="The name asked for the imported project.")
    error: OperationFailure | None = Field(None, description="Why it failed (only once it failed).")


class SuiteCounts(BaseModel):
    """
    The generated project's test suite as unittest summarized it ("Ran N tests", "FAILED (...)").
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    run: int = Field(..., ge=0)
    failures: int | None = Field(0, ge=0)
    errors: int | None = Field(0, ge=0)
    skipped: int | None = Field(0, ge=0)


class Dependency(RootModel[str]):
    root: str = Field(..., pattern="^task-\\d{3}$")


class PathScopeItem(RootModel[str]):
    root: str = Field(..., max_length=300, min_length=1)


class ExpectedOutput(RootModel[str]):
    root: str = Field(..., max_length=300, min_length=1)


class TaskDefinition(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., examples=["task-001"], pattern="^task-\\d{3}$")
    slug: str = Field(..., examples=["scaffold"], max_length=60, pattern="^[a-z0-9]+(?:-[a-z0-9]+)*$")
    description: str = Field(..., max_length=500, min_length=1)
    instructions: str = Field(..., max_length=20000, min_length=1)
    dependencies: list[Dependency] | None = None
    path_scope: list[PathScopeItem] = Field(..., alias="pathScope", max_length=50, min_length=1)
    expected_outputs: list[ExpectedOutput] | None = Field(None, alias="expectedOutputs", max_length=200)


class MergeOrderItem(RootModel[str]):
    root: str = Field(..., pattern="^task-\\d{3}$")


class TaskPlan(BaseModel):
    """
    decompose's output: the run's tasks and the order their branches merge into main.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    tasks: list[TaskDefinition] = Field(..., max_length=200, min_length=1)
    merge_order: list[MergeOrderItem] = Field(..., alias="mergeOrder")


class TaskResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    files_created: list[str] | None = Field(None, alias="filesCreated")
    files_modified: list[str] | None = Field(None, alias="filesModified")
    commit_sha: str | None = Field(None, alias="commitSha")


class TaskStatus(StrEnum):
    pending = "pending"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


class TaskSummary(BaseModel):
    """
    A task as its run lists it; the whole task (definition, branch, result) is at
    `GET .../runs/{runId}/tasks/{taskId}`.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str
    slug: str
    status: TaskStatus
    sequence: int = Field(
        ...,
        description="1-based position of the task in the plan (`tasksJson.tasks`).",
        ge=1,
    )


class TasksSummary(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    total: int | None = 0
    succeeded: int | None = 0
    failed: int | None = 0


class TokenAnswer(BaseModel):
    """
    POST /oauth/token's answer (RFC 6749 section 5.1).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    access_token: str = Field(
        ...,
        description="A JWT (RFC 9068), 15 minutes; its `gid` claim names the grant.",
    )
    token_type: Literal["Bearer"]
    expires_in: int = Field(..., description="Seconds until the access token expires.")
    refresh_token: str = Field(..., description="Opaque, single use: each refresh answers a new one.")
    scope: str = Field(..., description="Space-separated scopes of the access token.")


class TokenType(StrEnum):
    bearer = "Bearer"
    refresh_token = "refresh_token"


class TokenIntrospection(BaseModel):
    """
    POST /oauth/introspect's answer (RFC 7662): only `active: false` for an inactive token.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = Field(None, description="The person's id.")
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None
    aud: str | None = None
    token_type: TokenType | None = None
    workspace: str | None = None
    jti: str | None = None


class ContentType(StrEnum):
    application_zip = "application/zip"
    application_gzip = "application/gzip"
    application_x_gzip = "application/x-gzip"
    application_x_tar_gzip = "application/x-tar+gzip"
    application_octet_stream = "application/octet-stream"
    application_vnd_kiln_zip = "application/vnd.kiln+zip"


class UploadCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    filename: str = Field(..., max_length=255, min_length=1, pattern="^[^/\\\\\\x00-\\x1f\\x7f]{1,255}$")
    content_type: ContentType = Field(..., alias="contentType")
    size_bytes: int = Field(..., alias="sizeBytes", ge=1, le=1073741824)


class User(BaseModel):
    """
    A person of a workspace, never their password or its hash.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A user id.", pattern="^usr_[0-9a-hjkmnp-tv-z]{26}$")
    email: str = Field(..., description="Unique in the deployment, lowercased.")
    name: str
    scopes: list[Scope]
    workspace_id: str = Field(
        ...,
        alias="workspaceId",
        description="A workspace id.",
        pattern="^ws_[0-9a-hjkmnp-tv-z]{26}$",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    password_changed_at: AwareDatetime = Field(
        ...,
        alias="passwordChangedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    email: str = Field(
        ...,
        description="Unique in the deployment, case-insensitively.",
        examples=["ada@example.com"],
        max_length=254,
        pattern="^\\s*[^@\\s]+@[^@\\s]+\\.[^@\\s]+\\s*$",
    )
    name: str = Field(
        ...,
        description="The person's name.",
        examples=["Ada Lovelace"],
        max_length=200,
        min_length=1,
    )
    password: str = Field(
        ...,
        description="12 to 256 characters; never returned.",
        max_length=256,
        min_length=12,
    )
    scopes: list[Scope] = Field(
        ...,
        description="Scopes; each must be held by the caller.",
        examples=[["project:read"]],
        max_length=16,
        min_length=1,
    )
    workspace_id: str | None = Field(
        None,
        alias="workspaceId",
        description="Add the person to this workspace (admin).",
    )


class Email(RootModel[str]):
    root: str = Field(None, max_length=254, pattern="^\\s*[^@\\s]+@[^@\\s]+\\.[^@\\s]+\\s*$")


class Password(RootModel[str]):
    root: str = Field(
        None,
        description="12 to 256 characters; never returned.",
        max_length=256,
        min_length=12,
    )


class Scopes(RootModel[list[Scope]]):
    root: list[Scope] = Field(None, max_length=16, min_length=1)


class UserUpdate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    email: Email | None = None
    name: Name | None = None
    password: Password | None = Field(None, description="12 to 256 characters; never returned.")
    scopes: Scopes | None = None


class VerificationCheck(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str
    passed: bool
    output: str | None = ""
    tests: SuiteCounts | None = None


class VerificationResult(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    passed: bool
    checks: list[VerificationCheck]


class Status4(StrEnum):
    enabled = "enabled"
    disabled = "disabled"


class DisabledReason(StrEnum):
    """
    Why it is disabled: by a PATCH (`user`), a 410 answer (`gone`) or 5 days of failures (`failing`).
    """

    user = "user"
    gone = "gone"
    failing = "failing"


class Webhook(BaseModel):
    """
    A webhook subscription (never its secret).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A webhook id.", pattern="^wh_[0-9a-hjkmnp-tv-z]{26}$")
    workspace_id: str = Field(
        ...,
        alias="workspaceId",
        description="A workspace id.",
        pattern="^ws_[0-9a-hjkmnp-tv-z]{26}$",
    )
    url: str = Field(
        ...,
        description="Where deliveries are POSTed (https; checked at every delivery).",
    )
    events: list[str] = Field(
        ...,
        description="Event types and wildcards (`run.*`, `custom.*`, `*`) it receives.",
    )
    description: str | None
    status: Status4
    disabled_reason: DisabledReason | None = Field(
        ...,
        alias="disabledReason",
        description="Why it is disabled: by a PATCH (`user`), a 410 answer (`gone`) or 5 days of failures (`failing`).",
    )
    failing_since: AwareDatetime | None = Field(
        ...,
        alias="failingSince",
        description="The first failed attempt of the current failing streak.",
    )
    previous_secret_expires_at: AwareDatetime | None = Field(
        ...,
        alias="previousSecretExpiresAt",
        description="After a rotation: until when the previous secret also signs (both signatures are sent).",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )


class Event1(RootModel[str]):
    root: str = Field(..., max_length=128, min_length=1)


class Description1(RootModel[str]):
    root: str = Field(None, description="A note for people reading the list.", max_length=500)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    url: str = Field(
        ...,
        description="https URL receiving the deliveries.",
        examples=["https://example.com/hooks/kiln"],
        max_length=2048,
        min_length=1,
    )
    events: list[Event1] = Field(
        ...,
        description="Event types (`run.completed`), family wildcards (`run.*`, `custom.*`), `custom.<name>` or `*`.",
        examples=[["run.*", "export.completed"]],
        max_length=64,
        min_length=1,
    )
    description: Description1 | None = Field(None, description="A note for people reading the list.")
    workspace_id: str | None = Field(None, alias="workspaceId", description="Subscribe this workspace (admin).")


class WebhookStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    deliveries_pending: int = Field(..., alias="deliveriesPending")
    deliveries_failed: int = Field(..., alias="deliveriesFailed")


class Url(RootModel[str]):
    root: str = Field(None, max_length=2048, min_length=1)


class Events(RootModel[list[Event1]]):
    root: list[Event1] = Field(None, max_length=64, min_length=1)


class Description2(RootModel[str]):
    root: str = Field(None, description="An empty string clears it.", max_length=500)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    url: Url | None = None
    events: Events | None = None
    description: Description2 | None = Field(None, description="An empty string clears it.")
    status: Status4 | None = None


class WebhookWithSecret(BaseModel):
    """
    A webhook with its signing secret (absent when the answer is an idempotent replay).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A webhook id.", pattern="^wh_[0-9a-hjkmnp-tv-z]{26}$")
    workspace_id: str = Field(
        ...,
        alias="workspaceId",
        description="A workspace id.",
        pattern="^ws_[0-9a-hjkmnp-tv-z]{26}$",
    )
    url: str = Field(
        ...,
        description="Where deliveries are POSTed (https; checked at every delivery).",
    )
    events: list[str] = Field(
        ...,
        description="Event types and wildcards (`run.*`, `custom.*`, `*`) it receives.",
    )
    description: str | None
    status: Status4
    disabled_reason: DisabledReason | None = Field(
        ...,
        alias="disabledReason",
        description="Why it is disabled: by a PATCH (`user`), a 410 answer (`gone`) or 5 days of failures (`failing`).",
    )
    failing_since: AwareDatetime | None = Field(
        ...,
        alias="failingSince",
        description="The first failed attempt of the current failing streak.",
    )
    previous_secret_expires_at: AwareDatetime | None = Field(
        ...,
        alias="previousSecretExpiresAt",
        description="After a rotation: until when the previous secret also signs (both signatures are sent).",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    secret: str | None = Field(
        None,
        description="The signing secret, `whsec_` + base64 of 32 random bytes: shown in this answer only. Absent from an `Idempotent-Replayed: true` answer.",
        pattern="^whsec_[A-Za-z0-9+/]{43}=$",
    )


class WorkflowStats(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    running: int = Field(
        ...,
        description="Step Functions executions running: builds, exports, imports, conversions.",
    )


class Tier(StrEnum):
    free = "free"
    pro = "pro"
    enterprise = "enterprise"


class Workspace(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A workspace id.", pattern="^ws_[0-9a-hjkmnp-tv-z]{26}$")
    name: str
    tier: Tier
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )


class Tier1(StrEnum):
    """
    Usage tier: its usage plan and limits.
    """

    free = "free"
    pro = "pro"
    enterprise = "enterprise"


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: str = Field(
        ...,
        description="Human name of the workspace.",
        examples=["Acme"],
        max_length=200,
        min_length=1,
    )
    tier: Tier1 = Field(..., description="Usage tier: its usage plan and limits.", examples=["pro"])


class Tier2(StrEnum):
    free = "free"
    pro = "pro"
    enterprise = "enterprise"


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    name: Name | None = None
    tier: Tier2 | None = None


class Clarification(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    project_id: str = Field(..., alias="projectId")
    status: ProjectStatus
    questions: list[Question]


class ConversionOperation(BaseModel):
    """
    A conversion of an upload to another format (asynchronous operation).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A conversion id.", pattern="^conv_[0-9a-hjkmnp-tv-z]{26}$")
    callback_id: str = Field(
        ...,
        alias="callbackId",
        description="A conversion id.",
        pattern="^conv_[0-9a-hjkmnp-tv-z]{26}$",
    )
    kind: Literal["conversion"]
    status: ResourceStatus = Field(
        ...,
        description="`processing`, then `completed` or `failed` (the precise state is at `GET /v2/operations/{callbackId}`).",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    finished_at: AwareDatetime | None = Field(..., alias="finishedAt")
    upload_id: str = Field(
        ...,
        alias="uploadId",
        description="A upload id.",
        pattern="^upl_[0-9a-hjkmnp-tv-z]{26}$",
    )
    to: To
    size_bytes: SizeBytes | None = Field(..., alias="sizeBytes", description="Size of the finished archive.")
    sha256: Sha256 | None
    filename: str | None = Field(..., description="The archive's file name.")
    download_url: AnyUrl | None = Field(
        ...,
        alias="downloadUrl",
        description="A presigned download minted for this response (finished operations).",
    )
    expires_at: AwareDatetime | None = Field(..., alias="expiresAt", description="When `downloadUrl` stops working.")
    object_expires_at: AwareDatetime | None = Field(
        ...,
        alias="objectExpiresAt",
        description="When the archive itself is deleted (7 days after it was made).",
    )
    error: OperationFailure | None = Field(None, description="Why it failed (only once it failed).")


class CurrentSession(BaseModel):
    """
    A browser session: its person, the CSRF token its changes must carry, its expiry.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    user: User
    csrf_token: str = Field(
        ...,
        alias="csrfToken",
        description="Send it as `X-CSRF-Token` with every POST, PATCH, PUT and DELETE made with the session cookie. Not a credential on its own; GET /v1/sessions/current returns it again.",
    )
    expires_at: AwareDatetime = Field(
        ...,
        alias="expiresAt",
        description="When the session ends at the latest; it ends sooner when unused for a while (30 minutes by default).",
    )


class Deployment(BaseModel):
    """
    A deploy preview, as stored and as answered.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str
    project_id: str = Field(..., alias="projectId")
    run_id: str = Field(..., alias="runId")
    status: DeploymentStatus
    provider: Provider
    url: str | None = Field(None, description="Where the preview answers; set once it is live.")
    created_at: str = Field(..., alias="createdAt")
    updated_at: str = Field(..., alias="updatedAt")
    expires_at: str = Field(..., alias="expiresAt", description="When the preview tears itself down.")
    stopped_at: str | None = Field(None, alias="stoppedAt")
    stop_reason: StopReason | None = Field(
        None,
        alias="stopReason",
        description="Why a stopped preview stopped: a DELETE, or its expiry.",
    )
    failure_reason: str | None = Field(
        None,
        alias="failureReason",
        description="Why it failed: the function's state reason, or the last lines the preview's process printed.",
    )


class DeploymentStarted(BaseModel):
    """
    The 202 answer of POST /v1/projects/{projectId}/deploy.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    deployment_id: str = Field(..., alias="deploymentId")
    status: DeploymentStatus
    provider: Provider2
    expires_at: str = Field(..., alias="expiresAt")


class Directory(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    ref: str = Field(..., description="The branch or commit sha asked for.")
    commit: str = Field(..., description="The commit sha `ref` resolved to.", pattern="^[0-9a-f]{40}$")
    path: str = Field(..., description="The directory; the root is `/`.")
    entries: list[DirectoryEntry] = Field(..., description="Directories first, then files, each sorted by name.")


class Event(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: int
    run_id: str = Field(..., alias="runId")
    task_id: str | None = Field(None, alias="taskId")
    event_type: EventType = Field(..., alias="eventType")
    payload: dict[str, Any] | None = None
    created_at: str = Field(..., alias="createdAt")


class ExportOperation(BaseModel):
    """
    An export (asynchronous operation).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A export id.", pattern="^exp_[0-9a-hjkmnp-tv-z]{26}$")
    callback_id: str = Field(
        ...,
        alias="callbackId",
        description="A export id.",
        pattern="^exp_[0-9a-hjkmnp-tv-z]{26}$",
    )
    kind: Literal["export"]
    status: ResourceStatus = Field(
        ...,
        description="`processing`, then `completed` or `failed` (the precise state is at `GET /v2/operations/{callbackId}`).",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    finished_at: AwareDatetime | None = Field(..., alias="finishedAt")
    project_id: str = Field(
        ...,
        alias="projectId",
        description="A project id.",
        pattern="^proj_[0-9a-hjkmnp-tv-z]{26}$",
    )
    format: Format
    source: ExportSource | None
    size_bytes: SizeBytes | None = Field(..., alias="sizeBytes", description="Size of the finished archive.")
    sha256: Sha256 | None
    filename: str | None = Field(..., description="The archive's file name.")
    download_url: AnyUrl | None = Field(
        ...,
        alias="downloadUrl",
        description="A presigned download minted for this response (finished operations).",
    )
    expires_at: AwareDatetime | None = Field(..., alias="expiresAt", description="When `downloadUrl` stops working.")
    object_expires_at: AwareDatetime | None = Field(
        ...,
        alias="objectExpiresAt",
        description="When the archive itself is deleted (7 days after it was made).",
    )
    error: OperationFailure | None = Field(None, description="Why it failed (only once it failed).")


class ImportOperation(BaseModel):
    """
    An import from an upload (asynchronous operation).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A import id.", pattern="^imp_[0-9a-hjkmnp-tv-z]{26}$")
    callback_id: str = Field(
        ...,
        alias="callbackId",
        description="A import id.",
        pattern="^imp_[0-9a-hjkmnp-tv-z]{26}$",
    )
    kind: Literal["import"]
    status: ResourceStatus = Field(
        ...,
        description="`processing`, then `completed` or `failed` (the precise state is at `GET /v2/operations/{callbackId}`).",
    )
    created_at: AwareDatetime = Field(
        ...,
        alias="createdAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    updated_at: AwareDatetime = Field(
        ...,
        alias="updatedAt",
        description="RFC 3339 timestamp, UTC, millisecond precision.",
    )
    finished_at: AwareDatetime | None = Field(..., alias="finishedAt")
    upload_id: str = Field(
        ...,
        alias="uploadId",
        description="A upload id.",
        pattern="^upl_[0-9a-hjkmnp-tv-z]{26}$",
    )
    project_id: ProjectId | None = Field(..., alias="projectId", description="The imported project, once succeeded.")
    name: str | None = Field(..., description="The name asked for the imported project.")
    error: OperationFailure | None = Field(None, description="Why it failed (only once it failed).")


class ImportedProject(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A project id.", pattern="^proj_[0-9a-hjkmnp-tv-z]{26}$")
    name: str
    status: ProjectStatus
    files: int = Field(..., description="Files imported.", ge=0)
    spec_versions: int = Field(..., alias="specVersions", description="Spec versions imported (.kiln).", ge=0)


class JsonRpcAnswer(BaseModel):
    """
    One JSON-RPC response: `result` (e.g. `tools/list`'s tools, a `tools/call`'s content and
    `isError`) or `error`, never both. The protocol's own fields may grow: unknown ones are kept.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    jsonrpc: Literal["2.0"]
    id: str | int | None = Field(..., description="The request's id.")
    result: dict[str, Any] | None = None
    error: JsonRpcError | None = None


class JsonWebKeySet(BaseModel):
    """
    The keys access tokens may be signed with: the next key (published before it signs), the
    current one and the retiring ones (kept until the last token they signed has expired).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    keys: list[PublicJwk]


class Project(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., examples=["proj_01m885m8rskqxxjknrtpgbxm1p"])
    name: str
    description: str
    status: ProjectStatus
    created_at: str = Field(..., alias="createdAt")
    updated_at: str = Field(..., alias="updatedAt")
    archived_at: str | None = Field(None, alias="archivedAt")
    spec_version: int | None = Field(None, alias="specVersion")
    approved_at: str | None = Field(None, alias="approvedAt")


class ProjectArchived(BaseModel):
    """
    The answer to DELETE /v1/projects/{projectId}: the soft delete's outcome.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str
    status: ProjectStatus
    archived_at: str | None = Field(..., alias="archivedAt")


class ProjectWithSpec(BaseModel):
    """
    A project after a spec was written: the project plus the version just written.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., examples=["proj_01m885m8rskqxxjknrtpgbxm1p"])
    name: str
    description: str
    status: ProjectStatus
    created_at: str = Field(..., alias="createdAt")
    updated_at: str = Field(..., alias="updatedAt")
    archived_at: str | None = Field(None, alias="archivedAt")
    spec_version: int | None = Field(None, alias="specVersion")
    approved_at: str | None = Field(None, alias="approvedAt")
    spec: SpecVersion


class Run(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str
    project_id: str = Field(..., alias="projectId")
    run_number: int = Field(..., alias="runNumber")
    status: RunStatus
    trigger: str
    callback_id: str = Field(..., alias="callbackId")
    spec_version: int = Field(..., alias="specVersion")
    retry_of: str | None = Field(None, alias="retryOf")
    created_at: str = Field(..., alias="createdAt")
    updated_at: str = Field(..., alias="updatedAt")
    finished_at: str | None = Field(None, alias="finishedAt")
    error: RunError | None = None
    tasks_summary: TasksSummary | None = Field(None, alias="tasksSummary")


class RunDetail(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str
    project_id: str = Field(..., alias="projectId")
    run_number: int = Field(..., alias="runNumber")
    status: RunStatus
    trigger: str
    callback_id: str = Field(..., alias="callbackId")
    spec_version: int = Field(..., alias="specVersion")
    retry_of: str | None = Field(None, alias="retryOf")
    created_at: str = Field(..., alias="createdAt")
    updated_at: str = Field(..., alias="updatedAt")
    finished_at: str | None = Field(None, alias="finishedAt")
    error: RunError | None = None
    tasks_summary: TasksSummary | None = Field(None, alias="tasksSummary")
    spec_snapshot: SpecSnapshot = Field(..., alias="specSnapshot")
    tasks_json: TaskPlan | None = Field(None, alias="tasksJson")
    tasks: list[TaskSummary] | None = None
    verification_result: VerificationResult | None = Field(None, alias="verificationResult")


class RunOperation(BaseModel):
    """
    A build run seen as an asynchronous operation (details at the run resource).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str = Field(..., description="A run id.", pattern="^run_[0-9a-hjkmnp-tv-z]{26}$")
    callback_id: str = Field(
        ...,
        alias="callbackId",
        description="A run id.",
        pattern="^run_[0-9a-hjkmnp-tv-z]{26}$",
    )
    kind: Literal["run"]
    project_id: str = Field(
        ...,
        alias="projectId",
        description="A project id.",
        pattern="^proj_[0-9a-hjkmnp-tv-z]{26}$",
    )
    status: RunStatus


class Stats(BaseModel):
    """
    Deployment-wide counters, kept by the table stream's `stats` consumer (eventually consistent:
    a change shows within a few seconds).
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    projects: ProjectStats
    runs: RunStats
    workflows: WorkflowStats
    exports: ExportStats
    webhooks: WebhookStats


class Task(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
    )
    id: str
    run_id: str = Field(..., alias="runId")
    definition: TaskDefinition
    status: TaskStatus
    branch_name: str = Field(..., alias="branchName")
    attempts: int | None = 0
    repairs: int | None = Field(
        0,
        description="Repair attempts on this task's files after the run's verification failed (model generators only).",
        ge=0,
    )
    result: TaskResult | None = None
    error: str | None = None
    started_at: str | None = Field(None, alias="startedAt")
    finished_at: str | None = Field(None, alias="finishedAt")


class AnyOperation(RootModel[StrictExportOperation | StrictImportOperation | StrictConversionOperation | RunOperation]):
    root: StrictExportOperation | StrictImportOperation | StrictConversionOperation | RunOperation = Field(
        ...,
        description="Any asynchronous operation, by its `kind`.",
        discriminator="kind",
        title="AnyOperation",
    )

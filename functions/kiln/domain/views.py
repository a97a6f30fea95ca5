"""What the API shows of records whose services answer plain values: workspaces, API keys,
repository listings and files, the service itself (asynchronous operations, uploads and
imports: kiln.domain.operation_views, so a function answering a workspace does not load the
operations and runs domains). The shared field types (ids, timestamps) are here.

Each is the model of an answer: a handler returns it, the pipeline serializes it (field order
is the wire order) and kiln.openapi documents it from the same class. Validating the service's
values into these models on the way out is cheap and turns a drift between what a service
returns and what the API documents into a failing test rather than a surprised client.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from kiln import SERVICE_NAME, ids
from kiln.tiers import TierName


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def omitted_when_none(value: Any) -> bool:
    return value is None


def no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omitted(description: str | None = None) -> Any:
    """A field left out of the answer when it has no value (rather than shown as null)."""
    return Field(default=None, description=description, exclude_if=omitted_when_none, json_schema_extra=no_default)


def _alphabet_class(alphabet: str) -> str:
    """A regex character class for `alphabet`, consecutive characters as ranges."""
    runs: list[list[str]] = []
    for char in alphabet:
        if runs and ord(char) == ord(runs[-1][-1]) + 1:
            runs[-1].append(char)
        else:
            runs.append([char])
    return (
        "["
        + "".join(
            run[0] if len(run) == 1 else run[0] + run[-1] if len(run) == 2 else f"{run[0]}-{run[-1]}" for run in runs
        )
        + "]"
    )


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

Timestamp = Annotated[
    str, Field(description="RFC 3339 timestamp, UTC, millisecond precision.", json_schema_extra={"format": "date-time"})
]
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
    previousSecretExpiresAt: str | None = Field(
        description="Until when the secret replaced by the last rotation still works.",
        json_schema_extra={"format": "date-time"},
    )


class ApiKeyWithSecret(ApiKey):
    """An API key with its new secret (absent when the answer is an idempotent replay)."""

    # The secret is never stored, so an Idempotent-Replayed answer cannot repeat it: it is the
    # same key without `secret`. An optional property (rather than a nullable one, or a oneOf) is
    # what client generators turn into one plain type.
    secret: Annotated[str, Field(pattern="^kiln_[A-Za-z0-9_-]{43}$")] | SkipJsonSchema[None] = omitted(
        "The bearer secret, `kiln_` + 43 URL-safe base64 characters: shown once, in the first answer "
        "only. Absent from an `Idempotent-Replayed: true` answer, which carries the key without it."
    )


# --- people ---------------------------------------------------------------------------------------

UserId = Annotated[str, Field(description="A user id.", pattern=id_pattern("user"))]


class User(View):
    """A person of a workspace, never their password or its hash."""

    id: UserId
    email: str = Field(description="Unique in the deployment, lowercased.")
    name: str
    scopes: list[Scope]
    workspaceId: WorkspaceId
    createdAt: Timestamp
    updatedAt: Timestamp
    passwordChangedAt: Timestamp


# --- sessions -------------------------------------------------------------------------------------


class CurrentSession(View):
    """A browser session: its person, the CSRF token its changes must carry, its expiry."""

    user: User
    csrfToken: str = Field(
        description="Send it as `X-CSRF-Token` with every POST, PATCH, PUT and DELETE made with the session "
        "cookie. Not a credential on its own; GET /v1/sessions/current returns it again."
    )
    expiresAt: Timestamp = Field(
        description="When the session ends at the latest; it ends sooner when unused for a while "
        "(30 minutes by default)."
    )

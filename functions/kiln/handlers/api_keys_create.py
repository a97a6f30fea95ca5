"""POST /v1/api-keys: create a key; the secret is in this response only (never stored).

Any key may create keys for its own workspace within its own powers: scopes it holds, paths
within its own allow-list, a lifetime within its own. `workspaceId` (admin only) mints a key
for another workspace.
"""

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from kiln import services
from kiln.domain.access import MAX_ALLOWED_PATHS, MAX_PATH_PATTERN_LENGTH, KeyRequest, key_view
from kiln.domain.projects import Name, Strict
from kiln.domain.views import ApiKeyWithSecret
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.routes import Scope

PathGlob = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATH_PATTERN_LENGTH)]
# Responses carrying a secret must not be kept by any cache on the way.
NO_STORE = {"Cache-Control": "no-store"}


class ApiKeyCreate(Strict):
    name: Name = Field(description="Human name of the key.", examples=["CI deploys"])
    scopes: list[Scope] = Field(
        min_length=1, max_length=16, description="Scopes; each must be held by the caller.", examples=[["project:read"]]
    )
    allowedPaths: list[PathGlob] = Field(
        default_factory=list,
        max_length=MAX_ALLOWED_PATHS,
        description="Path globs the key may call (`*` one segment, `**` any); empty: every path.",
        examples=[["/v1/projects", "/v1/projects/*"]],
    )
    expiresAt: AwareDatetime | None = Field(default=None, description="When the key stops working (<= 2 years).")
    workspaceId: str | None = Field(default=None, description="Admin only: mint the key for this workspace.")


def create_api_key(request: Request, body: ApiKeyCreate) -> Response:
    assert request.principal is not None
    service = services.current().access
    key, secret = service.create_key(
        request.principal,
        KeyRequest(
            name=body.name,
            scopes=tuple(body.scopes),
            allowed_paths=tuple(body.allowedPaths),
            expires_at=body.expiresAt,
            workspace_id=body.workspaceId,
        ),
    )
    return ok(ApiKeyWithSecret.model_validate({**key_view(key, service.now()), "secret": secret}), 201, NO_STORE)


handler = endpoint(
    create_api_key,
    Contract(
        body=ApiKeyCreate,
        answers=(
            Answer(
                201,
                "Created; `secret` is shown in this response only (an `Idempotent-Replayed` answer is the same key "
                "without it).",
                ApiKeyWithSecret,
                headers=("Cache-Control",),
            ),
        ),
    ),
)

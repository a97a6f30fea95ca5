"""POST /v1/api-keys/{keyId}/rotate: a new secret for the same key (shown once, 201).

The previous secret keeps working until `previousSecretExpiresAt` (24 hours by default;
KILN_KEY_ROTATION_GRACE_SECONDS), so clients can switch without downtime. Rotating again
ends an earlier previous secret at once. `workspaceId` (admin only) reaches another workspace.
"""

from datetime import timedelta

from kiln import config, services
from kiln.domain.access import key_view
from kiln.domain.projects import Strict
from kiln.domain.views import ApiKeyWithSecret
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok

NO_STORE = {"Cache-Control": "no-store"}


class KeyTarget(Strict):
    workspaceId: str | None = None


def rotate_api_key(request: Request, query: KeyTarget) -> Response:
    assert request.principal is not None
    key_id = request.path_id("keyId", "api_key")
    seconds = config.key_rotation_grace_seconds()
    service = services.current().access
    key, secret = service.rotate_key(
        request.principal, key_id, query.workspaceId, grace=None if seconds is None else timedelta(seconds=seconds)
    )
    return ok(ApiKeyWithSecret.model_validate({**key_view(key, service.now()), "secret": secret}), 201, NO_STORE)


handler = endpoint(
    rotate_api_key,
    Contract(
        query=KeyTarget,
        answers=(
            Answer(
                201,
                "Rotated; the new `secret` is shown in this response only (an `Idempotent-Replayed` answer is the "
                "same key without it).",
                ApiKeyWithSecret,
                headers=("Cache-Control",),
            ),
        ),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

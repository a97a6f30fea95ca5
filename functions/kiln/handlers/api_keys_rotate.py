"""POST /v1/api-keys/{keyId}/rotate: a new secret for the same key (shown once, 201).

The previous secret keeps working until `previousSecretExpiresAt` (24 hours by default;
KILN_KEY_ROTATION_GRACE_SECONDS), so clients can switch without downtime. Rotating again
ends an earlier previous secret at once. `workspaceId` (admin only) reaches another workspace.
"""

from datetime import timedelta

from kiln import config, services
from kiln.domain.access import key_view
from kiln.domain.projects import Strict
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok

NO_STORE = {"Cache-Control": "no-store"}


class KeyTarget(Strict):
    workspaceId: str | None = None


def rotate_api_key(request: Request) -> Response:
    assert request.principal is not None
    key_id = request.path_id("keyId", "api_key")
    target = request.query_as(KeyTarget)
    seconds = config.key_rotation_grace_seconds()
    service = services.access()
    key, secret = service.rotate_key(request.principal, key_id, target.workspaceId,
                                     grace=None if seconds is None else timedelta(seconds=seconds))
    return ok({**key_view(key, service.now()), "secret": secret}, 201, NO_STORE)


handler = endpoint(rotate_api_key)

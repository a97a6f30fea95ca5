"""DELETE /v1/api-keys/{keyId}: revoke a key (and its previous secret, if one is in grace).

Idempotent: revoking again answers 200 with the same record. API Gateway caches the
authorizer's answer per token for up to 60 s, so a revoked key stops working within 60 s;
it can no longer manage keys at once. `workspaceId` (admin only) reaches another workspace.
"""

from kiln import services
from kiln.domain.access import key_view
from kiln.domain.projects import Strict
from kiln.domain.views import ApiKey
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


class KeyTarget(Strict):
    workspaceId: str | None = None


def revoke_api_key(request: Request, query: KeyTarget) -> Response:
    assert request.principal is not None
    key_id = request.path_id("keyId", "api_key")
    service = services.current().access
    key = service.revoke_key(request.principal, key_id, query.workspaceId)
    return ok(ApiKey.model_validate(key_view(key, service.now())))


handler = endpoint(
    revoke_api_key,
    Contract(
        query=KeyTarget,
        answers=(Answer(200, "Revoked (again, if it already was).", ApiKey),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

"""POST /v1/webhooks/{webhookId}/rotate-secret: a new signing secret, shown once.

The previous secret keeps signing next to the new one until `previousSecretExpiresAt` (24 hours
by default; KILN_WEBHOOK_SECRET_OVERLAP_SECONDS): each delivery carries both signatures, so a
receiver verifies with either while it switches. Rotating again ends an earlier previous secret.
"""

from kiln import services
from kiln.domain.webhook_views import WebhookWithSecret
from kiln.domain.webhooks import webhook_view
from kiln.envelope import ErrorCode
from kiln.handlers.webhooks_create import NO_STORE
from kiln.handlers.webhooks_get import WebhookTarget
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def rotate_webhook_secret(request: Request, query: WebhookTarget) -> Response:
    assert request.principal is not None
    webhook_id = request.path_id("webhookId", "webhook")
    service = services.current().webhooks
    subscription, secret = service.rotate_secret(request.principal, webhook_id, query.workspaceId)
    view = {**webhook_view(subscription, service.now()), "secret": secret}
    return ok(WebhookWithSecret.model_validate(view), 200, NO_STORE)


handler = endpoint(
    rotate_webhook_secret,
    Contract(
        query=WebhookTarget,
        answers=(
            Answer(
                200,
                "Rotated; the new `secret` is shown in this response only (an `Idempotent-Replayed` answer is the "
                "same webhook without it).",
                WebhookWithSecret,
                headers=("Cache-Control",),
            ),
        ),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

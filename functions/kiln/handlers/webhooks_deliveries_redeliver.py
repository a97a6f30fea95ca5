"""POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver: send a delivery's event again (202).

A new delivery of the same payload with the same `webhook-id` (receivers deduplicate on it),
attempted now with the retry schedule of its own; the answer is the new pending delivery.
A disabled webhook is a 409: enable it first.
"""

from kiln import services
from kiln.domain.webhook_views import DeliveryView
from kiln.envelope import ErrorCode
from kiln.handlers.webhooks_get import WebhookTarget
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def redeliver(request: Request, query: WebhookTarget) -> Response:
    assert request.principal is not None
    webhook_id = request.path_id("webhookId", "webhook")
    delivery_id = request.path_id("deliveryId", "delivery")
    root = services.current()
    subscription = root.webhooks.testable(request.principal, webhook_id, query.workspaceId)
    delivery = root.deliveries.redeliver(subscription.workspace_id, subscription.id, delivery_id)
    return ok(DeliveryView.model_validate(delivery.view()), 202)


handler = endpoint(
    redeliver,
    Contract(
        query=WebhookTarget,
        answers=(Answer(202, "Queued: the new pending delivery.", DeliveryView),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

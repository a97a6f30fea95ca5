"""POST /v1/webhooks/{webhookId}/test: send the webhook a signed `webhook.test` event (202).

The delivery goes through the same engine as every other (signing, the address rules, retries)
and shows in GET /v1/webhooks/{webhookId}/deliveries; this answers the pending delivery.
A disabled webhook is a 409: enable it first.
"""

from kiln import services
from kiln.domain.webhook_views import DeliveryView
from kiln.domain.webhooks import webhook_test_event
from kiln.envelope import ErrorCode
from kiln.handlers.webhooks_get import WebhookTarget
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def test_webhook(request: Request, query: WebhookTarget) -> Response:
    assert request.principal is not None
    webhook_id = request.path_id("webhookId", "webhook")
    root = services.current()
    subscription = root.webhooks.testable(request.principal, webhook_id, query.workspaceId)
    delivery = root.deliveries.enqueue(subscription, webhook_test_event(subscription, root.webhooks.now()))
    assert delivery is not None  # a fresh event id: never a delivery stored before
    return ok(DeliveryView.model_validate(delivery.view()), 202)


handler = endpoint(
    test_webhook,
    Contract(
        query=WebhookTarget,
        answers=(Answer(202, "Queued: the pending test delivery.", DeliveryView),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

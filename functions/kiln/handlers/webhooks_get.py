"""GET /v1/webhooks/{webhookId}: one webhook (never its secret); another workspace's answers as a
missing one. `workspaceId` (admin only) reads another workspace's."""

from kiln import services
from kiln.domain.projects import Strict
from kiln.domain.webhook_views import Webhook
from kiln.domain.webhooks import webhook_view
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


class WebhookTarget(Strict):
    workspaceId: str | None = None


def get_webhook(request: Request, query: WebhookTarget) -> Response:
    assert request.principal is not None
    webhook_id = request.path_id("webhookId", "webhook")
    service = services.current().webhooks
    subscription = service.get(request.principal, webhook_id, query.workspaceId)
    return ok(Webhook.model_validate(webhook_view(subscription, service.now())))


handler = endpoint(get_webhook, Contract(query=WebhookTarget, answers=(Answer(200, model=Webhook),)))

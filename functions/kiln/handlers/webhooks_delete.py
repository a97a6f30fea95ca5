"""DELETE /v1/webhooks/{webhookId}: stop delivering to it (204). Pending deliveries end with
their next attempt; the delivery log stays until it expires (30 days)."""

from kiln import services
from kiln.handlers.webhooks_get import WebhookTarget
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response


def delete_webhook(request: Request, query: WebhookTarget) -> Response:
    assert request.principal is not None
    webhook_id = request.path_id("webhookId", "webhook")
    services.current().webhooks.delete(request.principal, webhook_id, query.workspaceId)
    return Response(204)


handler = endpoint(delete_webhook, Contract(query=WebhookTarget, answers=(Answer(204, "Deleted.", shape="empty"),)))

"""PATCH /v1/webhooks/{webhookId}: change a webhook's url, events, description or status.

A new URL passes the same rules as at creation. `status: enabled` on a disabled webhook
(by a user, a 410 or 5 days of failures) starts it afresh: no failing streak carried over.
"""

from typing import Literal

from pydantic import Field

from kiln import services
from kiln.domain.projects import PartialUpdate
from kiln.domain.webhook_views import Webhook
from kiln.domain.webhooks import MAX_PATTERNS, WebhookChanges, webhook_view
from kiln.envelope import ErrorCode
from kiln.handlers.webhooks_create import Pattern, Text, Url
from kiln.handlers.webhooks_get import WebhookTarget
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


class WebhookUpdate(PartialUpdate):
    url: Url | None = None
    events: list[Pattern] | None = Field(default=None, min_length=1, max_length=MAX_PATTERNS)
    description: Text | None = Field(default=None, description="An empty string clears it.")
    status: Literal["enabled", "disabled"] | None = None


def update_webhook(request: Request, body: WebhookUpdate, query: WebhookTarget) -> Response:
    assert request.principal is not None
    webhook_id = request.path_id("webhookId", "webhook")
    changes = WebhookChanges(
        url=body.url,
        events=tuple(body.events) if body.events is not None else None,
        description=body.description,
        status=body.status,
    )
    service = services.current().webhooks
    subscription = service.update(request.principal, webhook_id, changes, query.workspaceId)
    return ok(Webhook.model_validate(webhook_view(subscription, service.now())))


handler = endpoint(
    update_webhook,
    Contract(
        body=WebhookUpdate,
        query=WebhookTarget,
        answers=(Answer(200, "Updated.", Webhook),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

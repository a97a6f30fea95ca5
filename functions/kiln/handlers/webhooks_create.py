"""POST /v1/webhooks: subscribe a URL to a workspace's events (201; the secret is shown once).

The URL must be https and resolve only to public addresses (kiln.domain.url_safety), checked
now and again at every delivery. `workspaceId` (admin only) subscribes another workspace.
An idempotent replay answers the webhook without its secret (route replay "without-secret").
"""

from typing import Annotated

from pydantic import Field, StringConstraints

from kiln import services
from kiln.domain.projects import Strict
from kiln.domain.url_safety import MAX_URL_LENGTH
from kiln.domain.webhook_views import WebhookWithSecret
from kiln.domain.webhooks import MAX_DESCRIPTION, MAX_PATTERNS, WebhookRequest, webhook_view
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok

NO_STORE = {"Cache-Control": "no-store"}

Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH)]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_DESCRIPTION)]


class WebhookCreate(Strict):
    url: Url = Field(description="https URL receiving the deliveries.", examples=["https://example.com/hooks/kiln"])
    events: list[Pattern] = Field(
        min_length=1,
        max_length=MAX_PATTERNS,
        description="Event types (`run.completed`), family wildcards (`run.*`, `custom.*`), `custom.<name>` or `*`.",
        examples=[["run.*", "export.completed"]],
    )
    description: Text | None = Field(default=None, description="A note for people reading the list.")
    workspaceId: str | None = Field(default=None, description="Subscribe this workspace (admin).")


def create_webhook(request: Request, body: WebhookCreate) -> Response:
    assert request.principal is not None
    service = services.current().webhooks
    subscription, secret = service.create(
        request.principal,
        WebhookRequest(
            url=body.url,
            events=tuple(body.events),
            description=body.description or None,
            workspace_id=body.workspaceId,
        ),
    )
    view = {**webhook_view(subscription, service.now()), "secret": secret}
    return ok(WebhookWithSecret.model_validate(view), 201, NO_STORE)


handler = endpoint(
    create_webhook,
    Contract(
        body=WebhookCreate,
        answers=(
            Answer(
                201,
                "Created; `secret` is shown in this response only (an `Idempotent-Replayed` answer is the same "
                "webhook without it).",
                WebhookWithSecret,
                headers=("Cache-Control",),
            ),
        ),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

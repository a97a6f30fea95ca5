"""GET /v1/webhooks/{webhookId}/deliveries: the webhook's deliveries, newest first, with every
attempt (status code, duration, error, the first 1 KiB of the answer). Cursor mode only: the
log is a stream of recent deliveries (kept 30 days), not a set to count pages of."""

from pydantic import Field

from kiln import services
from kiln.domain.projects import Strict
from kiln.domain.webhook_views import DeliveryView
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, cursor_pagination, list_scope
from kiln.http.request import Request
from kiln.http.response import Response, listed


class DeliveryListParams(Strict):
    limit: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=2048)
    workspaceId: str | None = None


def list_deliveries(request: Request, query: DeliveryListParams) -> Response:
    assert request.principal is not None
    webhook_id = request.path_id("webhookId", "webhook")
    root = services.current()
    subscription = root.webhooks.get(request.principal, webhook_id, query.workspaceId)
    scope = list_scope(
        request.route.path,
        request.workspace_id,
        {"webhookId": webhook_id, **query.model_dump(mode="json", include={"workspaceId"})},
    )
    after = root.cursors.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    items, position = root.deliveries.list_for(subscription.workspace_id, subscription.id, limit, after)
    next_cursor = root.cursors.encode(scope, position) if position else None
    return listed([DeliveryView.model_validate(d.view()) for d in items], cursor_pagination(limit, next_cursor))


handler = endpoint(
    list_deliveries,
    Contract(query=DeliveryListParams, answers=(Answer(200, "One page of the log.", DeliveryView, "list", "cursor"),)),
)

"""GET /v1/webhooks: the workspace's webhooks (never a secret), page or cursor mode, newest first.

`workspaceId` (admin only) lists another workspace's.
"""

from kiln import services
from kiln.domain.webhook_views import Webhook
from kiln.domain.webhooks import webhook_view
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import DEFAULT_PAGE_SIZE, ListParams, cursor_pagination, list_scope, page_pagination
from kiln.http.request import Request
from kiln.http.response import Response, listed


class WebhookListParams(ListParams):
    workspaceId: str | None = None


def list_webhooks(request: Request, query: WebhookListParams) -> Response:
    assert request.principal is not None
    service = services.current().webhooks
    now = service.now()
    if not query.cursor_mode:
        page, size = query.page or 1, query.pageSize or DEFAULT_PAGE_SIZE
        items, total = service.list_page(request.principal, query.workspaceId, page, size)
        return listed([Webhook.model_validate(webhook_view(s, now)) for s in items], page_pagination(page, size, total))
    codec = services.current().cursors
    scope = list_scope(request.route.path, request.workspace_id, query.filters())
    after = codec.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    items, position = service.list_cursor(request.principal, query.workspaceId, limit, after)
    next_cursor = codec.encode(scope, position) if position else None
    return listed([Webhook.model_validate(webhook_view(s, now)) for s in items], cursor_pagination(limit, next_cursor))


handler = endpoint(
    list_webhooks,
    Contract(query=WebhookListParams, answers=(Answer(200, "One page of the list.", Webhook, "list", "modes"),)),
)

"""GET /v1/api-keys: the workspace's keys (never a secret), page or cursor mode.

`workspaceId` (admin only) lists another workspace's keys.
"""

from kiln import services
from kiln.domain.access import key_view
from kiln.http.api import endpoint
from kiln.http.pagination import DEFAULT_PAGE_SIZE, ListParams, cursor_pagination, list_scope, page_pagination
from kiln.http.request import Request
from kiln.http.response import Response, listed


class ApiKeyListParams(ListParams):
    workspaceId: str | None = None


def list_api_keys(request: Request) -> Response:
    assert request.principal is not None
    params = request.query_as(ApiKeyListParams)
    service = services.access()
    if not params.cursor_mode:
        page, size = params.page or 1, params.pageSize or DEFAULT_PAGE_SIZE
        items, total = service.list_keys_page(request.principal, params.workspaceId, page, size)
        now = service.now()
        return listed([key_view(k, now) for k in items], page_pagination(page, size, total))
    codec = services.cursors()
    scope = list_scope(request.route.path, request.workspace_id, params.filters())
    after = codec.decode(scope, params.cursor) if params.cursor else None
    limit = params.limit or DEFAULT_PAGE_SIZE
    items, position = service.list_keys_cursor(request.principal, params.workspaceId, limit, after)
    next_cursor = codec.encode(scope, position) if position else None
    now = service.now()
    return listed([key_view(k, now) for k in items], cursor_pagination(limit, next_cursor))


handler = endpoint(list_api_keys)

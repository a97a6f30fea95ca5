"""GET /v1/api-keys: the workspace's keys (never a secret), page or cursor mode.

`workspaceId` (admin only) lists another workspace's keys.
"""

from kiln import services
from kiln.domain.access import key_view
from kiln.domain.views import ApiKey
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import DEFAULT_PAGE_SIZE, ListParams, cursor_pagination, list_scope, page_pagination
from kiln.http.request import Request
from kiln.http.response import Response, listed


class ApiKeyListParams(ListParams):
    workspaceId: str | None = None


def list_api_keys(request: Request, query: ApiKeyListParams) -> Response:
    assert request.principal is not None
    service = services.current().access
    if not query.cursor_mode:
        page, size = query.page or 1, query.pageSize or DEFAULT_PAGE_SIZE
        items, total = service.list_keys_page(request.principal, query.workspaceId, page, size)
        now = service.now()
        return listed([ApiKey.model_validate(key_view(k, now)) for k in items], page_pagination(page, size, total))
    codec = services.current().cursors
    scope = list_scope(request.route.path, request.workspace_id, query.filters())
    after = codec.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    items, position = service.list_keys_cursor(request.principal, query.workspaceId, limit, after)
    next_cursor = codec.encode(scope, position) if position else None
    now = service.now()
    return listed([ApiKey.model_validate(key_view(k, now)) for k in items], cursor_pagination(limit, next_cursor))


handler = endpoint(
    list_api_keys,
    Contract(
        query=ApiKeyListParams,
        answers=(Answer(200, "One page of the list.", ApiKey, "list", "modes"),),
    ),
)

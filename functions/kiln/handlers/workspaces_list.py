"""GET /v1/workspaces (admin): page mode by default, cursor mode with `limit`/`cursor`."""

from kiln import services
from kiln.domain.access import workspace_view
from kiln.domain.views import Workspace
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import DEFAULT_PAGE_SIZE, ListParams, cursor_pagination, list_scope, page_pagination
from kiln.http.request import Request
from kiln.http.response import Response, listed


def list_workspaces(request: Request, query: ListParams) -> Response:
    service = services.current().access
    if not query.cursor_mode:
        page, size = query.page or 1, query.pageSize or DEFAULT_PAGE_SIZE
        items, total = service.list_workspaces_page(page, size)
        return listed([Workspace.model_validate(workspace_view(w)) for w in items], page_pagination(page, size, total))
    codec = services.current().cursors
    scope = list_scope(request.route.path, request.workspace_id, query.filters())
    after = codec.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    items, position = service.list_workspaces_cursor(limit, after)
    next_cursor = codec.encode(scope, position) if position else None
    return listed([Workspace.model_validate(workspace_view(w)) for w in items], cursor_pagination(limit, next_cursor))


handler = endpoint(
    list_workspaces,
    Contract(
        query=ListParams,
        answers=(Answer(200, "One page of the list.", Workspace, "list", "modes"),),
    ),
)

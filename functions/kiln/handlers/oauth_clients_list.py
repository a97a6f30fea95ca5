"""GET /v1/oauth/clients (admin): the workspace's OAuth clients, page or cursor mode."""

from kiln import services
from kiln.domain.oauth import client_view
from kiln.domain.oauth_views import OAuthClientView
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import DEFAULT_PAGE_SIZE, ListParams, cursor_pagination, list_scope, page_pagination
from kiln.http.request import Request
from kiln.http.response import Response, listed


def list_clients(request: Request, query: ListParams) -> Response:
    assert request.principal is not None
    oauth = services.current().oauth
    if not query.cursor_mode:
        page, size = query.page or 1, query.pageSize or DEFAULT_PAGE_SIZE
        items, total = oauth.list_page(request.principal, page, size)
        return listed(
            [OAuthClientView.model_validate(client_view(c)) for c in items], page_pagination(page, size, total)
        )
    codec = services.current().cursors
    scope = list_scope(request.route.path, request.workspace_id, query.filters())
    after = codec.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    items, position = oauth.list_cursor(request.principal, limit, after)
    next_cursor = codec.encode(scope, position) if position else None
    return listed(
        [OAuthClientView.model_validate(client_view(c)) for c in items], cursor_pagination(limit, next_cursor)
    )


handler = endpoint(
    list_clients,
    Contract(query=ListParams, answers=(Answer(200, "One page of the list.", OAuthClientView, "list", "modes"),)),
)

"""GET /v1/users (admin): the workspace's people (never a password), page or cursor mode.

`workspaceId` lists another workspace's people.
"""

from kiln import services
from kiln.domain.people import person_view
from kiln.domain.views import User
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import DEFAULT_PAGE_SIZE, ListParams, cursor_pagination, list_scope, page_pagination
from kiln.http.request import Request
from kiln.http.response import Response, listed


class UserListParams(ListParams):
    workspaceId: str | None = None


def list_users(request: Request, query: UserListParams) -> Response:
    assert request.principal is not None
    people = services.current().people
    if not query.cursor_mode:
        page, size = query.page or 1, query.pageSize or DEFAULT_PAGE_SIZE
        items, total = people.list_page(request.principal, query.workspaceId, page, size)
        return listed([User.model_validate(person_view(p)) for p in items], page_pagination(page, size, total))
    codec = services.current().cursors
    scope = list_scope(request.route.path, request.workspace_id, query.filters())
    after = codec.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    items, position = people.list_cursor(request.principal, query.workspaceId, limit, after)
    next_cursor = codec.encode(scope, position) if position else None
    return listed([User.model_validate(person_view(p)) for p in items], cursor_pagination(limit, next_cursor))


handler = endpoint(
    list_users,
    Contract(query=UserListParams, answers=(Answer(200, "One page of the list.", User, "list", "modes"),)),
)

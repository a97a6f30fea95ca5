"""GET /v1/projects: page mode by default, cursor mode with `limit`/`cursor`.

Archived projects are left out unless `status=archived` asks for them.
"""

from pydantic import Field

from kiln import services
from kiln.domain.projects import SEARCH_MAX, CursorRequest, PageRequest, Project, ProjectListFilter, ProjectStatus
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import (
    DEFAULT_PAGE_SIZE,
    ListParams,
    cursor_pagination,
    list_scope,
    page_pagination,
)
from kiln.http.request import Request
from kiln.http.response import Response, listed


class ProjectListParams(ListParams):
    status: ProjectStatus | None = None
    search: str | None = Field(default=None, min_length=1, max_length=SEARCH_MAX)


def list_projects(request: Request, query: ProjectListParams) -> Response:
    filters = ProjectListFilter(status=query.status, search=query.search)
    service = services.current().projects
    if not query.cursor_mode:
        page, size = query.page or 1, query.pageSize or DEFAULT_PAGE_SIZE
        result = service.list_page(request.workspace_id, filters, PageRequest(page, size))
        return listed([p.json() for p in result.items], page_pagination(page, size, result.total))
    codec = services.current().cursors
    scope = list_scope(request.route.path, request.workspace_id, query.filters())
    after = codec.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    found = service.list_cursor(request.workspace_id, filters, CursorRequest(limit, after))
    next_cursor = codec.encode(scope, found.after) if found.after else None
    return listed([p.json() for p in found.items], cursor_pagination(limit, next_cursor))


handler = endpoint(
    list_projects,
    Contract(
        query=ProjectListParams,
        answers=(Answer(200, "One page of the list.", Project, "list", "modes"),),
        notes="Archived projects are left out unless `status=archived` asks for them.",
    ),
)

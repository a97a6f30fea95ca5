"""GET /v1/projects: page mode by default, cursor mode with `limit`/`cursor`.

Archived projects are left out unless `status=archived` asks for them.
"""

from kiln import services
from kiln.domain.project_bodies import SEARCH_MAX
from kiln.domain.project_records import CursorRequest, PageRequest, ProjectListFilter, ProjectStatus
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.list_query import (
    DEFAULT_PAGE_SIZE,
    ListQuery,
    choice,
    cursor_pagination,
    list_query,
    list_scope,
    page_pagination,
    text,
)
from kiln.http.request import Request
from kiln.http.response import Response, listed

# ProjectListParams' own fields, in its order: the query is checked as that model would check
# it (tests/unit/kiln/http/test_list_query.py holds the two to the same answers).
check_query = list_query({"status": choice(ProjectStatus), "search": text(1, SEARCH_MAX)})


def list_projects(request: Request, query: ListQuery) -> Response:
    filters = ProjectListFilter(status=query.values["status"], search=query.values["search"])
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


# The models by name: the query is checked without pydantic and the answers are ProjectRecords,
# so this function never loads it (cold start).
handler = endpoint(
    list_projects,
    Contract(
        query="kiln.http.project_list_params:ProjectListParams",
        query_check=check_query,
        answers=(Answer(200, "One page of the list.", "kiln.domain.projects:Project", "list", "modes"),),
        notes="Archived projects are left out unless `status=archived` asks for them.",
    ),
)

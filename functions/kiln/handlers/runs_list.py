"""GET /v1/projects/{projectId}/runs: newest first, page mode by default, cursor mode opt-in."""

from kiln import services
from kiln.domain.runs import Run, RunListFilter, RunStatus
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.pagination import DEFAULT_PAGE_SIZE, ListParams, cursor_pagination, list_scope, page_pagination
from kiln.http.request import Request
from kiln.http.response import Response, listed


class RunListParams(ListParams):
    status: RunStatus | None = None


def list_runs(request: Request, query: RunListParams) -> Response:
    project_id = request.path_id("projectId", "project")
    filters = RunListFilter(status=query.status)
    service = services.current().runs
    if not query.cursor_mode:
        page, size = query.page or 1, query.pageSize or DEFAULT_PAGE_SIZE
        runs, total = service.list_page(request.workspace_id, project_id, filters, page, size)
        return listed(runs, page_pagination(page, size, total))
    codec = services.current().cursors
    scope = list_scope(f"{request.route.path}:{project_id}", request.workspace_id, query.filters())
    after = codec.decode(scope, query.cursor) if query.cursor else None
    limit = query.limit or DEFAULT_PAGE_SIZE
    runs, position = service.list_cursor(request.workspace_id, project_id, filters, limit, after)
    next_cursor = codec.encode(scope, position) if position else None
    return listed(runs, cursor_pagination(limit, next_cursor))


handler = endpoint(
    list_runs,
    Contract(
        query=RunListParams,
        answers=(Answer(200, "One page of the list.", Run, "list", "modes"),),
        notes="Newest first.",
    ),
)

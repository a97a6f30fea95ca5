"""GET /v1/workspaces/{workspaceId} (admin)."""

from kiln import services
from kiln.domain.access import workspace_view
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_workspace(request: Request) -> Response:
    workspace_id = request.path_id("workspaceId", "workspace")
    return ok(workspace_view(services.access().get_workspace(workspace_id)))


handler = endpoint(get_workspace)

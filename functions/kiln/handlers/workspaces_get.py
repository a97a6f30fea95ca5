"""GET /v1/workspaces/{workspaceId} (admin)."""

from kiln import services
from kiln.domain.access import workspace_view
from kiln.domain.views import Workspace
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_workspace(request: Request) -> Response:
    workspace_id = request.path_id("workspaceId", "workspace")
    return ok(Workspace.model_validate(workspace_view(services.current().access.get_workspace(workspace_id))))


handler = endpoint(get_workspace, Contract(answers=(Answer(200, model=Workspace),)))

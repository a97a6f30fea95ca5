"""GET /v1/projects/{projectId}/exports/{exportId}: status, size, sha256 and a fresh download URL."""

from kiln import services
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_export(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    export_id = request.path_id("exportId", "export")
    services.projects().get(request.workspace_id, project_id)
    return ok(services.operations().get_export(request.workspace_id, project_id, export_id))


handler = endpoint(get_export)

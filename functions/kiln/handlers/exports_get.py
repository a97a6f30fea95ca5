"""GET /v1/projects/{projectId}/exports/{exportId}: status, size, sha256 and a fresh download URL."""

from kiln import services
from kiln.domain.operation_views import ExportOperation
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_export(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    export_id = request.path_id("exportId", "export")
    services.current().projects.get(request.workspace_id, project_id)
    export = services.current().operations.get_export(request.workspace_id, project_id, export_id)
    return ok(ExportOperation.model_validate(export))


handler = endpoint(
    get_export,
    Contract(
        answers=(Answer(200, "The export; `downloadUrl` is fresh when it succeeded.", ExportOperation),),
    ),
)

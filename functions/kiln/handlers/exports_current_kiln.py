"""GET /v1/projects/{projectId}/export.kiln: the .kiln archive of main as it is now.

302 to a download when that export is done; 202 with Location (and Retry-After) while it is
being made, starting it if nobody has. A project with no main yet (nothing built or imported)
exports as what it is: its spec and an empty tree.
"""

from kiln import services
from kiln.domain.generation import slug
from kiln.domain.operation_views import ExportOperation
from kiln.domain.operations import RETRY_AFTER_SECONDS, OperationStatus
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def current_kiln(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    project = services.current().projects.get(request.workspace_id, project_id)
    operations = services.current().operations
    operation, _ = operations.current_kiln(request.workspace_id, project, slug(project.name))
    if operation.status is OperationStatus.SUCCEEDED:
        url = operations.download(request.workspace_id, project_id, operation.id)
        return Response(302, headers={"Location": url, "Cache-Control": "no-store"})
    location = f"/v1/projects/{project_id}/exports/{operation.id}"
    view = ExportOperation.model_validate(operations.view(operation))
    return ok(view, 202, {"Location": location, "Retry-After": str(RETRY_AFTER_SECONDS)})


handler = endpoint(
    current_kiln,
    Contract(
        notes="A project with no `main` yet exports as what it is: its project and spec, no files.",
        answers=(
            Answer(
                302,
                "The current `.kiln` export exists: redirect to its presigned download.",
                shape="empty",
                headers=("Location", "Cache-Control"),
            ),
            Answer(
                202,
                "The export of the current main is being made (started now if nobody had): retry after "
                "`Retry-After` seconds, or follow `Location`.",
                ExportOperation,
                headers=("Location", "Retry-After"),
            ),
        ),
    ),
)

"""POST /v1/projects/{projectId}/exports: export a run's output or a ref (202, asynchronous).

Also serves the deprecated POST /v1/projects/{projectId}/export (kiln.routes: the pipeline
adds its deprecation headers).
"""

from kiln import services
from kiln.domain.generation import slug
from kiln.domain.operation_views import ExportOperation
from kiln.domain.operations import ExportCreate
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def start_export(request: Request, body: ExportCreate) -> Response:
    project_id = request.path_id("projectId", "project")
    project = services.current().projects.get(request.workspace_id, project_id)
    operations = services.current().operations
    operation = operations.export(request.workspace_id, project_id, body, slug(project.name))
    location = f"/v1/projects/{project_id}/exports/{operation.id}"
    return ok(ExportOperation.model_validate(operations.view(operation)), 202, {"Location": location})


handler = endpoint(
    start_export,
    Contract(
        body=ExportCreate,
        body_optional=True,
        answers=(
            Answer(
                202,
                "The export started; follow `Location` or poll `GET /v2/operations/{callbackId}`.",
                ExportOperation,
                headers=("Location",),
            ),
        ),
        errors={409: (ErrorCode.CONFLICT,)},
        notes="A project with no `main` yet exports as `kiln` only (its project and spec, no files); "
        "`zip` or `tar.gz` of it is 409 `CONFLICT` (`details.reason: no_main`).",
    ),
)

"""POST /v1/projects/{projectId}/exports: export a run's output or a ref (202, asynchronous).

Also serves the deprecated POST /v1/projects/{projectId}/export (kiln.routes: the pipeline
adds its deprecation headers).
"""

from kiln import services
from kiln.domain.generation import slug
from kiln.domain.operations import ExportCreate
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def start_export(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    body = request.body_as(ExportCreate, optional=True)
    project = services.projects().get(request.workspace_id, project_id)
    operations = services.operations()
    operation = operations.export(request.workspace_id, project_id, body, slug(project.name))
    location = f"/v1/projects/{project_id}/exports/{operation.id}"
    return ok(operations.view(operation), 202, {"Location": location})


handler = endpoint(start_export)

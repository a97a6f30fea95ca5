"""PATCH /v1/projects/{projectId}: change name and/or description."""

from kiln import services
from kiln.domain.projects import Project, ProjectUpdate
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def update_project(request: Request, body: ProjectUpdate) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().projects.update(request.workspace_id, project_id, body).json())


handler = endpoint(
    update_project,
    Contract(body=ProjectUpdate, answers=(Answer(200, "Updated.", Project),), errors={409: (ErrorCode.CONFLICT,)}),
)

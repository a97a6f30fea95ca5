"""PATCH /v1/projects/{projectId}: change name and/or description."""

from kiln import services
from kiln.domain.projects import ProjectUpdate
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def update_project(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    changes = request.body_as(ProjectUpdate)
    return ok(services.projects().update(request.workspace_id, project_id, changes))


handler = endpoint(update_project)

"""POST /v1/projects: create a project in status `draft`."""

from kiln import services
from kiln.domain.projects import ProjectCreate
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def create_project(request: Request) -> Response:
    project = services.projects().create(request.workspace_id, request.body_as(ProjectCreate))
    return ok(project, 201, {"Location": f"/v1/projects/{project.id}"})


handler = endpoint(create_project)

"""POST /v1/projects: create a project in status `draft`."""

from kiln import services
from kiln.domain.projects import Project, ProjectCreate
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def create_project(request: Request, body: ProjectCreate) -> Response:
    project = services.current().projects.create(request.workspace_id, body)
    return ok(project.json(), 201, {"Location": f"/v1/projects/{project.id}"})


handler = endpoint(
    create_project,
    Contract(body=ProjectCreate, answers=(Answer(201, "Created, in status `draft`.", Project, headers=("Location",)),)),
)

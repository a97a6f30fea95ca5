"""POST /v1/projects: create a project in status `draft`."""

from kiln import services
from kiln.domain.project_bodies import NewProject, new_project
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def create_project(request: Request, body: NewProject) -> Response:
    project = services.current().projects.create(request.workspace_id, body)
    return ok(project.json(), 201, {"Location": f"/v1/projects/{project.id}"})


# The models by name: the body is checked as ProjectCreate would (kiln.domain.project_bodies)
# and the answer is a ProjectRecord, so this function never loads pydantic (cold start).
handler = endpoint(
    create_project,
    Contract(
        body="kiln.domain.projects:ProjectCreate",
        body_check=new_project,
        answers=(Answer(201, "Created, in status `draft`.", "kiln.domain.projects:Project", headers=("Location",)),),
    ),
)

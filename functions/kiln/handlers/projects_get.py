"""GET /v1/projects/{projectId}."""

from kiln import services
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_project(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().projects.get(request.workspace_id, project_id).json())


# The model by name: this function answers a ProjectRecord and never loads pydantic (cold start).
handler = endpoint(get_project, Contract(answers=(Answer(200, model="kiln.domain.projects:Project"),)))

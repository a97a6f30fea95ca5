"""PATCH /v1/projects/{projectId}: change name and/or description."""

from kiln import services
from kiln.domain.project_bodies import ProjectChanges, project_changes
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def update_project(request: Request, body: ProjectChanges) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().projects.update(request.workspace_id, project_id, body).json())


# The models by name: the body is checked as ProjectUpdate would (kiln.domain.project_bodies)
# and the answer is a ProjectRecord, so this function never loads pydantic (cold start).
handler = endpoint(
    update_project,
    Contract(
        body="kiln.domain.projects:ProjectUpdate",
        body_check=project_changes,
        answers=(Answer(200, "Updated.", "kiln.domain.projects:Project"),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

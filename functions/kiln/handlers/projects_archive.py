"""DELETE /v1/projects/{projectId}: archive (soft delete; the data is kept)."""

from kiln import services
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def archive_project(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    # The project is read while the request's limits are checked; its write waits for them.
    project = services.current().projects.archive(request.workspace_id, project_id, request.admitted)
    return ok(project.archived_json())


handler = endpoint(
    archive_project,
    Contract(
        # The model by name: this function answers from a ProjectRecord and never loads pydantic.
        answers=(Answer(200, "Archived (again, if it already was).", "kiln.domain.projects:ProjectArchived"),),
    ),
    reads_first=True,
)

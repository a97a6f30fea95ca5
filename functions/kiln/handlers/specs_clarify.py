"""POST /v1/projects/{projectId}/clarify: the generator's clarifying questions."""

from kiln import services
from kiln.domain.specs import ClarifyRequest
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def clarify(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    request.body_as(ClarifyRequest, optional=True)  # no fields: anything sent is rejected by name
    return ok(services.specs().clarify(request.workspace_id, project_id))


handler = endpoint(clarify)

"""POST /v1/projects/{projectId}/approve: approve the latest spec version."""

from kiln import services
from kiln.domain.specs import ApproveRequest
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def approve(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    body = request.body_as(ApproveRequest, optional=True)
    return ok(services.specs().approve(request.workspace_id, project_id, body))


handler = endpoint(approve)

"""POST /v1/projects/{projectId}/regenerate: a new spec version, optionally guided by feedback."""

from kiln import services
from kiln.domain.specs import RegenerateRequest
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def regenerate(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    body = request.body_as(RegenerateRequest, optional=True)
    return ok(services.specs().regenerate(request.workspace_id, project_id, body))


handler = endpoint(regenerate)

"""POST /v1/projects/{projectId}/regenerate: a new spec version, optionally guided by feedback."""

from kiln import services
from kiln.domain.specs import ProjectWithSpec, RegenerateRequest
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def regenerate(request: Request, body: RegenerateRequest) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().specs.regenerate(request.workspace_id, project_id, body))


handler = endpoint(
    regenerate,
    Contract(
        body=RegenerateRequest,
        body_optional=True,
        answers=(Answer(200, "A new spec version written; the project is in `spec_review`.", ProjectWithSpec),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

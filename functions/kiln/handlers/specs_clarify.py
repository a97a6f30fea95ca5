"""POST /v1/projects/{projectId}/clarify: the generator's clarifying questions."""

from kiln import services
from kiln.domain.specs import Clarification, ClarifyRequest
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def clarify(request: Request, body: ClarifyRequest) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().specs.clarify(request.workspace_id, project_id))


handler = endpoint(
    clarify,
    Contract(
        body=ClarifyRequest,
        body_optional=True,
        answers=(Answer(200, model=Clarification),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

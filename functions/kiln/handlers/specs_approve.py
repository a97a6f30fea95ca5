"""POST /v1/projects/{projectId}/approve: approve the latest spec version."""

from kiln import services
from kiln.domain.projects import Project
from kiln.domain.specs import ApproveRequest
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def approve(request: Request, body: ApproveRequest) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().specs.approve(request.workspace_id, project_id, body))


handler = endpoint(
    approve,
    Contract(
        body=ApproveRequest,
        body_optional=True,
        answers=(Answer(200, "Approved: status `approved`, `approvedAt` set.", Project),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

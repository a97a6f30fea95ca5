"""POST /v1/projects/{projectId}/answers: answer the questions; writes spec version 1."""

from kiln import services
from kiln.domain.specs import AnswersRequest, ProjectWithSpec
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def answer(request: Request, body: AnswersRequest) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().specs.answer(request.workspace_id, project_id, body))


handler = endpoint(
    answer,
    Contract(
        body=AnswersRequest,
        answers=(Answer(200, "Spec version 1 written; the project is in `spec_review`.", ProjectWithSpec),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

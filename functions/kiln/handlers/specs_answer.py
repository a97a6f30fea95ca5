"""POST /v1/projects/{projectId}/answers: answer the questions; writes spec version 1."""

from kiln import services
from kiln.domain.specs import AnswersRequest
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def answer(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    answers = request.body_as(AnswersRequest)
    return ok(services.specs().answer(request.workspace_id, project_id, answers))


handler = endpoint(answer)

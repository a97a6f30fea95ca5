"""POST /v1/projects/{projectId}/runs/{runId}/cancel: stop an unfinished run."""

from kiln import services
from kiln.domain.projects import Strict
from kiln.domain.runs import Run
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


class CancelRequest(Strict):
    """No fields."""


def cancel_run(request: Request, body: CancelRequest) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    return ok(services.current().runs.cancel(request.workspace_id, project_id, run_id))


handler = endpoint(
    cancel_run,
    Contract(
        body=CancelRequest,
        body_optional=True,
        answers=(Answer(200, "Cancelled.", Run),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

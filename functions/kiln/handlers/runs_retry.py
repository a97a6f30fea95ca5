"""POST /v1/projects/{projectId}/runs/{runId}/retry: a new run of the same spec (trigger retry)."""

from kiln import services
from kiln.domain.projects import Strict
from kiln.domain.runs import Run
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.tiers import TIERS


class RetryRequest(Strict):
    """No fields: the new run takes the finished run's project and its approved spec."""


def retry_run(request: Request, body: RetryRequest) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    limit = TIERS[request.principal.tier].concurrent_builds if request.principal else None
    run = services.current().runs.retry(request.workspace_id, project_id, run_id, limit)
    return ok(run, 201, {"Location": f"/v1/projects/{project_id}/runs/{run.id}"})


handler = endpoint(
    retry_run,
    Contract(
        body=RetryRequest,
        body_optional=True,
        answers=(Answer(201, "A new run of the same spec started (`trigger: retry`).", Run, headers=("Location",)),),
        errors={409: (ErrorCode.CONFLICT,), 429: (ErrorCode.CONCURRENCY_LIMIT_EXCEEDED,)},
    ),
)

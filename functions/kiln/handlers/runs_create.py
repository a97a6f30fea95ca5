"""POST /v1/projects/{projectId}/runs: start a build run of the approved spec."""

from kiln import services
from kiln.domain.runs import Run, RunCreate
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.tiers import TIERS


def create_run(request: Request, body: RunCreate) -> Response:
    project_id = request.path_id("projectId", "project")
    limit = TIERS[request.principal.tier].concurrent_builds if request.principal else None
    run = services.current().runs.create(request.workspace_id, project_id, body, limit)
    return ok(run, 201, {"Location": f"/v1/projects/{project_id}/runs/{run.id}"})


handler = endpoint(
    create_run,
    Contract(
        body=RunCreate,
        body_optional=True,
        answers=(Answer(201, "The run started.", Run, headers=("Location",)),),
        errors={409: (ErrorCode.CONFLICT,), 429: (ErrorCode.CONCURRENCY_LIMIT_EXCEEDED,)},
    ),
)

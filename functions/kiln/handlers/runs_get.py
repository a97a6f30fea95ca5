"""GET /v1/projects/{projectId}/runs/{runId}: the run with its spec snapshot, plan and task
summaries (each whole task is at .../tasks/{taskId}; the plan holds the definitions once)."""

from kiln import services
from kiln.domain.runs import RunDetail
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


def get_run(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    return ok(services.current().runs.detail(request.workspace_id, project_id, run_id))


handler = endpoint(
    get_run,
    Contract(
        answers=(Answer(200, model=RunDetail),),
        notes=(
            "`tasks` summarizes each task (`id`, `slug`, `status`, `sequence`); its definition is in "
            "`tasksJson.tasks`, the whole task at `GET .../runs/{runId}/tasks/{taskId}`."
        ),
    ),
)

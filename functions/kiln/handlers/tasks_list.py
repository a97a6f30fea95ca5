"""GET /v1/projects/{projectId}/runs/{runId}/tasks: the run's tasks in plan order."""

from kiln import services
from kiln.domain.runs import Task
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, listed


def list_tasks(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    tasks = services.current().runs.tasks(request.workspace_id, project_id, run_id)
    # A run has at most 200 tasks (kiln.domain.builds.MAX_TASKS): one page holds them all.
    return listed(tasks, {"page": 1, "pageSize": max(1, len(tasks)), "total": len(tasks), "totalPages": 1})


handler = endpoint(
    list_tasks,
    Contract(
        answers=(Answer(200, "Every task of the run, in plan order (one page).", Task, "list", "page"),),
    ),
)

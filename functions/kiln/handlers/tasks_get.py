"""GET /v1/projects/{projectId}/runs/{runId}/tasks/{taskId}: one task."""

import re

from kiln import services
from kiln.domain.runs import Task
from kiln.envelope import validation_error
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok

_TASK_ID = re.compile(r"^task-\d{3}$")


def get_task(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    run_id = request.path_id("runId", "run")
    task_id = request.path_params.get("taskId", "")
    if not _TASK_ID.match(task_id):
        raise validation_error(
            [{"field": "taskId", "location": "path", "type": "id_format", "message": "not a task id (task-NNN)"}]
        )
    return ok(services.current().runs.task(request.workspace_id, project_id, run_id, task_id))


handler = endpoint(get_task, Contract(answers=(Answer(200, model=Task),)))

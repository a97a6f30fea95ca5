"""GET /v1/projects/{projectId}/deployments: the project's deploy previews, newest first."""

from kiln import services
from kiln.domain.previews import Deployment
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, listed


def list_deployments(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    services.current().projects.get(request.workspace_id, project_id)
    deployments = services.current().previews.list(request.workspace_id, project_id)
    # Ended previews leave the table 30 days after they end (TTL): one page holds the rest.
    total = len(deployments)
    return listed(deployments, {"page": 1, "pageSize": max(1, total), "total": total, "totalPages": 1})


handler = endpoint(
    list_deployments,
    Contract(
        answers=(Answer(200, "Every preview of the project, newest first (one page).", Deployment, "list", "page"),)
    ),
)

"""GET /v1/projects/{projectId}/deployments/{deploymentId}: a deploy preview's status, URL and expiry."""

from kiln import services
from kiln.domain.previews import Deployment
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request


def get_deployment(request: Request) -> Deployment:
    project_id = request.path_id("projectId", "project")
    deployment_id = request.path_id("deploymentId", "deployment")
    return services.current().previews.get(request.workspace_id, project_id, deployment_id)


handler = endpoint(get_deployment, Contract(answers=(Answer(200, "The preview.", Deployment),)))

"""DELETE /v1/projects/{projectId}/deployments/{deploymentId}: stop a deploy preview now.

Answers the preview `stopped`; its teardown runs at once (the URL stops answering within
seconds). A preview that already ended answers as it is.
"""

from kiln import services
from kiln.domain.previews import Deployment
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request


def delete_deployment(request: Request) -> Deployment:
    project_id = request.path_id("projectId", "project")
    deployment_id = request.path_id("deploymentId", "deployment")
    return services.current().previews.stop(request.workspace_id, project_id, deployment_id)


handler = endpoint(
    delete_deployment,
    Contract(answers=(Answer(200, "The preview, `stopped` (or `failed`, if it had failed before).", Deployment),)),
)

"""POST /v1/projects/{projectId}/deploy: deploy a succeeded run's generated service as a preview (202)."""

from kiln import services
from kiln.domain.previews import DeploymentCreate, DeploymentStarted
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.tiers import TIERS


def deploy(request: Request, body: DeploymentCreate) -> Response:
    project_id = request.path_id("projectId", "project")
    services.current().projects.get(request.workspace_id, project_id)
    tier = request.principal.tier if request.principal else "free"
    deployment = services.current().previews.create(request.workspace_id, project_id, body, TIERS[tier].live_previews)
    started = DeploymentStarted(
        deploymentId=deployment.id,
        status=deployment.status,
        provider=deployment.provider,
        expiresAt=deployment.expiresAt,
    )
    return ok(started, 202, {"Location": f"/v1/projects/{project_id}/deployments/{deployment.id}"})


handler = endpoint(
    deploy,
    Contract(
        body=DeploymentCreate,
        answers=(
            Answer(
                202,
                "The preview is deploying; follow `Location` until `status` is `live` (its `url` answers) or `failed`.",
                DeploymentStarted,
                headers=("Location",),
            ),
        ),
        errors={409: (ErrorCode.CONFLICT,), 429: (ErrorCode.CONCURRENCY_LIMIT_EXCEEDED,)},
        notes="Only a succeeded run can be deployed (409 otherwise). A workspace has at most its tier's "
        "previews deploying or live at once (free 1, pro 5, enterprise 20; 429 beyond). A preview tears "
        "itself down at `expiresAt` (24 hours after it was asked for).",
    ),
)

"""POST /v1/workspaces (admin): create a workspace with a tier and its usage-plan meter."""

from pydantic import Field

from kiln import services
from kiln.domain.access import workspace_view
from kiln.domain.projects import Name, Strict
from kiln.domain.views import Workspace
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.tiers import TierName


class WorkspaceCreate(Strict):
    name: Name = Field(description="Human name of the workspace.", examples=["Acme"])
    tier: TierName = Field(description="Usage tier: its usage plan and limits.", examples=["pro"])


def create_workspace(request: Request, body: WorkspaceCreate) -> Response:
    workspace = services.current().access.create_workspace(body.name, body.tier)
    return ok(Workspace.model_validate(workspace_view(workspace)), 201, {"Location": f"/v1/workspaces/{workspace.id}"})


handler = endpoint(
    create_workspace,
    Contract(
        body=WorkspaceCreate,
        answers=(Answer(201, "Created.", Workspace, headers=("Location",)),),
    ),
)

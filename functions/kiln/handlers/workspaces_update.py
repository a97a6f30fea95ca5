"""PATCH /v1/workspaces/{workspaceId} (admin): rename and/or change the tier.

A tier change moves the workspace's usage key to the new tier's usage plan, then updates the
item; the authorizer reads the tier on each authentication, so the workspace's next request
(after API Gateway's cached answer for its token, at most 60 s) runs under the new tier.
"""

from kiln import services
from kiln.domain.access import workspace_view
from kiln.domain.projects import Name, PartialUpdate
from kiln.domain.views import Workspace
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.tiers import TierName


class WorkspaceUpdate(PartialUpdate):
    name: Name | None = None
    tier: TierName | None = None


def update_workspace(request: Request, body: WorkspaceUpdate) -> Response:
    workspace_id = request.path_id("workspaceId", "workspace")
    workspace = services.current().access.update_workspace(workspace_id, name=body.name, tier=body.tier)
    return ok(Workspace.model_validate(workspace_view(workspace)))


handler = endpoint(update_workspace, Contract(body=WorkspaceUpdate, answers=(Answer(200, "Updated.", Workspace),)))

"""Deploy previews in memory: kiln.domain.previews.DeploymentStore and PreviewDeployer, with
kiln.adapters.dynamodb.previews' slot accounting and kiln.adapters.preview_lambda's idempotence."""

from __future__ import annotations

import builtins
import copy
from typing import Any

from kiln.domain.previews import RUNNING, Deployment, DeploymentStatus, PreviewLimitReached, PreviewSpec, Readiness
from tests.fakes._hooks import Hooks


class FakeDeployments(Hooks):
    """Deployments and each workspace's preview slots; a finish gives the slot back once."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str, str], Deployment] = {}
        self.slots: dict[str, int] = {}

    def create(self, workspace_id: str, deployment: Deployment, limit: int) -> None:
        self._hook("create")
        if self.slots.get(workspace_id, 0) >= limit:
            raise PreviewLimitReached(limit)
        self.slots[workspace_id] = self.slots.get(workspace_id, 0) + 1
        self.items[(workspace_id, deployment.projectId, deployment.id)] = deployment.model_copy(deep=True)

    def get(self, workspace_id: str, project_id: str, deployment_id: str) -> Deployment | None:
        self._hook("get")
        found = self.items.get((workspace_id, project_id, deployment_id))
        return found.model_copy(deep=True) if found else None

    def list(self, workspace_id: str, project_id: str) -> builtins.list[Deployment]:
        self._hook("list")
        mine = [d for (ws, p, _), d in self.items.items() if ws == workspace_id and p == project_id]
        return [d.model_copy(deep=True) for d in sorted(mine, key=lambda d: d.id, reverse=True)]

    def mark_live(self, workspace_id: str, project_id: str, deployment_id: str, url: str, at: str) -> bool:
        self._hook("mark_live")
        key = (workspace_id, project_id, deployment_id)
        found = self.items.get(key)
        if found is None or found.status is not DeploymentStatus.DEPLOYING:
            return False
        self.items[key] = found.model_copy(update={"status": DeploymentStatus.LIVE, "url": url, "updatedAt": at})
        return True

    def finish(
        self, workspace_id: str, project_id: str, deployment_id: str, status: DeploymentStatus, changes: dict[str, Any]
    ) -> bool:
        self._hook("finish")
        key = (workspace_id, project_id, deployment_id)
        found = self.items.get(key)
        if found is None or found.status not in RUNNING:
            return False
        self.items[key] = found.model_copy(update={**copy.deepcopy(changes), "status": status})
        self.slots[workspace_id] -= 1
        return True


class FakeDeployer(Hooks):
    """A provider: records what it deployed and tore down; `readiness` is what check answers."""

    def __init__(self) -> None:
        super().__init__()
        self.deployed: dict[str, PreviewSpec] = {}
        self.torn_down: builtins.list[str] = []
        self.readiness = Readiness("ready")

    def deploy(self, spec: PreviewSpec) -> str:
        self._hook("deploy")
        self.deployed[spec.deployment_id] = spec  # a retry replaces the code, as UpdateFunctionCode does
        return f"https://{spec.deployment_id}.preview.example"

    def check(self, deployment_id: str, url: str) -> Readiness:
        self._hook("check")
        return self.readiness

    def teardown(self, deployment_id: str) -> None:
        self._hook("teardown")
        self.deployed.pop(deployment_id, None)  # nothing to remove is not an error
        self.torn_down.append(deployment_id)

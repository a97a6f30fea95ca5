"""Deploy previews and the workspace's preview slots in the single table.

    deployment     pk=WS#<ws>  sk=DEPLOY#<projectId>#<deploymentId>
    preview slots  pk=WS#<ws>  sk=PREVIEWS          (attribute `active`)

Creating a deployment is one transaction (the slot taken under the tier's bound, the item put),
and so is finishing one (deploying|live -> failed|stopped, the slot given back), conditioned on
the item still holding its slot (`slotHeld`), so a finish that runs twice gives back one slot.
Deployment ids sort by creation time, so a reverse query lists a project's newest first.
"""

from __future__ import annotations

import builtins  # `builtins.list` in the class whose own list() method shadows the type
import time
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    numbers,
    put_new,
    query_items,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.adapters.schema import TTL_ATTRIBUTE
from kiln.domain.previews import RUNNING, Deployment, DeploymentStatus, PreviewLimitReached

PREVIEWS_SK = "PREVIEWS"
RETENTION_SECONDS = 30 * 24 * 60 * 60
_FIELDS = tuple(Deployment.model_fields)


def deployment_sk(project_id: str, deployment_id: str) -> str:
    return f"DEPLOY#{project_id}#{deployment_id}"


def _deployment_from(raw: dict[str, Any]) -> Deployment:
    values = from_item(raw)
    return Deployment(**numbers({k: values[k] for k in _FIELDS if k in values}))


def _key(workspace_id: str, project_id: str, deployment_id: str) -> dict[str, Any]:
    return to_item({"pk": workspace_pk(workspace_id), "sk": deployment_sk(project_id, deployment_id)})


class DeploymentItems:
    """kiln.domain.previews.DeploymentStore."""

    def create(self, workspace_id: str, deployment: Deployment, limit: int) -> None:
        item = {
            "pk": workspace_pk(workspace_id),
            "sk": deployment_sk(deployment.projectId, deployment.id),
            "type": "deployment",
            **deployment.model_dump(mode="json"),
            "slotHeld": True,
        }
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table(),
                            "Key": to_item({"pk": workspace_pk(workspace_id), "sk": PREVIEWS_SK}),
                            "UpdateExpression": "ADD active :one",
                            "ConditionExpression": "attribute_not_exists(active) OR active < :limit",
                            "ExpressionAttributeValues": to_item({":one": 1, ":limit": limit}),
                        }
                    },
                    put_new(item),
                ]
            )
        except ClientError as error:
            if not transaction_cancelled(error):
                raise
            codes = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise PreviewLimitReached(limit) from None
            raise

    def get(self, workspace_id: str, project_id: str, deployment_id: str) -> Deployment | None:
        item = get_item(workspace_pk(workspace_id), deployment_sk(project_id, deployment_id), consistent=True)
        return _deployment_from(item) if item else None

    def list(self, workspace_id: str, project_id: str) -> builtins.list[Deployment]:
        query = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item(
                {":pk": workspace_pk(workspace_id), ":prefix": deployment_sk(project_id, "")}
            ),
            "ScanIndexForward": False,
        }
        return [_deployment_from(item) for item in query_items(query)]

    def mark_live(self, workspace_id: str, project_id: str, deployment_id: str, url: str, at: str) -> bool:
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=_key(workspace_id, project_id, deployment_id),
                UpdateExpression="SET #s = :live, #u = :url, updatedAt = :at",
                ConditionExpression="#s = :deploying",
                ExpressionAttributeNames={"#s": "status", "#u": "url"},
                ExpressionAttributeValues=to_item(
                    {
                        ":live": DeploymentStatus.LIVE.value,
                        ":deploying": DeploymentStatus.DEPLOYING.value,
                        ":url": url,
                        ":at": at,
                    }
                ),
            )
            return True
        except ClientError as error:
            if condition_failed(error):
                return False
            raise

    def finish(
        self, workspace_id: str, project_id: str, deployment_id: str, status: DeploymentStatus, changes: dict[str, Any]
    ) -> bool:
        # An ended preview stays listed for RETENTION, then TTL removes it (and nothing else:
        # kiln.domain.workspace_events ignores TTL removals).
        values = {**changes, "status": status.value, TTL_ATTRIBUTE: int(time.time()) + RETENTION_SECONDS}
        names = {f"#f{i}": name for i, name in enumerate(values)}
        expression_values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(values.values())}
        running = sorted(s.value for s in RUNNING)
        expression_values.update({f":r{i}": s for i, s in enumerate(running)})
        expression_values[":true"] = True
        update = {
            "TableName": table(),
            "Key": _key(workspace_id, project_id, deployment_id),
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values))) + " REMOVE slotHeld",
            "ConditionExpression": f"#s IN ({', '.join(f':r{i}' for i in range(len(running)))}) AND slotHeld = :true",
            "ExpressionAttributeNames": {**names, "#s": "status"},
            "ExpressionAttributeValues": to_item(expression_values),
        }
        slot = {
            "TableName": table(),
            "Key": to_item({"pk": workspace_pk(workspace_id), "sk": PREVIEWS_SK}),
            "UpdateExpression": "ADD active :minus",
            "ExpressionAttributeValues": to_item({":minus": -1}),
        }
        try:
            client("dynamodb").transact_write_items(TransactItems=[{"Update": update}, {"Update": slot}])
            return True
        except ClientError as error:
            if transaction_cancelled(error):
                return False  # already finished (or gone): its slot was given back then
            raise

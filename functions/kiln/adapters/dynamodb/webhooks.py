"""Webhook subscriptions in the single table (kiln.domain.webhooks.WebhookRepository).

A subscription is `WS#<ws>` / `WEBHOOK#<webhookId>`: in its workspace's partition, so another
workspace's id is simply not found, and the workspace's subscriptions (at most 50) are one
Query, newest first (ids start with their creation time); the fan-out of each event reads them
so. Whole-item writes are guarded by `revision`; the delivery engine's small changes
(`failingSince`, disabling) are conditional UpdateItems that bump it, so a PATCH racing them
reads again instead of overwriting them.

The signing secrets are attributes of the item (`secret`, `previousSecret`): DynamoDB encrypts
the table at rest, and no code path answers or logs them after creation (docs/events.md).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    query_cursor,
    query_items,
    table,
    to_item,
    workspace_pk,
)
from kiln.domain.webhooks import Subscription, SubscriptionChanged

PREFIX = "WEBHOOK#"


def webhook_sk(webhook_id: str) -> str:
    return f"{PREFIX}{webhook_id}"


def webhook_item(subscription: Subscription) -> dict[str, Any]:
    return {
        "pk": workspace_pk(subscription.workspace_id),
        "sk": webhook_sk(subscription.id),
        "type": "webhook",
        "id": subscription.id,
        "workspaceId": subscription.workspace_id,
        "url": subscription.url,
        "events": list(subscription.events),
        "description": subscription.description,
        "status": subscription.status,
        "secret": subscription.secret,
        "previousSecret": subscription.previous_secret,
        "previousSecretExpiresAt": subscription.previous_secret_expires_at,
        "failingSince": subscription.failing_since,
        "disabledReason": subscription.disabled_reason,
        "createdAt": subscription.created_at,
        "updatedAt": subscription.updated_at,
        "revision": subscription.revision,
    }


def webhook_from(item: dict[str, Any]) -> Subscription:
    v = from_item(item)
    return Subscription(
        id=v["id"],
        workspace_id=v["workspaceId"],
        url=v["url"],
        events=tuple(v.get("events", ())),
        description=v.get("description"),
        status=v["status"],
        secret=v["secret"],
        created_at=v["createdAt"],
        updated_at=v["updatedAt"],
        previous_secret=v.get("previousSecret"),
        previous_secret_expires_at=v.get("previousSecretExpiresAt"),
        failing_since=v.get("failingSince"),
        disabled_reason=v.get("disabledReason"),
        revision=int(v.get("revision", 1)),
    )


def _webhooks_query(workspace_id: str) -> dict[str, Any]:
    return {
        "TableName": table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": to_item({":pk": workspace_pk(workspace_id), ":prefix": PREFIX}),
        "ScanIndexForward": False,
        "ConsistentRead": True,
    }


def _key(workspace_id: str, webhook_id: str) -> dict[str, Any]:
    return to_item({"pk": workspace_pk(workspace_id), "sk": webhook_sk(webhook_id)})


class WebhookStore:
    """kiln.domain.webhooks.WebhookRepository on DynamoDB."""

    def get_webhook(self, workspace_id: str, webhook_id: str) -> Subscription | None:
        item = get_item(workspace_pk(workspace_id), webhook_sk(webhook_id), consistent=True)
        return webhook_from(item) if item else None

    def insert_webhook(self, subscription: Subscription) -> None:
        client("dynamodb").put_item(
            TableName=table(), Item=to_item(webhook_item(subscription)), ConditionExpression="attribute_not_exists(pk)"
        )

    def replace_webhook(self, subscription: Subscription, expected_revision: int) -> None:
        try:
            client("dynamodb").put_item(
                TableName=table(),
                Item=to_item(webhook_item(subscription)),
                ConditionExpression="revision = :expected",
                ExpressionAttributeValues=to_item({":expected": expected_revision}),
            )
        except ClientError as error:
            if condition_failed(error):
                raise SubscriptionChanged(subscription.id) from None
            raise

    def delete_webhook(self, workspace_id: str, webhook_id: str) -> bool:
        try:
            client("dynamodb").delete_item(
                TableName=table(), Key=_key(workspace_id, webhook_id), ConditionExpression="attribute_exists(pk)"
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def webhooks_of(self, workspace_id: str) -> list[Subscription]:
        return [webhook_from(item) for item in query_items(_webhooks_query(workspace_id))]

    def list_webhooks_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Subscription], dict[str, Any] | None]:
        return query_cursor(_webhooks_query(workspace_id), limit, after, webhook_from)

    def set_failing_since(self, workspace_id: str, webhook_id: str, since: str | None) -> None:
        values: dict[str, object] = {":one": 1}
        if since is None:
            update = "REMOVE failingSince SET revision = revision + :one"
        else:
            update = "SET failingSince = :since, revision = revision + :one"
            values[":since"] = since
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=_key(workspace_id, webhook_id),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            if not condition_failed(error):  # deleted meanwhile: nothing to record
                raise

    def disable_webhook(self, workspace_id: str, webhook_id: str, reason: str, at: str) -> bool:
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=_key(workspace_id, webhook_id),
                UpdateExpression="SET #status = :disabled, disabledReason = :reason, updatedAt = :at, "
                "revision = revision + :one",
                ConditionExpression="#status = :enabled",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {":disabled": "disabled", ":enabled": "enabled", ":reason": reason, ":at": at, ":one": 1}
                ),
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

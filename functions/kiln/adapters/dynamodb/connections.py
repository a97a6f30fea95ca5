"""WebSocket connections and their subscriptions, in a table of their own (kiln.domain.live.ConnectionStore).

    connection    pk=CONN#<connectionId>              sk=CONN
                  {workspaceId, subject, scopes, allowedPaths (absent until authenticated),
                   channels (string set), connectedAt, expiresAtEpoch}
    subscription  pk=SUB#<workspaceId>#<channel>      sk=CONN#<connectionId>
                  {cursor (last event id sent), dirty, leaseUntil (epoch ms), expiresAtEpoch}

Why not the main table: every write there becomes a stream record that every consumer of the
table's stream reads (webhooks, stats, this fan-out). A subscription's cursor moves once per
event pushed to it, so on the main table each pushed event would come back as records for
all of them, and the fan-out would be fed by its own writes. These items also live hours, not
years: no point-in-time recovery, no deletion protection, TTL does the cleaning ($disconnect is
best-effort). A second on-demand table costs nothing while idle.

Subscriptions are keyed by workspace and channel, so the fan-out finds a run's subscribers
with one Query inside the event's own workspace: a connection of another workspace cannot be
among them.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from kiln import config
from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import condition_failed, from_item, numbers, to_item
from kiln.domain.live import Connection, Identity

CONNECTION_SK = "CONN"


def connection_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def subscription_pk(workspace_id: str, channel: str) -> str:
    return f"SUB#{workspace_id}#{channel}"


def subscription_sk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def _table() -> str:
    return config.connections_table()


class ConnectionItems:
    """kiln.domain.live.ConnectionStore on DynamoDB."""

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return to_item({"pk": pk, "sk": sk})

    def _sub_key(self, workspace_id: str, channel: str, connection_id: str) -> dict[str, Any]:
        return self._key(subscription_pk(workspace_id, channel), subscription_sk(connection_id))

    def _update(self, **request: Any) -> dict[str, Any] | None:
        """An UpdateItem; None when its condition failed."""
        try:
            return client("dynamodb").update_item(TableName=_table(), **request)
        except ClientError as error:
            if condition_failed(error):
                return None
            raise

    # --- connections ----------------------------------------------------------------------

    def open(self, connection_id: str, identity: Identity | None, expires_at: int) -> None:
        item: dict[str, Any] = {
            "pk": connection_pk(connection_id),
            "sk": CONNECTION_SK,
            "connectionId": connection_id,
            "expiresAtEpoch": expires_at,
            **_identity_attributes(identity),
        }
        client("dynamodb").put_item(TableName=_table(), Item=to_item(item))

    def get(self, connection_id: str) -> Connection | None:
        item = (
            client("dynamodb")
            .get_item(
                TableName=_table(), Key=self._key(connection_pk(connection_id), CONNECTION_SK), ConsistentRead=True
            )
            .get("Item")
        )
        if item is None:
            return None
        raw = numbers(from_item(item))
        identity = None
        if raw.get("workspaceId"):
            identity = Identity(
                workspace_id=raw["workspaceId"],
                subject=raw.get("subject", ""),
                scopes=frozenset(raw.get("scopes") or ()),
                allowed_paths=tuple(raw.get("allowedPaths") or ()),
            )
        return Connection(connection_id, identity, frozenset(raw.get("channels") or ()))

    def authenticate(self, connection_id: str, identity: Identity) -> bool:
        values = _identity_attributes(identity)
        names = {f"#a{i}": name for i, name in enumerate(values)}
        return (
            self._update(
                Key=self._key(connection_pk(connection_id), CONNECTION_SK),
                UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values))),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item({f":a{i}": v for i, v in enumerate(values.values())}),
            )
            is not None
        )

    def close(self, connection_id: str) -> None:
        connection = self.get(connection_id)
        if connection is None:
            return
        if connection.identity is not None:
            for channel in sorted(connection.channels):
                client("dynamodb").delete_item(
                    TableName=_table(), Key=self._sub_key(connection.identity.workspace_id, channel, connection_id)
                )
        client("dynamodb").delete_item(TableName=_table(), Key=self._key(connection_pk(connection_id), CONNECTION_SK))

    # --- subscriptions ----------------------------------------------------------------------

    def subscribe(self, connection_id: str, workspace_id: str, channel: str, cursor: int, expires_at: int) -> bool:
        # The connection lists its channels first, so a close always finds what to delete.
        listed = self._update(
            Key=self._key(connection_pk(connection_id), CONNECTION_SK),
            UpdateExpression="ADD channels :channel",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":channel": {"SS": [channel]}},
        )
        if listed is None:
            return False  # closed meanwhile
        try:
            client("dynamodb").put_item(
                TableName=_table(),
                Item=to_item(
                    {
                        "pk": subscription_pk(workspace_id, channel),
                        "sk": subscription_sk(connection_id),
                        "connectionId": connection_id,
                        "cursor": cursor,
                        "dirty": True,
                        "expiresAtEpoch": expires_at,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def unsubscribe(self, connection_id: str, workspace_id: str, channel: str) -> None:
        client("dynamodb").delete_item(TableName=_table(), Key=self._sub_key(workspace_id, channel, connection_id))
        self._update(
            Key=self._key(connection_pk(connection_id), CONNECTION_SK),
            UpdateExpression="DELETE channels :channel",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":channel": {"SS": [channel]}},
        )

    def subscribers(self, workspace_id: str, channel: str) -> list[str]:
        request: dict[str, Any] = {
            "TableName": _table(),
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": subscription_pk(workspace_id, channel)}),
            "ProjectionExpression": "connectionId",
            "ConsistentRead": True,
        }
        found: list[str] = []
        while True:
            response = client("dynamodb").query(**request)
            found.extend(str(from_item(item)["connectionId"]) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def mark_dirty(self, workspace_id: str, channel: str, connection_id: str) -> None:
        self._update(
            Key=self._sub_key(workspace_id, channel, connection_id),
            UpdateExpression="SET dirty = :true",
            ConditionExpression="attribute_exists(pk)",  # never resurrect an ended subscription
            ExpressionAttributeValues=to_item({":true": True}),
        )

    def claim(self, workspace_id: str, channel: str, connection_id: str, now_ms: int, lease_ms: int) -> int | None:
        response = self._update(
            Key=self._sub_key(workspace_id, channel, connection_id),
            UpdateExpression="SET leaseUntil = :until, dirty = :false",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
            ExpressionAttributeValues=to_item({":until": now_ms + lease_ms, ":false": False, ":now": now_ms}),
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return None
        return int(numbers(from_item(response["Attributes"])).get("cursor", 0))

    def release(self, workspace_id: str, channel: str, connection_id: str, cursor: int, *, if_clean: bool) -> bool:
        condition = "attribute_exists(pk)" + (" AND dirty = :false" if if_clean else "")
        values: dict[str, Any] = {":cursor": cursor}
        if if_clean:
            values[":false"] = False
        return (
            self._update(
                Key=self._sub_key(workspace_id, channel, connection_id),
                UpdateExpression="SET #cursor = :cursor REMOVE leaseUntil",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#cursor": "cursor"},
                ExpressionAttributeValues=to_item(values),
            )
            is not None
        )


def _identity_attributes(identity: Identity | None) -> dict[str, Any]:
    if identity is None:
        return {}
    return {
        "workspaceId": identity.workspace_id,
        "subject": identity.subject,
        "scopes": sorted(identity.scopes),
        "allowedPaths": list(identity.allowed_paths),
    }

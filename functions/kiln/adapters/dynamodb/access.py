"""Workspaces and API keys in the single table (kiln.domain.access.AccessRepository).

A key lives under the hash of its current secret (`APIKEY#<sha256>`), listed through gsi1
(`WS#<ws>#APIKEYS`, `APIKEY#<keyId>`). A rotation puts the new secret's item and takes the
old one out of gsi1, marking it superseded with its grace period's end (`graceUntil`, checked
by the authorizer) and a TTL for cleanup a day later.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    put_item,
    put_new,
    query_cursor,
    query_page,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.adapters.schema import GSI1, TTL_ATTRIBUTE
from kiln.domain.access import ApiKey, KeyChanged, Workspace

logger = logging.getLogger("kiln.access")


WORKSPACES_PARTITION = "WORKSPACES"
# How long a superseded secret's item stays after its grace period (cleanup by TTL; the
# authorizer never relies on TTL, which may lag by days).
SUPERSEDED_RETENTION_SECONDS = 24 * 60 * 60
# Hops along `replacedBy` when gsi1 still shows a just-rotated secret (it is eventually consistent).
_MAX_REPLACEMENT_HOPS = 5
# A position in gsi1: the index key and the table key.
_GSI1_POSITION = ("pk", "sk", "gsi1pk", "gsi1sk")


def key_pk(secret_hash: str) -> str:
    return f"APIKEY#{secret_hash}"


def keys_partition(workspace_id: str) -> str:
    return f"WS#{workspace_id}#APIKEYS"


def key_gsi1sk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def _key_key(secret_hash: str) -> dict[str, Any]:
    return to_item({"pk": key_pk(secret_hash), "sk": "APIKEY"})


def key_from(item: dict[str, Any]) -> ApiKey:
    v = from_item(item)
    return ApiKey(
        id=v["id"],
        workspace_id=v["workspaceId"],
        name=v["name"],
        prefix=v["prefix"],
        secret_hash=v["secretHash"],
        scopes=tuple(v.get("scopes", ())),
        allowed_paths=tuple(v.get("allowedPaths", ())),
        created_at=v.get("createdAt", ""),
        expires_at=v.get("expiresAt"),
        revoked_at=v.get("revokedAt"),
        last_used_at=v.get("lastUsedAt"),
        rotated_at=v.get("rotatedAt"),
        previous_secret_hash=v.get("previousSecretHash"),
        previous_secret_expires_at=v.get("previousSecretExpiresAt"),
        superseded_at=v.get("supersededAt"),
        replaced_by=v.get("replacedBy"),
        grace_until=v.get("graceUntil"),
    )


def key_item(key: ApiKey) -> dict[str, Any]:
    """The item of a key's current secret (None values are left out by to_item)."""
    return {
        "pk": key_pk(key.secret_hash),
        "sk": "APIKEY",
        "gsi1pk": keys_partition(key.workspace_id),
        "gsi1sk": key_gsi1sk(key.id),
        "type": "apiKey",
        "id": key.id,
        "workspaceId": key.workspace_id,
        "name": key.name,
        "prefix": key.prefix,
        "secretHash": key.secret_hash,
        # Lists, not string sets: DynamoDB sets cannot be empty.
        "scopes": list(key.scopes),
        "allowedPaths": list(key.allowed_paths),
        "createdAt": key.created_at,
        "expiresAt": key.expires_at,
        "revokedAt": key.revoked_at,
        "lastUsedAt": key.last_used_at,
        "rotatedAt": key.rotated_at,
        "previousSecretHash": key.previous_secret_hash,
        "previousSecretExpiresAt": key.previous_secret_expires_at,
    }


def workspace_from(item: dict[str, Any]) -> Workspace:
    v = from_item(item)
    return Workspace(
        v["id"],
        v["name"],
        v["tier"],
        v["usageKeyId"],
        v["usageKeyValue"],
        v["createdAt"],
        v.get("updatedAt", v["createdAt"]),
    )


def _epoch(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


def _gsi1_query(partition: str) -> dict[str, Any]:
    """Newest first: ids start with their creation time."""
    return {
        "TableName": table(),
        "IndexName": GSI1,
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": partition}),
        "ScanIndexForward": False,
    }


class AccessStore:
    """kiln.domain.access.AccessRepository on DynamoDB."""

    _touch_failure_logged = False

    # --- keys ----------------------------------------------------------------------------------

    def get_key_by_hash(self, secret_hash: str, consistent: bool = False) -> ApiKey | None:
        item = get_item(key_pk(secret_hash), "APIKEY", consistent=consistent)
        return key_from(item) if item else None

    def find_key(self, workspace_id: str, key_id: str) -> ApiKey | None:
        # gsi1 names the item of the key's current secret; it is eventually consistent, so the
        # item is read again consistently and followed if it was rotated in the meantime.
        response = client("dynamodb").query(
            TableName=table(),
            IndexName=GSI1,
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk = :sk",
            ExpressionAttributeValues=to_item({":pk": keys_partition(workspace_id), ":sk": key_gsi1sk(key_id)}),
        )
        items = response.get("Items", [])
        if not items:
            return None
        secret_hash: str | None = from_item(items[0])["secretHash"]
        for _ in range(_MAX_REPLACEMENT_HOPS):
            if secret_hash is None:
                return None
            key = self.get_key_by_hash(secret_hash, consistent=True)
            if key is None or key.workspace_id != workspace_id or key.id != key_id:
                return None
            if key.replaced_by is None:
                return key
            secret_hash = key.replaced_by
        return None

    def insert_key(self, key: ApiKey) -> None:
        put_item(key_item(key), only_if_new=True)

    def rotate_key(self, current: ApiKey, new: ApiKey, at: str, end_previous: str | None) -> None:
        assert new.previous_secret_expires_at is not None
        grace_until = new.previous_secret_expires_at
        values = {
            ":at": at,
            ":replacedBy": new.secret_hash,
            ":graceUntil": grace_until,
            ":ttl": _epoch(grace_until) + SUPERSEDED_RETENTION_SECONDS,
        }
        transaction: list[dict[str, Any]] = [
            put_new(key_item(new)),
            {
                "Update": {
                    "TableName": table(),
                    "Key": _key_key(current.secret_hash),
                    # Out of gsi1: the list shows a key once, as its current secret.
                    "UpdateExpression": "SET supersededAt = :at, replacedBy = :replacedBy, graceUntil = :graceUntil, "
                    "#ttl = :ttl REMOVE gsi1pk, gsi1sk",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(supersededAt) "
                    "AND attribute_not_exists(revokedAt)",
                    "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
                    "ExpressionAttributeValues": to_item(values),
                }
            },
        ]
        if end_previous is not None:
            transaction.append(
                {
                    "Update": {
                        "TableName": table(),
                        "Key": _key_key(end_previous),
                        "UpdateExpression": "SET graceUntil = :at",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": to_item({":at": at}),
                    }
                }
            )
        try:
            client("dynamodb").transact_write_items(TransactItems=transaction)
        except ClientError as error:
            if transaction_cancelled(error):
                raise KeyChanged(current.id) from None
            raise

    def revoke_key(self, key: ApiKey, at: str) -> ApiKey | None:
        if (
            key.previous_secret_hash is not None
            and key.previous_secret_expires_at is not None
            and at < key.previous_secret_expires_at
        ):
            try:
                client("dynamodb").update_item(
                    TableName=table(),
                    Key=_key_key(key.previous_secret_hash),
                    UpdateExpression="SET revokedAt = if_not_exists(revokedAt, :at)",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=to_item({":at": at}),
                )
            except ClientError as error:
                if not condition_failed(error):
                    raise
        try:
            response = client("dynamodb").update_item(
                TableName=table(),
                Key=_key_key(key.secret_hash),
                UpdateExpression="SET revokedAt = if_not_exists(revokedAt, :at)",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(supersededAt)",
                ExpressionAttributeValues=to_item({":at": at}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if condition_failed(error):
                return None
            raise
        return key_from(response["Attributes"])

    def touch_key(self, secret_hash: str, at: str, stale_before: str) -> None:
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=_key_key(secret_hash),
                UpdateExpression="SET lastUsedAt = :at",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(lastUsedAt) OR lastUsedAt < :stale)",
                ExpressionAttributeValues=to_item({":at": at, ":stale": stale_before}),
            )
        except ClientError as error:
            if not condition_failed(error):  # another request recorded the use first: fine
                self._log_touch_failure(error)
        except Exception as error:  # noqa: BLE001 - bookkeeping must never fail an authentication
            self._log_touch_failure(error)

    @classmethod
    def _log_touch_failure(cls, error: Exception) -> None:
        if not cls._touch_failure_logged:  # once per container, not once per request
            cls._touch_failure_logged = True
            logger.warning("could not record an API key's lastUsedAt: %s", error)

    def list_keys_page(self, workspace_id: str, page: int, size: int) -> tuple[list[ApiKey], int]:
        return query_page(_gsi1_query(keys_partition(workspace_id)), page, size, key_from)

    def list_keys_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[ApiKey], dict[str, Any] | None]:
        return query_cursor(_gsi1_query(keys_partition(workspace_id)), limit, after, key_from, _GSI1_POSITION)

    # --- workspaces ----------------------------------------------------------------------------

    def get_workspace(self, workspace_id: str, consistent: bool = False) -> Workspace | None:
        item = get_item(workspace_pk(workspace_id), "WORKSPACE", consistent=consistent)
        return workspace_from(item) if item else None

    def insert_workspace(self, workspace: Workspace) -> None:
        # Imported here: the authorizer loads this module, and kiln.adapters.dynamodb.projects
        # would bring pydantic (through kiln.domain.projects) into its cold start.
        from kiln.adapters.dynamodb.projects import initial_counts

        item = {
            "pk": workspace_pk(workspace.id),
            "sk": "WORKSPACE",
            "gsi1pk": WORKSPACES_PARTITION,
            "gsi1sk": f"WS#{workspace.id}",
            "type": "workspace",
            "id": workspace.id,
            "name": workspace.name,
            "tier": workspace.tier,
            "usageKeyId": workspace.usage_key_id,
            "usageKeyValue": workspace.usage_key_value,
            "createdAt": workspace.created_at,
            "updatedAt": workspace.updated_at or workspace.created_at,
        }
        # With its project counts, complete at zero: page mode's totals are right from the start,
        # with nothing to count later (kiln.adapters.dynamodb.projects).
        client("dynamodb").transact_write_items(
            TransactItems=[
                put_new(item),
                {"Put": initial_counts(workspace.id)},
            ]
        )

    def update_workspace(self, workspace_id: str, changes: dict[str, str]) -> Workspace | None:
        names = {f"#f{i}": name for i, name in enumerate(sorted(changes))}
        values = {f":v{i}": changes[name] for i, name in enumerate(sorted(changes))}
        try:
            response = client("dynamodb").update_item(
                TableName=table(),
                Key=to_item({"pk": workspace_pk(workspace_id), "sk": "WORKSPACE"}),
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if condition_failed(error):
                return None
            raise
        return workspace_from(response["Attributes"])

    def list_workspaces_page(self, page: int, size: int) -> tuple[list[Workspace], int]:
        return query_page(_gsi1_query(WORKSPACES_PARTITION), page, size, workspace_from)

    def list_workspaces_cursor(
        self, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Workspace], dict[str, Any] | None]:
        return query_cursor(_gsi1_query(WORKSPACES_PARTITION), limit, after, workspace_from, _GSI1_POSITION)

"""Workspaces and API keys in the single table (kiln.domain.access.AccessRepository)."""

from __future__ import annotations

from kiln.adapters.dynamodb.items import from_item, get_item, put_item, workspace_pk
from kiln.domain.access import ApiKey, Workspace


def key_pk(secret_hash: str) -> str:
    return f"APIKEY#{secret_hash}"


class AccessStore:
    """kiln.domain.access.AccessRepository on DynamoDB."""

    def get_key_by_hash(self, secret_hash: str) -> ApiKey | None:
        item = get_item(key_pk(secret_hash), "APIKEY")
        if not item:
            return None
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
        )

    def get_workspace(self, workspace_id: str) -> Workspace | None:
        item = get_item(workspace_pk(workspace_id), "WORKSPACE")
        if not item:
            return None
        v = from_item(item)
        return Workspace(v["id"], v["name"], v["tier"], v["usageKeyId"], v["usageKeyValue"], v["createdAt"])

    def insert_workspace(self, workspace: Workspace) -> None:
        put_item({
            "pk": workspace_pk(workspace.id), "sk": "WORKSPACE",
            "gsi1pk": "WORKSPACES", "gsi1sk": f"WS#{workspace.id}",
            "type": "workspace", "id": workspace.id, "name": workspace.name, "tier": workspace.tier,
            "usageKeyId": workspace.usage_key_id, "usageKeyValue": workspace.usage_key_value,
            "createdAt": workspace.created_at,
        }, only_if_new=True)

    def insert_key(self, key: ApiKey) -> None:
        put_item({
            "pk": key_pk(key.secret_hash), "sk": "APIKEY",
            "gsi1pk": f"WS#{key.workspace_id}#APIKEYS", "gsi1sk": f"APIKEY#{key.id}",
            "type": "apiKey", "id": key.id, "workspaceId": key.workspace_id, "name": key.name,
            "prefix": key.prefix, "secretHash": key.secret_hash,
            # Lists, not string sets: DynamoDB sets cannot be empty.
            "scopes": list(key.scopes), "allowedPaths": list(key.allowed_paths),
            "createdAt": key.created_at, "expiresAt": key.expires_at, "revokedAt": key.revoked_at,
        }, only_if_new=True)



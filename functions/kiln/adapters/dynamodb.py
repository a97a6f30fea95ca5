"""DynamoDB adapter: every item Kiln stores in its single table, and how it is read.

The item layout and each access pattern's key condition are documented in
docs/data-model.md. Request paths use GetItem, Query, PutItem and UpdateItem only: no Scan
(tests/unit/kiln/adapters/test_dynamodb.py asserts the module never calls it).
"""

from __future__ import annotations

from typing import Any, Iterator

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from kiln import config
from kiln.adapters.aws import client
from kiln.adapters.schema import GSI1, TTL_ATTRIBUTE
from kiln.domain.access import ApiKey, Workspace
from kiln.domain.projects import (
    CursorRequest,
    CursorResult,
    PageRequest,
    PageResult,
    Project,
    ProjectListFilter,
    ProjectMissing,
    ProjectStatus,
    StatusConflict,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Largest page DynamoDB is asked for while filling a cursor page (filters may discard items).
_QUERY_BATCH = 100


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _table() -> str:
    return config.table_name()


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# --- keys -------------------------------------------------------------------------------

def workspace_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


def project_sk(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def project_status_partition(workspace_id: str, status: str) -> str:
    return f"WS#{workspace_id}#PROJECTS#{status}"


# --- projects ---------------------------------------------------------------------------

_PROJECT_FIELDS = ("id", "name", "description", "status", "createdAt", "updatedAt", "archivedAt")


# DynamoDB's contains() is case-sensitive, so searches run against casefolded copies of
# name and description, kept per field so a PATCH of one never needs to read the other.
_FOLDED = {"name": "nameFolded", "description": "descriptionFolded"}


def _project_from(item: dict[str, Any]) -> Project:
    values = from_item(item)
    return Project(**{k: values[k] for k in _PROJECT_FIELDS if k in values})


class ProjectStore:
    """kiln.domain.projects.ProjectRepository on DynamoDB."""

    def insert(self, workspace_id: str, project: Project) -> None:
        values = project.model_dump(mode="json")
        item = to_item({
            "pk": workspace_pk(workspace_id),
            "sk": project_sk(project.id),
            "gsi1pk": project_status_partition(workspace_id, project.status.value),
            "gsi1sk": project_sk(project.id),
            "type": "project",
            "workspaceId": workspace_id,
            "nameFolded": project.name.casefold(),
            "descriptionFolded": project.description.casefold(),
            **values,
        })
        client("dynamodb").put_item(
            TableName=_table(), Item=item, ConditionExpression="attribute_not_exists(pk)"
        )

    def get(self, workspace_id: str, project_id: str) -> Project | None:
        response = client("dynamodb").get_item(
            TableName=_table(),
            Key=to_item({"pk": workspace_pk(workspace_id), "sk": project_sk(project_id)}),
            ConsistentRead=True,  # read-your-writes after POST/PATCH
        )
        item = response.get("Item")
        return _project_from(item) if item else None

    def update(
        self,
        workspace_id: str,
        project_id: str,
        changes: dict[str, Any],
        allowed_from: frozenset[ProjectStatus],
    ) -> Project:
        changes = {k: (v.value if isinstance(v, ProjectStatus) else v) for k, v in changes.items()}
        names: dict[str, str] = {"#status": "status"}
        values: dict[str, Any] = {}
        sets: list[str] = []
        for index, (field, value) in enumerate(sorted(changes.items())):
            names[f"#f{index}"] = field
            values[f":v{index}"] = value
            sets.append(f"#f{index} = :v{index}")
        if "status" in changes:
            sets.append("gsi1pk = :statusPartition")
            values[":statusPartition"] = project_status_partition(workspace_id, changes["status"])
        for field, folded in _FOLDED.items():
            if field in changes:
                sets.append(f"{folded} = :{folded}")
                values[f":{folded}"] = changes[field].casefold()
        allowed = sorted(s.value for s in allowed_from)
        placeholders = []
        for index, status in enumerate(allowed):
            values[f":allowed{index}"] = status
            placeholders.append(f":allowed{index}")
        try:
            response = client("dynamodb").update_item(
                TableName=_table(),
                Key=to_item({"pk": workspace_pk(workspace_id), "sk": project_sk(project_id)}),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=f"attribute_exists(pk) AND #status IN ({', '.join(placeholders)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise
            old = error.response.get("Item")
            if not old:
                raise ProjectMissing(project_id) from None
            raise StatusConflict(ProjectStatus(from_item(old)["status"])) from None
        return _project_from(response["Attributes"])

    # Listing: without a status filter, the workspace partition (archived projects left out);
    # with one, GSI1's per-status partition. Both newest first, since ids sort by time.

    def _query(self, workspace_id: str, filters: ProjectListFilter) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        conditions: list[str] = []
        if filters.status is None:
            query: dict[str, Any] = {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)"}
            values.update({":pk": workspace_pk(workspace_id), ":prefix": "PROJECT#"})
            names["#status"] = "status"
            values[":archived"] = ProjectStatus.ARCHIVED.value
            conditions.append("#status <> :archived")
        else:
            query = {"IndexName": GSI1, "KeyConditionExpression": "gsi1pk = :pk"}
            values[":pk"] = project_status_partition(workspace_id, filters.status.value)
        if filters.search:
            values[":search"] = filters.search.casefold()
            conditions.append("(contains(nameFolded, :search) OR contains(descriptionFolded, :search))")
        if conditions:
            query["FilterExpression"] = " AND ".join(conditions)
        if names:
            query["ExpressionAttributeNames"] = names
        query["ExpressionAttributeValues"] = to_item(values)
        query["TableName"] = _table()
        query["ScanIndexForward"] = False
        return query

    def _items(self, query: dict[str, Any], start: dict[str, Any] | None = None,
               batch: int | None = None) -> Iterator[dict[str, Any]]:
        request = dict(query)
        if batch:
            request["Limit"] = batch
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        while True:
            response = client("dynamodb").query(**request)
            yield from response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def list_page(self, workspace_id: str, filters: ProjectListFilter, page: PageRequest) -> PageResult:
        # Page mode needs a total, which DynamoDB can only get by reading the partition:
        # cost grows with the workspace's project count (cursor mode does not; see docs).
        start = (page.page - 1) * page.page_size
        end = start + page.page_size
        items: list[Project] = []
        total = 0
        for item in self._items(self._query(workspace_id, filters)):
            if start <= total < end:
                items.append(_project_from(item))
            total += 1
        return PageResult(items, total)

    def list_cursor(self, workspace_id: str, filters: ProjectListFilter, cursor: CursorRequest) -> CursorResult:
        key_fields = ("pk", "sk") if filters.status is None else ("pk", "sk", "gsi1pk", "gsi1sk")
        items: list[dict[str, Any]] = []
        batch = min(_QUERY_BATCH, cursor.limit + 1)
        for item in self._items(self._query(workspace_id, filters), cursor.after, batch):
            items.append(item)
            if len(items) > cursor.limit:
                break
        more = len(items) > cursor.limit
        page = items[: cursor.limit]
        after = None
        if more:
            last = from_item(page[-1])
            after = {k: last[k] for k in key_fields}
        return CursorResult([_project_from(i) for i in page], after)


# --- workspaces and API keys ------------------------------------------------------------

def key_pk(secret_hash: str) -> str:
    return f"APIKEY#{secret_hash}"


class AccessStore:
    """kiln.domain.access.AccessRepository on DynamoDB."""

    def get_key_by_hash(self, secret_hash: str) -> ApiKey | None:
        response = client("dynamodb").get_item(
            TableName=_table(), Key=to_item({"pk": key_pk(secret_hash), "sk": "APIKEY"})
        )
        item = response.get("Item")
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
        response = client("dynamodb").get_item(
            TableName=_table(), Key=to_item({"pk": workspace_pk(workspace_id), "sk": "WORKSPACE"})
        )
        item = response.get("Item")
        if not item:
            return None
        v = from_item(item)
        return Workspace(v["id"], v["name"], v["tier"], v["usageKeyId"], v["usageKeyValue"], v["createdAt"])

    def insert_workspace(self, workspace: Workspace) -> None:
        client("dynamodb").put_item(
            TableName=_table(),
            Item=to_item({
                "pk": workspace_pk(workspace.id), "sk": "WORKSPACE",
                "gsi1pk": "WORKSPACES", "gsi1sk": f"WS#{workspace.id}",
                "type": "workspace", "id": workspace.id, "name": workspace.name, "tier": workspace.tier,
                "usageKeyId": workspace.usage_key_id, "usageKeyValue": workspace.usage_key_value,
                "createdAt": workspace.created_at,
            }),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def insert_key(self, key: ApiKey) -> None:
        client("dynamodb").put_item(
            TableName=_table(),
            Item=to_item({
                "pk": key_pk(key.secret_hash), "sk": "APIKEY",
                "gsi1pk": f"WS#{key.workspace_id}#APIKEYS", "gsi1sk": f"APIKEY#{key.id}",
                "type": "apiKey", "id": key.id, "workspaceId": key.workspace_id, "name": key.name,
                "prefix": key.prefix, "secretHash": key.secret_hash,
                # Lists, not string sets: DynamoDB sets cannot be empty.
                "scopes": list(key.scopes), "allowedPaths": list(key.allowed_paths),
                "createdAt": key.created_at, "expiresAt": key.expires_at, "revokedAt": key.revoked_at,
            }),
            ConditionExpression="attribute_not_exists(pk)",
        )


# --- operations probes ------------------------------------------------------------------

class Probes:
    """Items written by the self-check workflow; they expire through the table's TTL."""

    def write(self, probe_id: str, payload: str, expires_at_epoch: int) -> None:
        client("dynamodb").put_item(
            TableName=_table(),
            Item=to_item({"pk": f"PROBE#{probe_id}", "sk": "PROBE", "type": "probe",
                          "payload": payload, TTL_ATTRIBUTE: expires_at_epoch}),
        )

    def read(self, probe_id: str) -> str | None:
        response = client("dynamodb").get_item(
            TableName=_table(), Key=to_item({"pk": f"PROBE#{probe_id}", "sk": "PROBE"}), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item)["payload"] if item else None


def describe_table() -> str:
    """The table's status (health check)."""
    return client("dynamodb").describe_table(TableName=_table())["Table"]["TableStatus"]

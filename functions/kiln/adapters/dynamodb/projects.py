"""Projects in the single table (kiln.domain.projects.ProjectRepository)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    project_sk,
    project_status_partition,
    put_item,
    query_items,
    table,
    to_item,
    workspace_pk,
)
from kiln.adapters.schema import GSI1
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

# Largest page DynamoDB is asked for while filling a cursor page (filters may discard items).
_QUERY_BATCH = 100

PROJECT_FIELDS = (
    "id",
    "name",
    "description",
    "status",
    "createdAt",
    "updatedAt",
    "archivedAt",
    "specVersion",
    "approvedAt",
)


# DynamoDB's contains() is case-sensitive, so searches run against casefolded copies of
# name and description, kept per field so a PATCH of one never needs to read the other.
_FOLDED = {"name": "nameFolded", "description": "descriptionFolded"}


def project_from(item: dict[str, Any]) -> Project:
    # Only the public fields are deserialized: keys, search copies, the revision counter and
    # the clarifying questions never leave the adapter through this model.
    return Project(**from_item({k: item[k] for k in PROJECT_FIELDS if k in item}))


def update_request(
    workspace_id: str,
    project_id: str,
    changes: dict[str, Any],
    *,
    allowed_from: frozenset[ProjectStatus] | None = None,
    revision: int | None = None,
) -> dict[str, Any]:
    """The UpdateItem parameters (Key, expressions) for a guarded change of a project item.

    Used alone (ProjectStore.update) and inside transactions (kiln.adapters.dynamodb.specs).
    A None value removes the attribute. Every change bumps `revision`, the optimistic-lock
    counter that lets a slow operation (spec generation) refuse to write over a project that
    changed since it was read. Guards: the item exists, its status is in `allowed_from`, and
    its revision is still `revision` (when given).
    """
    changes = {k: (v.value if isinstance(v, ProjectStatus) else v) for k, v in changes.items()}
    # DynamoDB rejects unused placeholders, so each is added only with its expression.
    names: dict[str, str] = {"#revision": "revision"}
    values: dict[str, Any] = {":zero": 0, ":one": 1}
    sets: list[str] = ["#revision = if_not_exists(#revision, :zero) + :one"]
    removes: list[str] = []
    for index, (field, value) in enumerate(sorted(changes.items())):
        names[f"#f{index}"] = field
        if value is None:
            removes.append(f"#f{index}")
            continue
        values[f":v{index}"] = value
        sets.append(f"#f{index} = :v{index}")
    if changes.get("status") is not None:
        sets.append("gsi1pk = :statusPartition")
        values[":statusPartition"] = project_status_partition(workspace_id, changes["status"])
    for field, folded in _FOLDED.items():
        if changes.get(field) is not None:
            sets.append(f"{folded} = :{folded}")
            values[f":{folded}"] = changes[field].casefold()
    conditions = ["attribute_exists(pk)"]
    if allowed_from is not None:
        names["#status"] = "status"
        placeholders = []
        for index, status in enumerate(sorted(s.value for s in allowed_from)):
            values[f":allowed{index}"] = status
            placeholders.append(f":allowed{index}")
        conditions.append(f"#status IN ({', '.join(placeholders)})")
    if revision is not None:
        # Items written before the counter existed have none: that is revision 0.
        if revision == 0:
            conditions.append("attribute_not_exists(#revision)")
        else:
            values[":revision"] = revision
            conditions.append("#revision = :revision")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return {
        "TableName": table(),
        "Key": to_item({"pk": workspace_pk(workspace_id), "sk": project_sk(project_id)}),
        "UpdateExpression": expression,
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item(values),
    }


class ProjectStore:
    """kiln.domain.projects.ProjectRepository on DynamoDB."""

    @staticmethod
    def item(workspace_id: str, project: Project) -> dict[str, Any]:
        """A new project's item (also written inside the import transaction)."""
        return {
            "pk": workspace_pk(workspace_id),
            "sk": project_sk(project.id),
            "gsi1pk": project_status_partition(workspace_id, project.status.value),
            "gsi1sk": project_sk(project.id),
            "type": "project",
            "workspaceId": workspace_id,
            "nameFolded": project.name.casefold(),
            "descriptionFolded": project.description.casefold(),
            **project.model_dump(mode="json"),
        }

    def insert(self, workspace_id: str, project: Project) -> None:
        put_item(self.item(workspace_id, project), only_if_new=True)

    def get(self, workspace_id: str, project_id: str) -> Project | None:
        # Consistent: read-your-writes after POST/PATCH.
        item = get_item(workspace_pk(workspace_id), project_sk(project_id), consistent=True)
        return project_from(item) if item else None

    def update(
        self,
        workspace_id: str,
        project_id: str,
        changes: dict[str, Any],
        allowed_from: frozenset[ProjectStatus],
    ) -> Project:
        try:
            response = client("dynamodb").update_item(
                **update_request(workspace_id, project_id, changes, allowed_from=allowed_from),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            old = error.response.get("Item")
            if not old:
                raise ProjectMissing(project_id) from None
            raise StatusConflict(ProjectStatus(from_item(old)["status"])) from None
        return project_from(response["Attributes"])

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
        query["TableName"] = table()
        query["ScanIndexForward"] = False
        return query

    def list_page(self, workspace_id: str, filters: ProjectListFilter, page: PageRequest) -> PageResult:
        # Page mode needs a total, which DynamoDB can only get by reading the partition:
        # cost grows with the workspace's project count (cursor mode does not; see docs).
        start = (page.page - 1) * page.page_size
        end = start + page.page_size
        items: list[Project] = []
        total = 0
        for item in query_items(self._query(workspace_id, filters)):
            if start <= total < end:
                items.append(project_from(item))
            total += 1
        return PageResult(items, total)

    def list_cursor(self, workspace_id: str, filters: ProjectListFilter, cursor: CursorRequest) -> CursorResult:
        key_fields = ("pk", "sk") if filters.status is None else ("pk", "sk", "gsi1pk", "gsi1sk")
        items: list[dict[str, Any]] = []
        batch = min(_QUERY_BATCH, cursor.limit + 1)
        for item in query_items(self._query(workspace_id, filters), cursor.after, batch):
            items.append(item)
            if len(items) > cursor.limit:
                break
        more = len(items) > cursor.limit
        page = items[: cursor.limit]
        after = None
        if more:
            last = from_item(page[-1])
            after = {k: last[k] for k in key_fields}
        return CursorResult([project_from(i) for i in page], after)

"""Projects in the single table (kiln.domain.project_records.ProjectRepository).

Nothing here loads pydantic (GET and DELETE of a project never do, kiln.domain.project_records):
the repository reads and writes `ProjectRecord`s. Only `project_from`, for the spec and run
adapters whose domain holds the pydantic `Project`, imports that model, when first called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from kiln import overlap
from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    fields_from,
    from_item,
    get_item,
    project_sk,
    project_status_partition,
    put_new,
    query_items,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.adapters.schema import GSI1
from kiln.domain.project_records import (
    PROJECT_FIELDS,
    CursorRequest,
    CursorResult,
    PageRequest,
    PageResult,
    ProjectListFilter,
    ProjectMissing,
    ProjectRecord,
    ProjectStatus,
    StatusConflict,
)

if TYPE_CHECKING:
    from kiln.domain.projects import Project

# Largest page DynamoDB is asked for while filling a cursor page (filters may discard items).
_QUERY_BATCH = 100
# Attempts at archiving when the project changes between its read and the transaction.
_ARCHIVE_ATTEMPTS = 3

# Page mode's totals, so a page never reads the whole workspace to count it: one item per
# workspace, pk=WS#<id> sk=COUNT#PROJECTS, holding `live` (every project but the archived: the
# default listing's total) and `archived`. Each is changed in the same transaction as the
# projects it counts: creation and import add to `live`, archiving moves one from `live` to
# `archived` (archived is final: nothing moves back). The statuses between draft and archived
# change in the spec and run transactions, which do not keep counts, so a listing filtered on
# one of them, or searched, still counts by reading what it filters (see `list_page`).
# `complete` says the counts cover every project of the workspace: set when the workspace is
# created (`initial_counts`), or by the first listing of a workspace older than the counts,
# which counts its projects once (`_complete_counts`). Without it the counters hold only the
# changes made since they existed and are not a total.
COUNTS_SK = "COUNT#PROJECTS"
_LIVE, _ARCHIVED, _COMPLETE = "live", ProjectStatus.ARCHIVED.value, "complete"
_COUNTS_TYPE = "projectCounts"


def initial_counts(workspace_id: str) -> dict[str, Any]:
    """The Put of a new workspace's counts, complete at zero, for its creating transaction."""
    item = {"pk": workspace_pk(workspace_id), "sk": COUNTS_SK, "type": _COUNTS_TYPE}
    return {
        "TableName": table(),
        "Item": to_item({**item, _LIVE: 0, _ARCHIVED: 0, _COMPLETE: True}),
        "ConditionExpression": "attribute_not_exists(pk)",
    }


def counts_update(workspace_id: str, **moves: int) -> dict[str, Any]:
    """A transaction's Update of the workspace's totals: {"live": 1} on a creation, etc."""
    names = {f"#c{i}": name for i, name in enumerate(sorted(moves))}
    values = {f":c{i}": moves[name] for i, name in enumerate(sorted(moves))}
    return {
        "TableName": table(),
        "Key": to_item({"pk": workspace_pk(workspace_id), "sk": COUNTS_SK}),
        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(moves))) + " SET #type = :type",
        "ExpressionAttributeNames": {**names, "#type": "type"},
        "ExpressionAttributeValues": to_item({**values, ":type": _COUNTS_TYPE}),
    }


# DynamoDB's contains() is case-sensitive, so searches run against casefolded copies of
# name and description, kept per field so a PATCH of one never needs to read the other.
_FOLDED = {"name": "nameFolded", "description": "descriptionFolded"}


def record_from(item: dict[str, Any]) -> ProjectRecord:
    # Only the public fields are deserialized: keys, search copies, the revision counter and
    # the clarifying questions never leave the adapter through this record.
    return ProjectRecord.of(fields_from(item, PROJECT_FIELDS))


def project_from(item: dict[str, Any]) -> Project:
    """The item as the pydantic model, for the spec and run adapters."""
    # Imported here, not above: the project endpoints use this module without pydantic.
    from kiln.domain.projects import Project

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
    def item(workspace_id: str, project: Project | ProjectRecord) -> dict[str, Any]:
        """A new project's item (also written inside the import transaction, from the model)."""
        public = project.json() if isinstance(project, ProjectRecord) else project.model_dump(mode="json")
        return {
            "pk": workspace_pk(workspace_id),
            "sk": project_sk(project.id),
            "gsi1pk": project_status_partition(workspace_id, project.status.value),
            "gsi1sk": project_sk(project.id),
            "type": "project",
            "workspaceId": workspace_id,
            "nameFolded": project.name.casefold(),
            "descriptionFolded": project.description.casefold(),
            **public,
        }

    def insert(self, workspace_id: str, project: ProjectRecord) -> None:
        # One round trip, as the plain PutItem it replaces: the project and its count at once.
        client("dynamodb").transact_write_items(
            TransactItems=[
                put_new(self.item(workspace_id, project)),
                {"Update": counts_update(workspace_id, **{_LIVE: 1})},
            ]
        )

    def get(self, workspace_id: str, project_id: str) -> ProjectRecord | None:
        # Consistent: read-your-writes after POST/PATCH.
        item = get_item(workspace_pk(workspace_id), project_sk(project_id), consistent=True)
        return record_from(item) if item else None

    def update(
        self,
        workspace_id: str,
        project_id: str,
        changes: dict[str, Any],
        allowed_from: frozenset[ProjectStatus],
        before_write: Callable[[], object] | None = None,
    ) -> ProjectRecord:
        if changes.get("status") in (ProjectStatus.ARCHIVED, ProjectStatus.ARCHIVED.value):
            return self._archive(workspace_id, project_id, changes, allowed_from, before_write)
        if before_write is not None:
            before_write()
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
        return record_from(response["Attributes"])

    def _archive(
        self,
        workspace_id: str,
        project_id: str,
        changes: dict[str, Any],
        allowed_from: frozenset[ProjectStatus],
        before_write: Callable[[], object] | None,
    ) -> ProjectRecord:
        """The status change and the move from `live` to `archived`, in one transaction.

        A transaction returns no item, so the project is read first (the answer is that item
        with the changes) and the transaction holds only if its revision is still the one read;
        a change in between (another PATCH) makes it read and try again. `before_write` runs
        between the first read and the transaction: the read may share its round trip with the
        request's limit checks, the write waits for them (kiln.http.api, `reads_first`).
        """
        for _ in range(_ARCHIVE_ATTEMPTS):
            item = get_item(workspace_pk(workspace_id), project_sk(project_id), consistent=True)
            if not item:
                raise ProjectMissing(project_id)
            current = from_item(item)
            if ProjectStatus(current["status"]) not in allowed_from:
                raise StatusConflict(ProjectStatus(current["status"]), record_from(item))
            if before_write is not None:
                before_write()
            update = update_request(
                workspace_id, project_id, changes, allowed_from=allowed_from, revision=int(current.get("revision", 0))
            )
            try:
                client("dynamodb").transact_write_items(
                    TransactItems=[
                        {"Update": update},
                        {"Update": counts_update(workspace_id, **{_LIVE: -1, _ARCHIVED: 1})},
                    ]
                )
            except ClientError as error:
                if not transaction_cancelled(error):
                    raise
                continue
            status = changes["status"]
            archived = {**current, **changes, "status": getattr(status, "value", status)}
            return ProjectRecord.of({k: archived[k] for k in PROJECT_FIELDS if archived.get(k) is not None})
        raise RuntimeError(f"project {project_id} kept changing while being archived")

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
        """One page and the total: the total from the workspace's counts when they cover the
        filter (no search; no status, or archived), read on a thread while the page is queried,
        so the two share one round trip and neither grows with the workspace (the query reads
        up to the page's end only). Counts not yet complete (a workspace older than them) are
        completed first, once (`_complete_counts`). Other filters are counted by reading the
        partition, whose cost grows with what it holds."""
        start = (page.page - 1) * page.page_size
        end = start + page.page_size
        counted = None
        if filters.search is None and filters.status in (None, ProjectStatus.ARCHIVED):
            counted = _Read(workspace_pk(workspace_id), COUNTS_SK)
        items: list[ProjectRecord] = []
        seen = 0
        for item in query_items(self._query(workspace_id, filters), None, min(end + 1, _QUERY_BATCH)):
            if start <= seen < end:
                items.append(record_from(item))
            seen += 1
            if seen >= end and counted is not None:
                break
        if counted is None:
            return PageResult(items, seen)
        totals = from_item(counted.item() or {})
        if not totals.get(_COMPLETE):
            totals = self._complete_counts(workspace_id, totals)
        return PageResult(items, int(totals.get(_LIVE if filters.status is None else _ARCHIVED, 0)))

    def _complete_counts(self, workspace_id: str, read: dict[str, Any]) -> dict[str, Any]:
        """Count the workspace's projects and make that its complete counts; the counts.

        `read` is the counts item as read *before* counting (empty when there is none), and the
        write holds only if the counters are still what was read and no one completed them
        meanwhile. That order is what makes the write safe: every creation, import and archive
        changes the counters in its own transaction, and the pair never comes back to an earlier
        value (live + archived grows with each creation, archived with each archive). So if the
        condition holds, nothing changed the projects between the read and the write, and the
        count, taken in between with a consistent read, is the workspace as the write leaves it.
        Counted first and read second, a creation committed in between would be in the counters
        but not in the count, the condition would still hold, and the total would stay one short
        for good. A refused write (a change raced the count) leaves the counts incomplete: the
        answer is still this count, and the next listing counts again.
        """
        query = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": workspace_pk(workspace_id), ":prefix": "PROJECT#"}),
            "ExpressionAttributeNames": {"#status": "status"},
            "ProjectionExpression": "#status",
            "ConsistentRead": True,
        }
        counts = {_LIVE: 0, _ARCHIVED: 0}
        for item in query_items(query):
            status = from_item(item).get("status")
            if status is not None:
                counts[_ARCHIVED if status == ProjectStatus.ARCHIVED.value else _LIVE] += 1
        names = {"#live": _LIVE, "#archived": _ARCHIVED, "#complete": _COMPLETE, "#type": "type"}
        values: dict[str, Any] = {":live": counts[_LIVE], ":archived": counts[_ARCHIVED], ":true": True}
        values[":type"] = _COUNTS_TYPE
        conditions = ["attribute_not_exists(#complete)"]
        for counter in (_LIVE, _ARCHIVED):
            if counter in read:
                values[f":was{counter}"] = read[counter]
                conditions.append(f"#{counter} = :was{counter}")
            else:
                conditions.append(f"attribute_not_exists(#{counter})")
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=to_item({"pk": workspace_pk(workspace_id), "sk": COUNTS_SK}),
                UpdateExpression="SET #live = :live, #archived = :archived, #complete = :true, #type = :type",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            # Refused, or a transaction on the item in flight: a change raced the count.
            code = error.response.get("Error", {}).get("Code")
            if not (condition_failed(error) or code == "TransactionConflictException"):
                raise
        return counts

    def list_cursor(self, workspace_id: str, filters: ProjectListFilter, cursor: CursorRequest) -> CursorResult:
        key_fields = _key_fields(filters)
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
        return CursorResult([record_from(i) for i in page], after)


def _key_fields(filters: ProjectListFilter) -> tuple[str, ...]:
    """The attributes of a listing's ExclusiveStartKey: the table's keys, plus GSI1's on a status."""
    return ("pk", "sk") if filters.status is None else ("pk", "sk", "gsi1pk", "gsi1sk")


class _Read:
    """A consistent GetItem handed to the overlap pool (kiln.overlap), so it shares the round
    trip of what the caller does meanwhile.

    A built boto3 client is safe to share between threads, building one is not: it is built
    (or found) here, on the caller's thread, before the pool may run the read.
    """

    def __init__(self, pk: str, sk: str) -> None:
        client("dynamodb")
        self._job = overlap.start(lambda: get_item(pk, sk, consistent=True))

    def item(self) -> dict[str, Any] | None:
        return self._job.result()

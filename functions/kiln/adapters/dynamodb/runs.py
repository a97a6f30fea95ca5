"""Runs, their tasks, their events and the workspace's build slots in the single table.

    run          pk=WS#<ws>  sk=RUN#<projectId>#<runId>   (the plan's `mergeOrder`, not its tasks)
    task         pk=WS#<ws>  sk=TASK#<runId>#<taskId>     (its definition; `planIndex`: its place in the plan)
    event        pk=WS#<ws>  sk=EVENT#<runId>#<sequence, 10 digits>
    its counter  pk=WS#<ws>  sk=EVSEQ#<runId>    (attribute `eventSeq`, the last event's id)
    build slots  pk=WS#<ws>  sk=BUILDS          (attribute `active`)

Creating a run is one transaction (project -> building, a build slot, the run item), and so is
finishing one (run -> terminal, project -> built/failed/approved, the slot back), so the slot
count can never drift from the runs that hold one. Events are appended by a transaction that
moves the run's event counter from n to n+1 and puts event n+1: an event becomes visible only
after every earlier one, which is what lets readers resume after an id with no gap.

The counter is an item of its own, not an attribute of the run, and the plan's definitions live
on the task items, not on the run: DynamoDB bills a write, and a consistent read, by the whole
item, and every step reads the run and every append moved its counter, so a plan on the run item
(about 4 KB per task) made a build's cost grow with the square of its tasks, and a plan past
about 100 tasks could not be stored at all (the 400 KB item limit). The run keeps the merge order
(a few bytes per task); a task step reads its own item and its dependencies'. Runs created before
the counter existed keep `eventSeq` on the run item, their first append starts the counter from
it; runs planned before the definitions moved keep the whole plan on the run (`tasksJson`).
"""

from __future__ import annotations

import builtins  # `builtins.list` in classes whose own list() method shadows the type
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    numbers,
    project_sk,
    put_new,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.adapters.dynamodb.projects import project_from, update_request
from kiln.adapters.dynamodb.specs import SpecStore
from kiln.clock import Clock
from kiln.domain.builds import Event, EventType, TaskStatus
from kiln.domain.projects import ProjectStatus
from kiln.domain.runs import (
    ACTIVE,
    EVERY_EVENT,
    BuildTarget,
    ConcurrencyLimitReached,
    EventFilter,
    NewRun,
    Run,
    RunChanged,
    RunDetail,
    RunListFilter,
    RunStatus,
    SpecSnapshot,
    Task,
    stored_plan,
    task_summaries,
)

_RUN_FIELDS = tuple(Run.model_fields)
_TASK_FIELDS = tuple(Task.model_fields)
_EVENT_FIELDS = tuple(Event.model_fields)
_APPEND_ATTEMPTS = 50  # concurrent tasks race for the next sequence number; each retry is one round trip
_BATCH_WRITE = 25  # BatchWriteItem's most requests per call
_BATCH_GET = 100  # BatchGetItem's most keys per call
_UNPROCESSED_ATTEMPTS = 8  # rounds for the items a batch call hands back (throttled), with backoff


def run_sk(project_id: str, run_id: str) -> str:
    return f"RUN#{project_id}#{run_id}"


def task_sk(run_id: str, task_id: str) -> str:
    return f"TASK#{run_id}#{task_id}"


def event_sk(run_id: str, sequence: int) -> str:
    return f"EVENT#{run_id}#{sequence:010d}"


def event_counter_sk(run_id: str) -> str:
    return f"EVSEQ#{run_id}"


BUILDS_SK = "BUILDS"


def _run_from(raw: dict[str, Any]) -> Run:
    values = {k: raw[k] for k in _RUN_FIELDS if k in raw}
    values["tasksSummary"] = {
        "total": raw.get("tasksTotal", 0),
        "succeeded": raw.get("tasksSucceeded", 0),
        "failed": raw.get("tasksFailed", 0),
    }
    return Run(**numbers(values))


def _task_from(raw: dict[str, Any]) -> Task:
    return Task(**numbers({k: raw[k] for k in _TASK_FIELDS if k in raw}))


class RunStore:
    """kiln.domain.runs.RunRepository and ProjectReader, plus what the workers write."""

    # --- project side -------------------------------------------------------------------

    def load_for_build(self, workspace_id: str, project_id: str) -> BuildTarget | None:
        item = get_item(workspace_pk(workspace_id), project_sk(project_id), consistent=True)
        if item is None:
            return None
        raw = from_item({k: item[k] for k in ("revision", "runCount") if k in item})
        return BuildTarget(project_from(item), int(raw.get("revision", 0)), int(raw.get("runCount", 0)))

    def snapshot(self, workspace_id: str, project_id: str, version: int) -> SpecSnapshot | None:
        spec = SpecStore().get_version(workspace_id, project_id, version)
        if spec is None:
            return None
        return SpecSnapshot(version=spec.version, approvedAt=spec.approvedAt, documents=spec.documents)

    # --- runs ---------------------------------------------------------------------------

    def create(self, workspace_id: str, new: NewRun) -> None:
        run = new.run
        slot: dict[str, Any] = {
            "TableName": table(),
            "Key": to_item({"pk": workspace_pk(workspace_id), "sk": BUILDS_SK}),
            "UpdateExpression": "ADD active :one",
            "ExpressionAttributeValues": to_item({":one": 1}),
        }
        if new.concurrency_limit is not None:
            slot["ConditionExpression"] = "attribute_not_exists(active) OR active < :limit"
            slot["ExpressionAttributeValues"] = to_item({":one": 1, ":limit": new.concurrency_limit})
        item = {
            "pk": workspace_pk(workspace_id),
            "sk": run_sk(run.projectId, run.id),
            "type": "run",
            **run.model_dump(mode="json", exclude={"tasksSummary"}),
            "slotHeld": True,
        }
        counter = {"pk": workspace_pk(workspace_id), "sk": event_counter_sk(run.id), "type": "event-counter"}
        project_changes = {"status": ProjectStatus.BUILDING, "runCount": run.runNumber, "updatedAt": run.createdAt}
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Update": update_request(
                            workspace_id, run.projectId, project_changes, revision=new.project_revision
                        )
                    },
                    {"Update": slot},
                    put_new(item),
                    put_new({**counter, "eventSeq": 0}),
                    # What GET /v2/operations/{callbackId} finds for a run's callbackId.
                    {
                        "Put": {
                            "TableName": table(),
                            "Item": to_item(
                                {
                                    "pk": workspace_pk(workspace_id),
                                    "sk": f"OP#{run.callbackId}",
                                    "type": "operation-pointer",
                                    "kind": "run",
                                    "projectId": run.projectId,
                                }
                            ),
                        }
                    },
                ]
            )
        except ClientError as error:
            if not transaction_cancelled(error):
                raise
            reasons = error.response.get("CancellationReasons") or []
            codes = [r.get("Code") for r in reasons]
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed" and codes[0] in (None, "None"):
                raise ConcurrencyLimitReached(new.concurrency_limit or 0) from None
            current = get_item(workspace_pk(workspace_id), project_sk(run.projectId), consistent=True)
            raise RunChanged(project_from(current).status if current else None) from None

    def _raw_run(self, workspace_id: str, project_id: str, run_id: str) -> dict[str, Any] | None:
        item = get_item(workspace_pk(workspace_id), run_sk(project_id, run_id), consistent=True)
        return from_item(item) if item else None

    def get(self, workspace_id: str, project_id: str, run_id: str) -> Run | None:
        raw = self._raw_run(workspace_id, project_id, run_id)
        return _run_from(raw) if raw else None

    def detail(self, workspace_id: str, project_id: str, run_id: str) -> RunDetail | None:
        raw = self._raw_run(workspace_id, project_id, run_id)
        if raw is None:
            return None
        run = _run_from(raw)
        snapshot = self.snapshot(workspace_id, project_id, run.specVersion)
        if snapshot is None:
            raise RuntimeError(f"spec version {run.specVersion} of run {run_id} is missing")
        tasks = self.tasks(workspace_id, run_id)
        plan = stored_plan(numbers(raw), tasks)
        return RunDetail(
            **run.model_dump(),
            specSnapshot=snapshot,
            tasksJson=plan,
            tasks=task_summaries(tasks, plan),
            verificationResult=raw.get("verificationResult"),
        )

    def raw(self, workspace_id: str, project_id: str, run_id: str) -> dict[str, Any] | None:
        """The run item's attributes (the workers' view of the run: status, merge order, counters)."""
        raw = self._raw_run(workspace_id, project_id, run_id)
        return numbers(raw) if raw else None

    def _query(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request = {"TableName": table(), **request}
        while True:
            response = client("dynamodb").query(**request)
            items.extend(from_item(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _run_query(self, workspace_id: str, project_id: str, filters: RunListFilter) -> dict[str, Any]:
        values: dict[str, Any] = {":pk": workspace_pk(workspace_id), ":prefix": f"RUN#{project_id}#"}
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if filters.status is not None:
            request["FilterExpression"] = "#status = :status"
            request["ExpressionAttributeNames"] = {"#status": "status"}
            values[":status"] = filters.status.value
        request["ExpressionAttributeValues"] = to_item(values)
        return request

    def list(
        self, workspace_id: str, project_id: str, filters: RunListFilter, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Run], dict[str, Any] | None]:
        request = {
            **self._run_query(workspace_id, project_id, filters),
            "TableName": table(),
            "Limit": min(100, limit + 1),
        }
        if after:
            request["ExclusiveStartKey"] = to_item(after)
        found: list[dict[str, Any]] = []
        while len(found) <= limit:
            response = client("dynamodb").query(**request)
            found.extend(from_item(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        page = found[:limit]
        position = {"pk": page[-1]["pk"], "sk": page[-1]["sk"]} if len(found) > limit else None
        return [_run_from(r) for r in page], position

    def page(
        self, workspace_id: str, project_id: str, filters: RunListFilter, page: int, size: int
    ) -> tuple[builtins.list[Run], int]:
        items = self._query(self._run_query(workspace_id, project_id, filters))
        start = (page - 1) * size
        return [_run_from(r) for r in items[start : start + size]], len(items)

    def run_state(self, workspace_id: str, project_id: str, run_id: str) -> tuple[str, dict[str, Any] | None] | None:
        raw = self._raw_run(workspace_id, project_id, run_id)
        return (raw["status"], raw.get("error")) if raw else None

    def set_status(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        status: RunStatus,
        allowed_from: frozenset[RunStatus],
        changes: dict[str, Any] | None = None,
    ) -> bool:
        values = {**(changes or {}), "status": status.value}
        names = {f"#f{i}": k for i, k in enumerate(values)}
        expression_values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(values.values())}
        allowed = sorted(s.value for s in allowed_from)
        expression_values.update({f":a{i}": s for i, s in enumerate(allowed)})
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=to_item({"pk": workspace_pk(workspace_id), "sk": run_sk(project_id, run_id)}),
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(values))),
                ConditionExpression=f"#s IN ({', '.join(f':a{i}' for i in range(len(allowed)))})",
                ExpressionAttributeNames={**names, "#s": "status"},
                ExpressionAttributeValues=to_item(expression_values),
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def finish(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        outcome: RunStatus,
        project_status: ProjectStatus,
        changes: dict[str, Any],
    ) -> bool:
        values = {**changes, "status": outcome.value, "updatedAt": changes.get("finishedAt")}
        sets = [f"#f{i} = :v{i}" for i, (k, v) in enumerate(values.items()) if v is not None]
        removes = [f"#f{i}" for i, (k, v) in enumerate(values.items()) if v is None]
        names = {f"#f{i}": k for i, k in enumerate(values)}
        expression_values = {f":v{i}": v for i, v in enumerate(values.values()) if v is not None}
        active = sorted(s.value for s in ACTIVE)
        expression_values.update({f":a{i}": s for i, s in enumerate(active)})
        run_update = {
            "TableName": table(),
            "Key": to_item({"pk": workspace_pk(workspace_id), "sk": run_sk(project_id, run_id)}),
            "UpdateExpression": "SET "
            + ", ".join(sets)
            + " REMOVE slotHeld"
            + (", " + ", ".join(removes) if removes else ""),
            "ConditionExpression": f"#s IN ({', '.join(f':a{i}' for i in range(len(active)))}) AND slotHeld = :true",
            "ExpressionAttributeNames": {**names, "#s": "status"},
            "ExpressionAttributeValues": to_item({**expression_values, ":true": True}),
        }
        slot = {
            "TableName": table(),
            "Key": to_item({"pk": workspace_pk(workspace_id), "sk": BUILDS_SK}),
            "UpdateExpression": "ADD active :minus",
            "ExpressionAttributeValues": to_item({":minus": -1}),
        }
        # The project leaves `building` only if it is still there (it may have been archived).
        project = update_request(
            workspace_id,
            project_id,
            {"status": project_status, "updatedAt": changes.get("finishedAt")},
            allowed_from=frozenset({ProjectStatus.BUILDING}),
        )
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[{"Update": run_update}, {"Update": slot}, {"Update": project}]
            )
            return True
        except ClientError as error:
            if not transaction_cancelled(error):
                raise
            codes = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False  # already finished
        # The project moved away from `building` (archived): finish the run and free the slot anyway.
        client("dynamodb").transact_write_items(TransactItems=[{"Update": run_update}, {"Update": slot}])
        return True

    # --- tasks --------------------------------------------------------------------------

    def put_tasks(self, workspace_id: str, tasks: builtins.list[Task]) -> None:
        """The plan's tasks, in plan order; a retried decompose overwrites the same ids."""
        requests = [
            {
                "PutRequest": {
                    "Item": to_item(
                        {
                            "pk": workspace_pk(workspace_id),
                            "sk": task_sk(task.runId, task.id),
                            "type": "task",
                            "planIndex": index,
                            **task.model_dump(mode="json"),
                        }
                    )
                }
            }
            for index, task in enumerate(tasks)
        ]
        for start in range(0, len(requests), _BATCH_WRITE):
            pending: dict[str, Any] = {table(): requests[start : start + _BATCH_WRITE]}
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError(f"DynamoDB left {len(pending[table()])} task items unwritten (throttled)")

    def update_task(
        self,
        workspace_id: str,
        run_id: str,
        task_id: str,
        changes: dict[str, Any],
        only_if_status: frozenset[TaskStatus] | None = None,
        increment_attempts: bool = False,
    ) -> bool:
        sets = [f"#f{i} = :v{i}" for i in range(len(changes))]
        names = {f"#f{i}": k for i, k in enumerate(changes)}
        values: dict[str, Any] = {f":v{i}": v for i, v in enumerate(changes.values())}
        if increment_attempts:
            sets.append("attempts = if_not_exists(attempts, :zero) + :one")
            values.update({":zero": 0, ":one": 1})
        request: dict[str, Any] = {
            "TableName": table(),
            "Key": to_item({"pk": workspace_pk(workspace_id), "sk": task_sk(run_id, task_id)}),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ExpressionAttributeNames": names,
        }
        if only_if_status:
            statuses = sorted(s.value for s in only_if_status)
            values.update({f":s{i}": s for i, s in enumerate(statuses)})
            names["#status"] = "status"
            request["ConditionExpression"] = f"#status IN ({', '.join(f':s{i}' for i in range(len(statuses)))})"
        request["ExpressionAttributeValues"] = to_item(values)
        try:
            client("dynamodb").update_item(**request)
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def cancel_tasks(self, workspace_id: str, run_id: str, finished_at: str) -> None:
        unfinished = frozenset({TaskStatus.PENDING, TaskStatus.RUNNING})
        for task in self.tasks(workspace_id, run_id):
            if task.status in unfinished:
                self.update_task(
                    workspace_id,
                    run_id,
                    task.id,
                    {"status": TaskStatus.CANCELLED.value, "finishedAt": finished_at},
                    only_if_status=unfinished,
                )

    def count_task(self, workspace_id: str, project_id: str, run_id: str, counter: str) -> None:
        client("dynamodb").update_item(
            TableName=table(),
            Key=to_item({"pk": workspace_pk(workspace_id), "sk": run_sk(project_id, run_id)}),
            UpdateExpression=f"ADD {counter} :one",
            ExpressionAttributeValues=to_item({":one": 1}),
        )

    def tasks(self, workspace_id: str, run_id: str) -> builtins.list[Task]:
        """In plan order (tasks stored before `planIndex` existed: by id, as planned)."""
        items = self._query(
            {
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": to_item({":pk": workspace_pk(workspace_id), ":prefix": f"TASK#{run_id}#"}),
                "ConsistentRead": True,
            }
        )
        items.sort(key=lambda item: int(item.get("planIndex", -1)))  # stable: ids stay in order among equals
        return [_task_from(i) for i in items]

    def tasks_named(self, workspace_id: str, run_id: str, task_ids: builtins.list[str]) -> builtins.list[Task]:
        found: dict[str, Task] = {}
        wanted = list(dict.fromkeys(task_ids))
        for start in range(0, len(wanted), _BATCH_GET):
            keys = [
                to_item({"pk": workspace_pk(workspace_id), "sk": task_sk(run_id, task_id)})
                for task_id in wanted[start : start + _BATCH_GET]
            ]
            pending: dict[str, Any] = {table(): {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(_UNPROCESSED_ATTEMPTS):
                response = client("dynamodb").batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(table(), []):
                    task = _task_from(from_item(item))
                    found[task.id] = task
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt))
            else:
                raise RuntimeError(f"DynamoDB left {len(pending[table()]['Keys'])} task items unread (throttled)")
        return [found[task_id] for task_id in task_ids if task_id in found]

    def task(self, workspace_id: str, run_id: str, task_id: str) -> Task | None:
        item = get_item(workspace_pk(workspace_id), task_sk(run_id, task_id), consistent=True)
        return _task_from(from_item(item)) if item else None


def _stamp_floor(moment: datetime) -> str:
    """`moment` in the events' own createdAt format (UTC, milliseconds, Z), truncated: for a
    stamp s on the millisecond grid, s > moment exactly when s > the truncated moment, so the
    string comparison in the filter is the comparison of instants."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventStore:
    """kiln.domain.runs.EventLog: a per-run, gap-free, strictly increasing event sequence."""

    def __init__(self, clock: Clock | None = None) -> None:
        from kiln.clock import iso, utc_now

        self._stamp = lambda: iso((clock or utc_now)())

    def append(
        self,
        workspace_id: str,
        project_id: str,
        run_id: str,
        event_type: EventType,
        *,
        task_id: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        counter_key = {"pk": workspace_pk(workspace_id), "sk": event_counter_sk(run_id)}
        for _ in range(_APPEND_ATTEMPTS):
            counter_write, sequence = self._next(workspace_id, project_id, run_id, counter_key)
            event = Event(
                id=sequence,
                runId=run_id,
                taskId=task_id,
                eventType=event_type,
                payload=payload or {},
                createdAt=self._stamp(),
            )
            try:
                client("dynamodb").transact_write_items(
                    TransactItems=[
                        counter_write,
                        {
                            "Put": {
                                "TableName": table(),
                                "ConditionExpression": "attribute_not_exists(pk)",
                                "Item": to_item(
                                    {
                                        "pk": workspace_pk(workspace_id),
                                        "sk": event_sk(run_id, sequence),
                                        "type": "event",
                                        **event.model_dump(mode="json"),
                                    }
                                ),
                            }
                        },
                    ]
                )
                return event
            except ClientError as error:
                if not transaction_cancelled(error):
                    raise
        raise RuntimeError(f"could not append an event to run {run_id}: too much contention")

    @staticmethod
    def _next(
        workspace_id: str, project_id: str, run_id: str, counter_key: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        """The counter's move from the last id to the next (a write for the append's transaction),
        and the next id. LookupError when the run does not exist."""
        counter = get_item(counter_key["pk"], counter_key["sk"], consistent=True)
        if counter is not None:
            last = int(from_item(counter)["eventSeq"])
            move = {
                "Update": {
                    "TableName": table(),
                    "Key": to_item(counter_key),
                    "UpdateExpression": "SET eventSeq = :next",
                    "ConditionExpression": "eventSeq = :last",
                    "ExpressionAttributeValues": to_item({":next": last + 1, ":last": last}),
                }
            }
            return move, last + 1
        # A run created before counters were items of their own (or no run at all).
        run = client("dynamodb").get_item(
            TableName=table(),
            Key=to_item({"pk": counter_key["pk"], "sk": run_sk(project_id, run_id)}),
            ConsistentRead=True,
            ProjectionExpression="eventSeq",
        )
        if "Item" not in run:
            raise LookupError(f"run {run_id} does not exist")
        last = int(from_item(run["Item"]).get("eventSeq", 0))
        start = put_new({**counter_key, "type": "event-counter", "eventSeq": last + 1})
        return start, last + 1

    def list(
        self, workspace_id: str, run_id: str, *, after: int = 0, limit: int = 100, where: EventFilter = EVERY_EVENT
    ) -> list[Event]:
        request: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ConsistentRead": True,
        }
        values: dict[str, Any] = {
            ":pk": workspace_pk(workspace_id),
            ":from": event_sk(run_id, after + 1),
            ":to": event_sk(run_id, 10**10 - 1),
        }
        filters, names = [], {}
        if where.types:
            names["#type"] = "eventType"
            placeholders = []
            for i, event_type in enumerate(sorted(t.value for t in where.types)):
                values[f":t{i}"] = event_type
                placeholders.append(f":t{i}")
            filters.append(f"#type IN ({', '.join(placeholders)})")
        if where.task_id:
            values[":task"] = where.task_id
            filters.append("taskId = :task")
        if where.created_after is not None:
            names["#created"] = "createdAt"
            values[":since"] = _stamp_floor(where.created_after)
            filters.append("#created > :since")
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        if names:
            request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = to_item(values)
        events: list[Event] = []
        while len(events) < limit:
            request["Limit"] = 200
            response = client("dynamodb").query(**request)
            for item in response.get("Items", []):
                raw = from_item(item)
                events.append(Event(**numbers({k: raw[k] for k in _EVENT_FIELDS if k in raw})))
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return events[:limit]

"""Runs, tasks and events through their handlers, with moto behind the adapters.

The build workflow is replaced by `run_sequentially` (the same steps, in-process), driven
when a test says so, so every intermediate state can be observed. The state machine itself
runs in tests/integration against the local cloud.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from kiln import services
from kiln.adapters.dynamodb.runs import EventStore, RunStore
from kiln.domain.build_steps import BuildSteps, RunRef, run_sequentially
from kiln.domain.builds import (
    EventType,
    Implementation,
    TaskDefinition,
    TaskPlan,
    VerificationCheck,
    VerificationResult,
)
from kiln.domain.generation import GenerationFailed
from kiln.domain.generators.builtin import BuiltinGenerator
from kiln.domain.projects import ProjectStatus
from kiln.domain.runs import RunStatus
from kiln.handlers import (
    events_list,
    events_stream,
    files_get,
    projects_get,
    runs_cancel,
    runs_create,
    runs_get,
    runs_list,
    runs_retry,
    tasks_get,
    tasks_list,
)
from tests.fakes import FakeWorkflow, two_tasks
from tests.unit.conftest import TABLE, parse, principal_context, proxy_event
from tests.unit.kiln.handlers.test_specs import approve, in_review

pytestmark = pytest.mark.usefixtures("cloud")

WORKSPACE = principal_context()["workspaceId"]
FREE = principal_context(tier="free")
OTHER_WORKSPACE = principal_context(workspace_id="ws_01m885m8rskqxxjknrtpgbxzzz")


class TwoTasks(BuiltinGenerator):
    """A small plan: task-001 writes a.txt, task-002 (after it) writes b.txt."""

    def __init__(self, outside_scope: bool = False, unavailable: bool = False) -> None:
        self.outside_scope = outside_scope
        self.unavailable = unavailable
        self.implement_calls = 0

    def plan(self, documents: dict[str, str]) -> TaskPlan:
        assert "DATA.md" in documents
        return two_tasks()

    def implement(self, request):
        self.implement_calls += 1
        if self.unavailable:
            raise GenerationFailed("throttled", "unavailable")
        if request.task.id == "task-001":
            return Implementation(files={"a.txt": "alpha\n"})
        assert request.files.get("a.txt") == "alpha\n", "a task sees its dependencies' files"
        files = {"b.txt": "beta\n"}
        if self.outside_scope:
            files["a.txt"] = "overwritten\n"
        return Implementation(files=files)


def passing(files: dict[str, bytes], plan: TaskPlan) -> VerificationResult:
    return VerificationResult(
        passed=set(files) >= {"a.txt", "b.txt"}, checks=[VerificationCheck(name="expected-outputs", passed=True)]
    )


# A workflow starter that records starts and stops; the test drives the steps. (The name
# other test modules import.)
Deferred = FakeWorkflow


@pytest.fixture
def build():
    """Gives the handlers a root whose build workflow is Deferred, and returns a harness."""
    generator = TwoTasks()
    workflow = Deferred()
    root = services.use(services.build(build_workflow=workflow))
    steps = BuildSteps(root.run_store, root.event_store, root.repository, lambda: generator, passing)

    class Harness:
        def __init__(self) -> None:
            self.generator, self.workflow, self.steps = generator, workflow, steps

        def drive(self, run_id: str, project_id: str) -> dict:
            return run_sequentially(self.steps, RunRef(WORKSPACE, project_id, run_id), transient_attempts=3)

    return Harness()


def approved_project() -> str:
    project_id = in_review()
    assert approve(project_id)[0] == 200
    return project_id


def call(
    handler: Any, method: str, suffix: str, project_id: str, extra: dict | None = None, **kwargs: Any
) -> tuple[int, dict]:
    resource = "/v1/projects/{projectId}" + suffix
    params = {"projectId": project_id, **(extra or {})}
    path = f"/v1/projects/{project_id}" + suffix
    for name, value in (extra or {}).items():
        path = path.replace("{" + name + "}", value)
    return parse(handler.handler(proxy_event(method, resource, path, path_params=params, **kwargs)))


def start(project_id: str, **kwargs: Any) -> tuple[int, dict]:
    return call(runs_create, "POST", "/runs", project_id, **kwargs)


def run_call(handler: Any, method: str, suffix: str, project_id: str, run_id: str, **kwargs: Any):
    return call(handler, method, "/runs/{runId}" + suffix, project_id, {"runId": run_id}, **kwargs)


def events(project_id: str, run_id: str, **query: str) -> list[dict]:
    status, body = run_call(events_list, "GET", "/events", project_id, run_id, query=query or None)
    assert status == 200, body
    return body["data"]


def project_status(project_id: str) -> str:
    return call(projects_get, "GET", "", project_id)[1]["data"]["status"]


# --- starting runs ----------------------------------------------------------------------


def test_a_run_needs_an_approved_spec(build):
    project_id = in_review()
    status, body = start(project_id)
    assert status == 409
    assert body["error"]["details"]["currentStatus"] == "spec_review"
    assert "approved" in body["error"]["details"]["allowedFrom"]
    assert build.workflow.started == []


def test_creating_a_run_starts_the_workflow_named_after_the_run(build):
    project_id = approved_project()
    status, body = start(project_id, body={"trigger": "manual"})
    assert status == 201, body
    run = body["data"]
    assert run["runNumber"] == 1 and run["status"] == "decomposing" and run["trigger"] == "manual"
    assert run["callbackId"] == run["id"] and run["specVersion"] == 1
    assert build.workflow.started == [
        (run["id"], {"workspaceId": WORKSPACE, "projectId": project_id, "runId": run["id"]})
    ]
    assert project_status(project_id) == "building"
    assert [e["eventType"] for e in events(project_id, run["id"])] == ["RUN_STARTED"]


def test_a_whole_run_succeeds_merges_main_and_records_every_step(build):
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    assert build.drive(run_id, project_id) == {"status": "succeeded"}
    status, body = run_call(runs_get, "GET", "", project_id, run_id)
    assert status == 200, body
    run = body["data"]
    assert run["status"] == "succeeded" and run["finishedAt"]
    assert run["tasksSummary"] == {"total": 2, "succeeded": 2, "failed": 0}
    assert run["tasksJson"]["mergeOrder"] == ["task-001", "task-002"]
    assert run["specSnapshot"]["version"] == 1 and "DATA.md" in run["specSnapshot"]["documents"]
    assert run["verificationResult"]["passed"] is True
    # The run lists task summaries; each definition appears once, in tasksJson.
    assert run["tasks"] == [
        {"id": "task-001", "slug": "first", "status": "succeeded", "sequence": 1},
        {"id": "task-002", "slug": "second", "status": "succeeded", "sequence": 2},
    ]
    tasks = run_call(tasks_list, "GET", "/tasks", project_id, run_id)[1]["data"]
    assert [(t["id"], t["status"], t["branchName"]) for t in tasks] == [
        ("task-001", "succeeded", "feat/task-001-first"),
        ("task-002", "succeeded", "feat/task-002-second"),
    ]
    assert tasks[0]["result"]["filesCreated"] == ["a.txt"] and len(tasks[0]["result"]["commitSha"]) == 40
    assert [t["definition"] for t in tasks] == run["tasksJson"]["tasks"]
    assert [e["eventType"] for e in events(project_id, run_id)] == [
        "RUN_STARTED",
        "TASK_STARTED",
        "FILE_CREATED",
        "TASK_COMPLETED",
        "TASK_STARTED",
        "FILE_CREATED",
        "TASK_COMPLETED",
        "VERIFICATION_COMPLETED",
        "RUN_COMPLETED",
    ]
    ids = [e["id"] for e in events(project_id, run_id)]
    assert ids == list(range(1, len(ids) + 1))
    assert project_status(project_id) == "built"
    status, body = call(files_get, "GET", "/files/{path+}", project_id, {"path": "b.txt"})
    assert status == 200 and body["data"]["content"] == "beta\n"


def test_appending_events_leaves_the_run_item_alone(build):
    # The run item holds the plan (kilobytes per task); DynamoDB bills a write by the whole
    # item, so the events' counter is an item of its own and an append never rewrites the run.
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    dynamodb = boto3.client("dynamodb")
    pk = {"S": f"WS#{WORKSPACE}"}
    before = dynamodb.get_item(TableName=TABLE, Key={"pk": pk, "sk": {"S": f"RUN#{project_id}#{run_id}"}})["Item"]
    for _ in range(3):
        EventStore().append(WORKSPACE, project_id, run_id, EventType.FILE_CREATED, payload={})
    after = dynamodb.get_item(TableName=TABLE, Key={"pk": pk, "sk": {"S": f"RUN#{project_id}#{run_id}"}})["Item"]
    assert after == before and "eventSeq" not in after
    counter = dynamodb.get_item(TableName=TABLE, Key={"pk": pk, "sk": {"S": f"EVSEQ#{run_id}"}})["Item"]
    ids = [e["id"] for e in events(project_id, run_id)]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= 3
    assert counter["eventSeq"] == {"N": str(len(ids))}


def test_a_run_from_before_the_counter_item_goes_on_from_its_own_count(build):
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    EventStore().append(WORKSPACE, project_id, run_id, EventType.FILE_CREATED, payload={})
    stored = len(events(project_id, run_id))
    # As such a run was stored: the last id on the run item, no counter item.
    dynamodb = boto3.client("dynamodb")
    pk = {"S": f"WS#{WORKSPACE}"}
    dynamodb.delete_item(TableName=TABLE, Key={"pk": pk, "sk": {"S": f"EVSEQ#{run_id}"}})
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": pk, "sk": {"S": f"RUN#{project_id}#{run_id}"}},
        UpdateExpression="SET eventSeq = :last",
        ExpressionAttributeValues={":last": {"N": str(stored)}},
    )
    store = EventStore()
    appended = [store.append(WORKSPACE, project_id, run_id, EventType.FILE_CREATED, payload={}) for _ in range(2)]
    assert [e.id for e in appended] == [stored + 1, stored + 2]
    assert [e["id"] for e in events(project_id, run_id)] == list(range(1, stored + 3))
    with pytest.raises(LookupError):
        EventStore().append(WORKSPACE, project_id, "run_01m885m8rskqxxjknrtpgbxm1p", EventType.FILE_CREATED)


class WidePlan(BuiltinGenerator):
    """`count` tasks, listed out of id order, the last depending on all the others; each writes
    one file. Long instructions make the plan far larger than one DynamoDB item may be."""

    def __init__(self, count: int, instructions: int) -> None:
        self.count, self.instructions = count, instructions

    def plan(self, documents: dict[str, str]) -> TaskPlan:
        ids = [f"task-{number:03d}" for number in range(1, self.count + 1)]
        leaves = ids[:-1]
        tasks = [
            TaskDefinition(
                id=task_id,
                slug=f"part-{task_id[5:]}",
                description=f"Part {task_id}",
                instructions=f"Write {task_id}.txt. " + "x" * self.instructions,
                dependencies=leaves if task_id == ids[-1] else [],
                pathScope=[f"{task_id}.txt"],
                expectedOutputs=[f"{task_id}.txt"],
            )
            for task_id in ids
        ]
        ordered = [*reversed(tasks[:-1]), tasks[-1]]  # plan order is not id order
        return TaskPlan(tasks=ordered, mergeOrder=[t.id for t in ordered])

    def implement(self, request):
        if request.task.dependencies:  # the last task sees every other task's file
            assert sorted(request.files) == [f"{d}.txt" for d in sorted(request.task.dependencies)]
        return Implementation(files={f"{request.task.id}.txt": f"{request.task.id}\n"})


def every_file(files: dict[str, bytes], plan: TaskPlan) -> VerificationResult:
    expected = {path for task in plan.tasks for path in task.expectedOutputs}
    return VerificationResult(
        passed=set(files) >= expected, checks=[VerificationCheck(name="expected-outputs", passed=True)]
    )


def test_a_plan_larger_than_an_item_is_built_from_its_task_items(build):
    # 40 tasks of ~15 KB each: a plan of ~600 KB, past DynamoDB's 400 KB item limit, so it cannot
    # live on the run item; the run keeps the merge order and each task item its definition.
    generator = WidePlan(count=40, instructions=15_000)
    root = services.current()
    steps = BuildSteps(root.run_store, root.event_store, root.repository, lambda: generator, every_file)
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    assert run_sequentially(steps, RunRef(WORKSPACE, project_id, run_id)) == {"status": "succeeded"}
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"WS#{WORKSPACE}"}, "sk": {"S": f"RUN#{project_id}#{run_id}"}}
    )["Item"]
    assert "tasksJson" not in item and len(item["mergeOrder"]["L"]) == 40
    assert len(json.dumps(item)) < 8_000
    planned = generator.plan({})
    run = run_call(runs_get, "GET", "", project_id, run_id)[1]["data"]
    assert run["tasksJson"] == planned.model_dump(mode="json")
    assert [t["id"] for t in run["tasks"]] == planned.mergeOrder  # the run lists its tasks in plan order
    assert [t["sequence"] for t in run["tasks"]] == list(range(1, 41))
    listed = run_call(tasks_list, "GET", "/tasks", project_id, run_id)[1]["data"]
    assert [t["id"] for t in listed] == planned.mergeOrder
    status, body = call(files_get, "GET", "/files/{path+}", project_id, {"path": "task-040.txt"})
    assert status == 200 and body["data"]["content"] == "task-040\n"


def test_a_run_planned_with_the_plan_on_its_item_still_builds(build):
    # Runs planned before the definitions moved to the task items hold the whole plan on the run
    # item (`tasksJson`) and task items without `planIndex`: a build in flight across the upgrade.
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    ref = RunRef(WORKSPACE, project_id, run_id)
    build.steps.decompose(ref)
    dynamodb = boto3.client("dynamodb")
    pk = {"S": f"WS#{WORKSPACE}"}
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": pk, "sk": {"S": f"RUN#{project_id}#{run_id}"}},
        UpdateExpression="SET tasksJson = :plan REMOVE mergeOrder",
        ExpressionAttributeValues={
            ":plan": {"M": TypeSerializer().serialize(two_tasks().model_dump(mode="json"))["M"]}
        },
    )
    for task_id in ("task-001", "task-002"):
        dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": pk, "sk": {"S": f"TASK#{run_id}#{task_id}"}},
            UpdateExpression="REMOVE planIndex",
        )
    assert build.drive(run_id, project_id) == {"status": "succeeded"}
    run = run_call(runs_get, "GET", "", project_id, run_id)[1]["data"]
    assert run["tasksJson"] == two_tasks().model_dump(mode="json")
    assert [t["id"] for t in run["tasks"]] == ["task-001", "task-002"]
    assert call(files_get, "GET", "/files/{path+}", project_id, {"path": "b.txt"})[1]["data"]["content"] == "beta\n"


def test_run_numbers_increase_per_project_and_runs_list_newest_first(build):
    project_id = approved_project()
    first = start(project_id)[1]["data"]
    build.drive(first["id"], project_id)
    second = start(project_id)[1]["data"]
    assert (first["runNumber"], second["runNumber"]) == (1, 2)
    status, body = call(runs_list, "GET", "/runs", project_id)
    assert status == 200
    assert [r["runNumber"] for r in body["data"]] == [2, 1]
    assert body["pagination"]["total"] == 2
    assert body["data"][1]["tasksSummary"] == {"total": 2, "succeeded": 2, "failed": 0}
    status, body = call(runs_list, "GET", "/runs", project_id, query={"status": "succeeded"})
    assert [r["runNumber"] for r in body["data"]] == [1]
    status, body = call(runs_list, "GET", "/runs", project_id, query={"limit": "1"})
    assert len(body["data"]) == 1 and body["pagination"]["hasMore"] is True
    cursor = body["pagination"]["nextCursor"]
    status, body = call(runs_list, "GET", "/runs", project_id, query={"limit": "1", "cursor": cursor})
    assert [r["runNumber"] for r in body["data"]] == [1]


def test_the_tier_concurrency_limit_answers_429_and_frees_with_the_run(build):
    first = approved_project()
    second = approved_project()
    run_id = start(first, authorizer=FREE)[1]["data"]["id"]
    status, body = start(second, authorizer=FREE)
    assert status == 429, body
    assert body["error"]["code"] == "CONCURRENCY_LIMIT_EXCEEDED" and body["error"]["details"]["limit"] == 1
    assert project_status(second) == "approved"  # nothing changed
    build.drive(run_id, first)
    assert start(second, authorizer=FREE)[0] == 201


# --- failures ----------------------------------------------------------------------------


def test_a_task_writing_outside_its_path_scope_fails_the_run(build):
    build.generator.outside_scope = True
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    assert build.drive(run_id, project_id) == {"status": "failed"}
    run = run_call(runs_get, "GET", "", project_id, run_id)[1]["data"]
    assert run["status"] == "failed"
    assert run["error"]["reason"] == "task_failed" and run["error"]["taskId"] == "task-002"
    assert "outside its pathScope: a.txt" in run["error"]["message"]
    status, body = call(
        tasks_get, "GET", "/runs/{runId}/tasks/{taskId}", project_id, {"runId": run_id, "taskId": "task-002"}
    )
    assert status == 200 and body["data"]["status"] == "failed"
    failed = events(project_id, run_id, type="TASK_FAILED")
    assert [(e["taskId"], e["payload"]["reason"]) for e in failed] == [("task-002", "path_scope_violation")]
    assert events(project_id, run_id)[-1]["eventType"] == "RUN_FAILED"
    assert project_status(project_id) == "failed"


def test_a_transient_failure_is_retried_then_fails_the_task_and_the_run(build):
    build.generator.unavailable = True
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    assert build.drive(run_id, project_id) == {"status": "failed"}
    assert build.generator.implement_calls == 3  # the first attempt and two retries
    starts = events(project_id, run_id, type="TASK_STARTED")
    assert [e["payload"]["attempt"] for e in starts] == [1, 2, 3]
    run = run_call(runs_get, "GET", "", project_id, run_id)[1]["data"]
    assert run["error"]["reason"] == "dependency_unavailable"
    assert [(t["id"], t["status"]) for t in run["tasks"]] == [("task-001", "failed"), ("task-002", "cancelled")]
    assert run["tasksSummary"]["failed"] == 1
    assert [e["eventType"] for e in events(project_id, run_id)][-2:] == ["TASK_FAILED", "RUN_FAILED"]


# --- cancel and retry ---------------------------------------------------------------------


def test_cancel_mid_run_stops_the_workflow_and_later_steps_write_nothing(build):
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    ref = RunRef(WORKSPACE, project_id, run_id)
    build.steps.decompose(ref)
    build.steps.execute_task(ref, "task-001")
    status, body = run_call(runs_cancel, "POST", "/cancel", project_id, run_id)
    assert status == 200, body
    assert body["data"]["status"] == "cancelled"
    assert build.workflow.stopped == [run_id]
    assert run_sequentially(build.steps, ref) == {"status": "already_finished"}
    tasks = run_call(tasks_list, "GET", "/tasks", project_id, run_id)[1]["data"]
    assert [(t["id"], t["status"]) for t in tasks] == [("task-001", "succeeded"), ("task-002", "cancelled")]
    assert events(project_id, run_id)[-1]["eventType"] == "RUN_CANCELLED"
    assert project_status(project_id) == "approved"
    status, body = run_call(runs_cancel, "POST", "/cancel", project_id, run_id)
    assert status == 409 and body["error"]["details"]["currentStatus"] == "cancelled"


def test_retry_starts_a_new_run_of_the_same_spec(build):
    build.generator.unavailable = True
    project_id = approved_project()
    failed = start(project_id)[1]["data"]
    build.drive(failed["id"], project_id)
    build.generator.unavailable = False
    status, body = run_call(runs_retry, "POST", "/retry", project_id, failed["id"])
    assert status == 201, body
    retry = body["data"]
    assert retry["trigger"] == "retry" and retry["retryOf"] == failed["id"] and retry["runNumber"] == 2
    assert retry["specVersion"] == failed["specVersion"]
    assert build.drive(retry["id"], project_id) == {"status": "succeeded"}
    # Retrying an unfinished run is a conflict.
    third = start(project_id)[1]["data"]
    status, body = run_call(runs_retry, "POST", "/retry", project_id, third["id"])
    assert status == 409


# --- reading --------------------------------------------------------------------------------


def test_events_filter_by_type_task_and_after(build):
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    build.drive(run_id, project_id)
    all_events = events(project_id, run_id)
    assert [e["id"] for e in events(project_id, run_id, after="5")] == [e["id"] for e in all_events if e["id"] > 5]
    assert {e["taskId"] for e in events(project_id, run_id, taskId="task-002")} == {"task-002"}
    created = events(project_id, run_id, type="FILE_CREATED,FILE_MODIFIED")
    assert [e["payload"]["path"] for e in created] == ["a.txt", "b.txt"]
    status, body = run_call(events_list, "GET", "/events", project_id, run_id, query={"limit": "2"})
    assert len(body["data"]) == 2 and body["pagination"] == {"limit": 2, "hasMore": True, "nextCursor": "2"}
    status, body = run_call(events_list, "GET", "/events", project_id, run_id, query={"type": "NOPE"})
    assert status == 400


def test_event_stream_resumes_after_last_event_id_and_ends_with_204(build, monkeypatch):
    monkeypatch.setenv("KILN_SSE_HOLD_SECONDS", "0.2")
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    build.drive(run_id, project_id)
    response = events_stream.handler(
        proxy_event(
            "GET",
            "/v1/projects/{projectId}/runs/{runId}/events/stream",
            f"/v1/projects/{project_id}/runs/{run_id}/events/stream",
            path_params={"projectId": project_id, "runId": run_id},
            headers={"Last-Event-ID": "3"},
        )
    )
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/event-stream")
    body = response["body"]
    assert body.startswith("retry: ")
    ids = [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]
    assert ids == list(range(4, 10))
    assert "event: RUN_COMPLETED" in body
    again = events_stream.handler(
        proxy_event(
            "GET",
            "/v1/projects/{projectId}/runs/{runId}/events/stream",
            f"/v1/projects/{project_id}/runs/{run_id}/events/stream",
            path_params={"projectId": project_id, "runId": run_id},
            headers={"Last-Event-ID": str(ids[-1])},
        )
    )
    assert again["statusCode"] == 204


# The hold is long in these tests, and each answer must come well before it: a stream that
# has nothing more to send, or has just sent the run's last event, does not wait.
LONG_HOLD = "30"
PROMPT_SECONDS = 5.0


def stream(
    project_id: str, run_id: str, query: dict[str, str] | None = None, last_event_id: str | None = None
) -> tuple[int, str, float]:
    """(status, body, seconds taken) of one event-stream request."""
    started = time.monotonic()
    response = events_stream.handler(
        proxy_event(
            "GET",
            "/v1/projects/{projectId}/runs/{runId}/events/stream",
            f"/v1/projects/{project_id}/runs/{run_id}/events/stream",
            query=query,
            path_params={"projectId": project_id, "runId": run_id},
            headers={"Last-Event-ID": last_event_id} if last_event_id is not None else None,
        )
    )
    return response["statusCode"], response.get("body") or "", time.monotonic() - started


def frame_ids(body: str) -> list[int]:
    return [int(line[4:]) for line in body.splitlines() if line.startswith("id: ")]


def finished_run(build) -> tuple[str, str]:
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    assert build.drive(run_id, project_id) == {"status": "succeeded"}
    return project_id, run_id


def test_the_stream_ends_at_once_after_the_terminal_event(build, monkeypatch):
    monkeypatch.setenv("KILN_SSE_HOLD_SECONDS", LONG_HOLD)
    project_id, run_id = finished_run(build)
    # The response that delivers RUN_COMPLETED ends with it instead of holding.
    status, body, seconds = stream(project_id, run_id)
    assert status == 200 and frame_ids(body) == list(range(1, 10)) and "event: RUN_COMPLETED" in body
    assert seconds < PROMPT_SECONDS
    # Resuming from RUN_COMPLETED (what EventSource resends) is a 204 at once.
    status, body, seconds = stream(project_id, run_id, last_event_id="9")
    assert (status, body) == (204, "") and seconds < PROMPT_SECONDS
    # So is an id past the end (nothing can come after the terminal event).
    assert stream(project_id, run_id, last_event_id="12")[0] == 204


def test_a_filtered_stream_on_a_finished_run_ends_with_204(build, monkeypatch):
    monkeypatch.setenv("KILN_SSE_HOLD_SECONDS", LONG_HOLD)
    project_id, run_id = finished_run(build)
    # task-001's events, then 204 on reconnection from the last of them: what follows it is
    # hidden by the filter, and it ends with the terminal event.
    status, body, seconds = stream(project_id, run_id, {"taskId": "task-001"})
    assert status == 200 and frame_ids(body) == [2, 3, 4] and seconds < PROMPT_SECONDS
    status, _, seconds = stream(project_id, run_id, {"taskId": "task-001"}, last_event_id="4")
    assert status == 204 and seconds < PROMPT_SECONDS
    # A filter nothing matches on a succeeded run: 204 from the start.
    for query in ({"type": "TASK_FAILED,RUN_FAILED"}, {"taskId": "task-009"}):
        status, _, seconds = stream(project_id, run_id, query)
        assert status == 204 and seconds < PROMPT_SECONDS, query


def test_a_run_finished_a_moment_before_its_terminal_event_is_followed_to_that_event(build, monkeypatch):
    """Cancelling records the outcome first and appends RUN_CANCELLED right after: a reader in
    between must wait for the event, not stop on the status and miss it."""
    monkeypatch.setenv("KILN_SSE_HOLD_SECONDS", LONG_HOLD)
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    assert RunStore().finish(
        WORKSPACE,
        project_id,
        run_id,
        RunStatus.CANCELLED,
        ProjectStatus.APPROVED,
        {"finishedAt": "2025-11-25T10:00:00.000Z"},
    )
    late = threading.Timer(
        0.5, lambda: EventStore().append(WORKSPACE, project_id, run_id, EventType.RUN_CANCELLED, payload={})
    )
    late.start()
    try:
        status, body, seconds = stream(project_id, run_id, last_event_id="1")
    finally:
        late.join()
    assert status == 200 and frame_ids(body) == [2] and "event: RUN_CANCELLED" in body
    assert seconds < PROMPT_SECONDS
    assert stream(project_id, run_id, last_event_id="2")[0] == 204


def test_a_finished_run_whose_terminal_event_is_missing_ends_after_one_hold(build, monkeypatch):
    monkeypatch.setenv("KILN_SSE_HOLD_SECONDS", "0.3")
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    RunStore().finish(
        WORKSPACE,
        project_id,
        run_id,
        RunStatus.FAILED,
        ProjectStatus.FAILED,
        {"finishedAt": "2025-11-25T10:00:00.000Z"},
    )
    assert stream(project_id, run_id, last_event_id="1")[0] == 204


def test_an_active_run_with_nothing_new_holds_then_answers_a_comment(build, monkeypatch):
    monkeypatch.setenv("KILN_SSE_HOLD_SECONDS", "0.3")
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    status, body, _ = stream(project_id, run_id, last_event_id="1")
    assert status == 200 and body == "retry: 1000\n\n: no new events\n\n"


@pytest.fixture
def spaced_events(monkeypatch):
    """Event stamps one second apart from 2025-11-25T10:00:00Z (EventStore reads
    kiln.clock.utc_now when it is built, so request this before `build`)."""
    first = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)
    ticks = itertools.count()
    monkeypatch.setattr("kiln.clock.utc_now", lambda: first + timedelta(seconds=next(ticks)))


def test_after_is_an_event_id_or_a_timestamp(spaced_events, build, monkeypatch):
    monkeypatch.setenv("KILN_SSE_HOLD_SECONDS", LONG_HOLD)
    project_id, run_id = finished_run(build)
    every = events(project_id, run_id)
    stamps = [e["createdAt"] for e in every]
    assert stamps == sorted(set(stamps)), "one second apart"
    cut = every[4]  # created at stamps[4]: strictly after it means from the sixth event on
    later = [e["id"] for e in every[5:]]
    same_moment = [
        "2025-11-25T10:00:0{s}Z",
        "2025-11-25T10:00:0{s}.000+00:00",
        "2025-11-25T12:00:0{s}+02:00",
        "2025-11-25T05:00:0{s}.000000-05:00",
        "2025-11-25t10:00:0{s}z",
    ]
    second = int(cut["createdAt"][17:19])
    assert cut["createdAt"] == f"2025-11-25T10:00:{second:02d}.000Z"
    for form in same_moment:
        after = form.replace("0{s}", f"{second:02d}")
        assert [e["id"] for e in events(project_id, run_id, after=after)] == later, after
    # Strictly after: a microsecond earlier includes the event itself.
    earlier = f"2025-11-25T10:00:{second - 1:02d}.999999Z"
    assert [e["id"] for e in events(project_id, run_id, after=earlier)] == [cut["id"], *later]
    assert events(project_id, run_id, after="2025-11-25T11:00:00Z") == []
    # Combined with the other filters, and as the position of a page.
    assert [e["id"] for e in events(project_id, run_id, after=after, type="TASK_COMPLETED")] == [
        e["id"] for e in every[5:] if e["eventType"] == "TASK_COMPLETED"
    ]
    assert [e["id"] for e in events(project_id, run_id, after=str(cut["id"]))] == later
    # The stream takes both forms too.
    status, body, _ = stream(project_id, run_id, {"after": after})
    assert status == 200 and frame_ids(body) == later
    status, body, _ = stream(project_id, run_id, {"after": str(cut["id"])})
    assert status == 200 and frame_ids(body) == later
    assert stream(project_id, run_id, {"after": "2025-11-25T11:00:00Z"})[0] == 204


def test_after_that_is_neither_an_id_nor_a_timestamp_is_a_400_naming_it(build):
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    for after in (
        "yesterday",
        "-1",
        "1.5",
        "2025-11-25",
        "2025-11-25T10:00:00",
        "2025-11-25T10:00:00 02:00",
        "12345678901",
        "",
        "0001-01-01T00:00:00+01:00",
    ):
        for handler, suffix in ((events_list, "/events"), (events_stream, "/events/stream")):
            status, body = run_call(handler, "GET", suffix, project_id, run_id, query={"after": after})
            assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", (after, body)
            assert [f["field"] for f in body["error"]["details"]["fields"]] == ["after"], after
    # An unencoded + arrives as a space: the message says so.
    body = run_call(events_list, "GET", "/events", project_id, run_id, query={"after": "2025-11-25T10:00:00 02:00"})[1]
    assert body["error"]["details"]["fields"][0]["message"].endswith("in a URL, write + as %2B")


def test_another_workspace_sees_none_of_it(build):
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    for status, body in (
        run_call(runs_get, "GET", "", project_id, run_id, authorizer=OTHER_WORKSPACE),
        run_call(events_list, "GET", "/events", project_id, run_id, authorizer=OTHER_WORKSPACE),
        run_call(runs_cancel, "POST", "/cancel", project_id, run_id, authorizer=OTHER_WORKSPACE),
        call(runs_list, "GET", "/runs", project_id, authorizer=OTHER_WORKSPACE),
        start(project_id, authorizer=OTHER_WORKSPACE),
    ):
        assert status == 404, body

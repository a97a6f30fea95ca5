"""Table changes -> the workspace events of CONTRACT section 8, with deterministic ids."""

from __future__ import annotations

from typing import Any

from kiln import ids
from kiln.domain.table_changes import TableChange
from kiln.domain.workspace_events import events_from, workspace_of

AT = "2025-03-01T12:00:00.000Z"


def change(sk: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None, **extra: Any) -> TableChange:
    kind = "insert" if old is None else ("remove" if new is None else "modify")
    return TableChange(kind=kind, pk="WS#ws_1", sk=sk, sequence="7", at=AT, new=new, old=old, **extra)


def types(c: TableChange) -> list[str]:
    return [e.type for e in events_from(c)]


def test_run_and_task_events_by_their_public_names():
    event = {"id": 3, "runId": "run_1", "taskId": "t1", "eventType": "TASK_COMPLETED", "payload": {"x": 1}}
    [e] = events_from(change("EVENT#run_1#0000000003", event))
    assert (e.type, e.workspace_id, e.timestamp) == ("task.completed", "ws_1", AT)
    assert e.data == {"runId": "run_1", "sequence": 3, "taskId": "t1", "payload": {"x": 1}}
    assert e.body() == {"type": "task.completed", "timestamp": AT, "data": e.data}
    for internal, public in (
        ("RUN_STARTED", "run.started"),
        ("RUN_FAILED", "run.failed"),
        ("RUN_CANCELLED", "run.cancelled"),
    ):
        assert types(change("EVENT#run_1#1", {"id": 1, "runId": "run_1", "eventType": internal})) == [public]
    assert types(change("EVENT#run_1#2", {"id": 2, "runId": "run_1", "eventType": "FILE_CREATED"})) == []


def test_projects_created_updated_archived():
    project = {"id": "proj_1", "name": "A", "status": "draft", "revision": 1}
    assert types(change("PROJECT#proj_1", project)) == ["project.created"]
    renamed = {**project, "name": "B", "revision": 2}
    assert types(change("PROJECT#proj_1", renamed, project)) == ["project.updated"]
    archived = {**project, "status": "archived", "revision": 3}
    assert types(change("PROJECT#proj_1", archived, project)) == ["project.archived"]
    moved = {**project, "status": "clarifying", "revision": 4}
    assert types(change("PROJECT#proj_1", moved, project)) == []  # a status step is not an edit


def test_specs_exports_imports_custom_and_disabled_webhooks():
    spec = {"projectId": "proj_1", "version": 2}
    assert types(change("SPEC#proj_1#000002", spec)) == ["spec.generated"]
    assert types(change("SPEC#proj_1#000002", {**spec, "approvedAt": AT}, spec)) == ["spec.approved"]
    running = {"id": "exp_1", "kind": "export", "status": "processing"}
    assert types(change("OP#exp_1", running)) == []
    assert types(change("OP#exp_1", {**running, "status": "succeeded"}, running)) == ["export.completed"]
    imp = {"id": "imp_1", "kind": "import", "status": "processing"}
    assert types(change("OP#imp_1", {**imp, "status": "failed"}, imp)) == ["import.failed"]
    assert types(change("OP#run_1", {"kind": "run", "status": "x"})) == []
    [custom] = events_from(
        change("CUSTOMEVENT#evt_9", {"type": "custom.deployed", "data": '{"v": 1}', "createdAt": AT})
    )
    assert (custom.id, custom.type, custom.data) == ("evt_9", "custom.deployed", {"v": 1})
    hook = {"id": "wh_1", "url": "https://x.example", "status": "enabled"}
    [off] = events_from(change("WEBHOOK#wh_1", {**hook, "status": "disabled", "disabledReason": "gone"}, hook))
    assert off.type == "webhook.disabled" and off.data == {
        "webhookId": "wh_1",
        "url": "https://x.example",
        "reason": "gone",
    }
    assert types(change("WEBHOOK#wh_1", {**hook, "failingSince": AT}, hook)) == []


def test_ids_are_deterministic_valid_and_distinct():
    event = {"id": 1, "runId": "run_1", "eventType": "RUN_STARTED"}
    first, again = events_from(change("EVENT#run_1#1", event)), events_from(change("EVENT#run_1#1", event))
    assert first[0].id == again[0].id, "a retried batch yields the same event"
    assert ids.is_valid("event", first[0].id)
    other = events_from(change("EVENT#run_1#2", {**event, "id": 2}))
    assert other[0].id != first[0].id


def test_what_is_not_a_workspace_event():
    assert types(TableChange("insert", "RATE#key_1", "write", "1", AT, new={"cur": 1})) == []
    assert types(change("PROJECT#proj_1", None, {"id": "proj_1"})) == []  # a delete
    expired = change("CUSTOMEVENT#evt_1", None, {"type": "custom.x"}, expired=True)
    assert types(expired) == []
    assert workspace_of("WS#ws_1") == "ws_1" and workspace_of("WS#ws_1#PROJECTS#draft") is None

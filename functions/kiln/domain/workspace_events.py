"""What happened in a workspace, in the vocabulary of CONTRACT section 8, derived from table changes.

`events_from(change)` reads one TableChange (kiln.domain.table_changes) and answers the
workspace events it means, or none: most writes (rate counters, idempotency records, branch
heads, tasks' intermediate states) mean nothing to a subscriber. Nothing here writes: the
events exist because the items exist, which is why no writer had to change to emit them.

| item (sk) | change | event |
|---|---|---|
| `EVENT#<runId>#<n>` | insert, eventType RUN_*/TASK_STARTED/COMPLETED/FAILED | `run.started` ... `task.failed` |
| `PROJECT#<id>` | insert | `project.created` |
| `PROJECT#<id>` | modify to status archived | `project.archived` |
| `PROJECT#<id>` | modify of name or description | `project.updated` |
| `SPEC#<projectId>#<version>` | insert / approvedAt set | `spec.generated` / `spec.approved` |
| `OP#<id>` (kind export or import) | status processing -> succeeded/failed | `export.completed` ... `import.failed` |
| `CUSTOMEVENT#<eventId>` | insert | `custom.<name>` (the item's `type`) |
| `WEBHOOK#<id>` | status enabled -> disabled | `webhook.disabled` |
| `DEPLOY#<projectId>#<id>` | status -> live / failed / stopped | `deployment.live` / `.failed` / `.stopped` |

Ids are deterministic: a retried stream batch hands the same changes again and must produce
the same events, or every retry would deliver a second copy under a new id. Each id hashes the
item's key with what makes this change unique for that item (a run event's sequence, a
project's revision, an operation's final status, ...) and keeps the change's time in front so
ids sort by time, in the format of kiln.ids (`evt_` + 26 base32 characters).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiln.domain.table_changes import TableChange

EVENT_PREFIX = "evt"
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # kiln.ids' Crockford base32

# Run events (kiln.domain.builds.EventType) that subscribers see, by their public name.
RUN_EVENT_TYPES: dict[str, str] = {
    "RUN_STARTED": "run.started",
    "RUN_COMPLETED": "run.completed",
    "RUN_FAILED": "run.failed",
    "RUN_CANCELLED": "run.cancelled",
    "TASK_STARTED": "task.started",
    "TASK_COMPLETED": "task.completed",
    "TASK_FAILED": "task.failed",
}

# Every type a webhook may name (besides custom.<name>), for the webhooks API's validation.
EVENT_TYPES: tuple[str, ...] = (
    *RUN_EVENT_TYPES.values(),
    "project.created",
    "project.updated",
    "project.archived",
    "spec.generated",
    "spec.approved",
    "export.completed",
    "export.failed",
    "import.completed",
    "import.failed",
    "webhook.disabled",
    "deployment.live",
    "deployment.failed",
    "deployment.stopped",
)


@dataclass(frozen=True)
class WorkspaceEvent:
    """One event of a workspace: what a webhook delivery carries as `{type, timestamp, data}`."""

    id: str
    workspace_id: str
    type: str
    timestamp: str  # ISO 8601, UTC: when the change was written
    data: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The delivered JSON object (Standard Webhooks' payload shape)."""
        return {"type": self.type, "timestamp": self.timestamp, "data": self.data}


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _millis(timestamp: str) -> int:
    try:
        return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def stable_id(prefix: str, timestamp: str, *parts: object) -> str:
    """An id in kiln.ids' format whose time is `timestamp` and whose 80 other bits hash `parts`:
    the same inputs always give the same id."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return f"{prefix}_{_encode(_millis(timestamp), 10)}{_encode(int.from_bytes(digest[:10], 'big'), 16)}"


def workspace_of(pk: str) -> str | None:
    """The workspace of a key in a workspace's partition (`WS#<id>`), else None."""
    if not pk.startswith("WS#"):
        return None
    rest = pk[3:]
    return rest if rest and "#" not in rest else None


def _event(change: TableChange, workspace_id: str, type_: str, marker: object, data: dict[str, Any]) -> WorkspaceEvent:
    return WorkspaceEvent(
        id=stable_id(EVENT_PREFIX, change.at, change.pk, change.sk, type_, marker),
        workspace_id=workspace_id,
        type=type_,
        timestamp=change.at,
        data=data,
    )


def _pick(image: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: image[name] for name in names if image.get(name) is not None}


# --- one reader per item family ----------------------------------------------------------


def _run_event(change: TableChange, workspace_id: str) -> list[WorkspaceEvent]:
    if change.kind != "insert" or change.new is None:
        return []
    public = RUN_EVENT_TYPES.get(str(change.new.get("eventType")))
    if public is None:
        return []
    item = change.new
    data = {
        "runId": item.get("runId"),
        "sequence": item.get("id"),
        **({"taskId": item["taskId"]} if item.get("taskId") else {}),
        "payload": item.get("payload") or {},
    }
    return [_event(change, workspace_id, public, item.get("id"), data)]


_PROJECT_FIELDS = ("id", "name", "description", "status", "specVersion", "createdAt", "updatedAt", "archivedAt")


def _project(change: TableChange, workspace_id: str) -> list[WorkspaceEvent]:
    new = change.new
    if new is None:
        return []
    data = _pick(new, *_PROJECT_FIELDS)
    marker = new.get("revision", change.sequence)
    if change.kind == "insert":
        return [_event(change, workspace_id, "project.created", marker, data)]
    events = []
    old = change.old or {}
    if new.get("status") == "archived" and old.get("status") != "archived":
        events.append(_event(change, workspace_id, "project.archived", marker, data))
    if change.changed("name") or change.changed("description"):
        events.append(_event(change, workspace_id, "project.updated", marker, data))
    return events


def _spec(change: TableChange, workspace_id: str) -> list[WorkspaceEvent]:
    new = change.new
    if new is None:
        return []
    data = _pick(new, "projectId", "version", "createdAt", "generator", "approvedAt")
    version = new.get("version")
    if change.kind == "insert":
        return [_event(change, workspace_id, "spec.generated", version, data)]
    if new.get("approvedAt") and not (change.old or {}).get("approvedAt"):
        return [_event(change, workspace_id, "spec.approved", version, data)]
    return []


_OPERATION_OUTCOMES = {
    ("export", "succeeded"): "export.completed",
    ("export", "failed"): "export.failed",
    ("import", "succeeded"): "import.completed",
    ("import", "failed"): "import.failed",
}


def _operation(change: TableChange, workspace_id: str) -> list[WorkspaceEvent]:
    new = change.new
    if new is None or change.kind == "remove":
        return []
    status = new.get("status")
    if (change.old or {}).get("status") == status:
        return []  # not the moment it finished (operations finish once, from processing)
    public = _OPERATION_OUTCOMES.get((str(new.get("kind")), str(status)))
    if public is None:
        return []
    data = _pick(
        new,
        "id",
        "projectId",
        "format",
        "filename",
        "sizeBytes",
        "resultProjectId",
        "resultName",
        "finishedAt",
        "error",
    )
    data["operationId"] = data.pop("id", None)
    return [_event(change, workspace_id, public, status, data)]


def _custom(change: TableChange, workspace_id: str) -> list[WorkspaceEvent]:
    new = change.new
    if change.kind != "insert" or new is None:
        return []
    name = str(new.get("type") or "")
    if not name.startswith("custom."):
        return []
    raw = new.get("data")
    try:
        data = json.loads(raw) if isinstance(raw, str) else (raw or {})
    except ValueError:
        data = {}
    event_id = change.sk.split("#", 1)[1]
    # The id POST /v1/events answered: a subscriber can match the delivery to the call.
    return [
        WorkspaceEvent(
            id=event_id,
            workspace_id=workspace_id,
            type=name,
            timestamp=str(new.get("createdAt") or change.at),
            data=data if isinstance(data, dict) else {"value": data},
        )
    ]


def _webhook(change: TableChange, workspace_id: str) -> list[WorkspaceEvent]:
    new, old = change.new, change.old
    if change.kind != "modify" or new is None or old is None:
        return []
    if not (old.get("status") == "enabled" and new.get("status") == "disabled"):
        return []
    webhook_id = new.get("id") or change.sk.split("#", 1)[1]
    data = {
        "webhookId": webhook_id,
        "url": new.get("url"),
        "reason": new.get("disabledReason") or "disabled",
    }
    return [_event(change, workspace_id, "webhook.disabled", new.get("updatedAt") or change.sequence, data)]


_DEPLOYMENT_OUTCOMES = {"live": "deployment.live", "failed": "deployment.failed", "stopped": "deployment.stopped"}


def _deployment(change: TableChange, workspace_id: str) -> list[WorkspaceEvent]:
    new = change.new
    if new is None or change.kind == "remove":
        return []
    status = str(new.get("status"))
    if (change.old or {}).get("status") == status:
        return []  # each state is reached once (kiln.domain.previews): only the move is an event
    public = _DEPLOYMENT_OUTCOMES.get(status)
    if public is None:
        return []
    data = _pick(
        new,
        "id",
        "projectId",
        "runId",
        "status",
        "provider",
        "url",
        "expiresAt",
        "stoppedAt",
        "stopReason",
        "failureReason",
    )
    data["deploymentId"] = data.pop("id", None)
    return [_event(change, workspace_id, public, status, data)]


_READERS: tuple[tuple[str, Callable[[TableChange, str], list[WorkspaceEvent]]], ...] = (
    ("EVENT#", _run_event),
    ("PROJECT#", _project),
    ("SPEC#", _spec),
    ("OP#", _operation),
    ("CUSTOMEVENT#", _custom),
    ("WEBHOOK#", _webhook),
    ("DEPLOY#", _deployment),
)


def events_from(change: TableChange) -> list[WorkspaceEvent]:
    """The workspace events one table change means (often none)."""
    if change.expired:
        return []  # TTL clean-up is not something that happened to the workspace
    workspace_id = workspace_of(change.pk)
    if workspace_id is None:
        return []
    for prefix, read in _READERS:
        if change.sk.startswith(prefix):
            return read(change, workspace_id)
    return []

"""What the real-time side reads of the main table: where a run lives, and which runs just got events.

run pointer  pk=WS#<ws>  sk=OP#<runId>   {kind: run, projectId}   (written with the run)
event        pk=WS#<ws>  sk=EVENT#<runId>#<sequence>              (kiln.adapters.dynamodb.runs)
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.adapters.dynamodb.items import from_item, get_item, workspace_pk
from kiln.domain.live import RunLocation
from kiln.domain.table_changes import TableChange

_WORKSPACE_PREFIX = "WS#"
_EVENT_PREFIX = "EVENT#"


class RunLocator:
    """kiln.domain.live.RunFinder: one consistent GetItem of the run's pointer, inside the workspace."""

    def locate(self, workspace_id: str, run_id: str) -> RunLocation | None:
        item = get_item(workspace_pk(workspace_id), f"OP#{run_id}", consistent=True)
        if item is None:
            return None
        raw = from_item(item)
        if raw.get("kind") != "run" or not raw.get("projectId"):
            return None
        return RunLocation(project_id=str(raw["projectId"]), run_id=run_id)


def appended_runs(changes: Sequence[TableChange]) -> dict[str, list[str]]:
    """Workspace id -> the runs an event was appended to in these changes, in stream order."""
    found: dict[str, dict[str, None]] = {}
    for change in changes:
        if (
            change.kind != "insert"
            or not change.sk.startswith(_EVENT_PREFIX)
            or not change.pk.startswith(_WORKSPACE_PREFIX)
        ):
            continue
        run_id = (change.new or {}).get("runId")
        if isinstance(run_id, str) and run_id:
            found.setdefault(change.pk.removeprefix(_WORKSPACE_PREFIX), {})[run_id] = None
    return {workspace_id: list(runs) for workspace_id, runs in found.items()}

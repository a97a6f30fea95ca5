"""kiln.domain.project_records.ProjectRepository in memory, holding project items the way the table does.

A project is one item (kiln.adapters.dynamodb.projects): the public fields plus what only the
adapters see, the optimistic-lock `revision` (bumped by every write), `runCount`, and the
clarifying `questions` and `answers`. The spec and run fakes write the same items, inside
their own "transactions", so the three ports share one truth as they do in DynamoDB.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from kiln.domain.projects import (
    PROJECT_FIELDS,
    CursorRequest,
    CursorResult,
    PageRequest,
    PageResult,
    Project,
    ProjectListFilter,
    ProjectMissing,
    ProjectRecord,
    ProjectStatus,
    StatusConflict,
)
from tests.fakes._hooks import Hooks
from tests.fakes.errors import ConditionFailed

Key = tuple[str, str]  # (workspace id, project id)


def stored(value: Any) -> Any:
    """A value as the table keeps it: enums as their value, models as JSON, copies otherwise."""
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, ProjectRecord):
        return value.json()
    return copy.deepcopy(value)


class FakeProjects(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[Key, dict[str, Any]] = {}
        # (workspace, project, from, to) for every write that changed a status, in order: what
        # the state-machine properties read.
        self.transitions: list[tuple[str, str, ProjectStatus, ProjectStatus]] = []

    # --- the port ---------------------------------------------------------------------------

    def insert(self, workspace_id: str, project: ProjectRecord | Project) -> None:
        self._hook("insert")
        if (workspace_id, project.id) in self.items:
            raise ConditionFailed(f"project {project.id} exists")
        self.items[(workspace_id, project.id)] = {"workspaceId": workspace_id, **stored(project)}

    def get(self, workspace_id: str, project_id: str) -> ProjectRecord | None:
        self._hook("get")
        return self.record(workspace_id, project_id)

    def update(
        self,
        workspace_id: str,
        project_id: str,
        changes: dict[str, Any],
        allowed_from: frozenset[ProjectStatus],
        before_write: Callable[[], object] | None = None,
    ) -> Project:
        self._hook("update")
        current = self.items.get((workspace_id, project_id))
        if current is None:
            raise ProjectMissing(project_id)
        if ProjectStatus(current["status"]) not in allowed_from:
            raise StatusConflict(ProjectStatus(current["status"]), self.record(workspace_id, project_id))
        if before_write is not None:
            before_write()
        self.apply(workspace_id, project_id, changes)
        project = self.record(workspace_id, project_id)
        assert project is not None
        return project

    def list_page(self, workspace_id: str, filters: ProjectListFilter, page: PageRequest) -> PageResult:
        self._hook("list_page")
        matching = self._listed(workspace_id, filters)
        start = (page.page - 1) * page.page_size
        return PageResult(matching[start : start + page.page_size], len(matching))

    def list_cursor(self, workspace_id: str, filters: ProjectListFilter, cursor: CursorRequest) -> CursorResult:
        self._hook("list_cursor")
        matching = self._listed(workspace_id, filters)
        if cursor.after:
            # Like DynamoDB's ExclusiveStartKey: the items after the key, in the query's order.
            last = str(cursor.after["sk"]).removeprefix("PROJECT#")
            matching = [p for p in matching if p.id < last]
        page = matching[: cursor.limit]
        more = len(matching) > cursor.limit
        after = {"pk": f"WS#{workspace_id}", "sk": f"PROJECT#{page[-1].id}"} if more else None
        return CursorResult(page, after)

    # --- what the other fakes (the same table) use ----------------------------------------------

    def record(self, workspace_id: str, project_id: str) -> ProjectRecord | None:
        item = self.items.get((workspace_id, project_id))
        return ProjectRecord.of({k: item[k] for k in PROJECT_FIELDS if k in item}) if item else None

    def project(self, workspace_id: str, project_id: str) -> Project | None:
        """The pydantic model, as the spec and run adapters read it (project_from)."""
        item = self.items.get((workspace_id, project_id))
        return Project(**{k: item[k] for k in PROJECT_FIELDS if k in item}) if item else None

    def item(self, workspace_id: str, project_id: str) -> dict[str, Any] | None:
        """A copy of the raw item (revision, runCount, questions, answers included)."""
        item = self.items.get((workspace_id, project_id))
        return copy.deepcopy(item) if item is not None else None

    def revision(self, workspace_id: str, project_id: str) -> int:
        item = self.items.get((workspace_id, project_id))
        return int(item.get("revision", 0)) if item else 0

    def holds(
        self,
        workspace_id: str,
        project_id: str,
        *,
        allowed_from: Iterable[ProjectStatus] | None = None,
        revision: int | None = None,
    ) -> bool:
        """The conditions of kiln.adapters.dynamodb.projects.update_request: the item exists,
        its status is allowed and its revision is still `revision` (when given)."""
        item = self.items.get((workspace_id, project_id))
        if item is None:
            return False
        if allowed_from is not None and ProjectStatus(item["status"]) not in set(allowed_from):
            return False
        return revision is None or int(item.get("revision", 0)) == revision

    def apply(self, workspace_id: str, project_id: str, changes: dict[str, Any]) -> None:
        """update_request's effect, its conditions already checked: set the changes (None
        removes the attribute) and bump the revision."""
        item = self.items[(workspace_id, project_id)]
        before = ProjectStatus(item["status"])
        for field, value in changes.items():
            if value is None:
                item.pop(field, None)
            else:
                item[field] = stored(value)
        item["revision"] = int(item.get("revision", 0)) + 1
        after = ProjectStatus(item["status"])
        if after is not before:
            self.transitions.append((workspace_id, project_id, before, after))

    def _listed(self, workspace_id: str, filters: ProjectListFilter) -> list[ProjectRecord]:
        # Without a status filter the workspace partition, archived projects left out; with one,
        # that status only. Newest first (ids start with their creation time); the search is a
        # case-insensitive substring of the name or the description.
        found = []
        for (workspace, _), item in self.items.items():
            if workspace != workspace_id:
                continue
            status = ProjectStatus(item["status"])
            if filters.status is None and status is ProjectStatus.ARCHIVED:
                continue
            if filters.status is not None and status is not filters.status:
                continue
            if filters.search:
                needle = filters.search.casefold()
                if needle not in item["name"].casefold() and needle not in item["description"].casefold():
                    continue
            project = self.record(workspace, item["id"])
            assert project is not None
            found.append(project)
        return sorted(found, key=lambda p: p.id, reverse=True)

"""Projects without pydantic: the status machine, a project as read, the port and the service.

Every project endpoint runs through here, and GET and DELETE /v1/projects/{projectId} through
nothing else: their functions never load pydantic, whose import and model building were most
of their cold start over a bare handler (docs/performance.md). The API's models (bodies
validated, answers documented in the OpenAPI document) are in kiln.domain.projects, which
re-exports everything here; its `Project` is what `ProjectRecord` holds, field for field
(tests/unit/kiln/domain/test_project_records.py keeps the two equal).

The service takes its repository (a port) in the constructor; DynamoDB implements it in
kiln.adapters.dynamodb.projects, and unit tests can hand it an in-memory fake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.envelope import ErrorCode, KilnError, not_found


class ProjectStatus(str, Enum):
    DRAFT = "draft"
    CLARIFYING = "clarifying"
    SPEC_REVIEW = "spec_review"
    APPROVED = "approved"
    BUILDING = "building"
    BUILT = "built"
    FAILED = "failed"
    ARCHIVED = "archived"


# Which statuses each status can be reached from (CONTRACT section 6). `archived` is
# reachable from anywhere and is final.
ALLOWED_FROM: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.CLARIFYING: frozenset({ProjectStatus.DRAFT}),
    ProjectStatus.SPEC_REVIEW: frozenset(
        {ProjectStatus.CLARIFYING, ProjectStatus.APPROVED, ProjectStatus.BUILT, ProjectStatus.FAILED}
    ),
    # From building: a cancelled run leaves the spec approved, ready for the next run.
    ProjectStatus.APPROVED: frozenset({ProjectStatus.SPEC_REVIEW, ProjectStatus.BUILDING}),
    ProjectStatus.BUILDING: frozenset({ProjectStatus.APPROVED, ProjectStatus.BUILT, ProjectStatus.FAILED}),
    ProjectStatus.BUILT: frozenset({ProjectStatus.BUILDING}),
    ProjectStatus.FAILED: frozenset({ProjectStatus.BUILDING}),
    ProjectStatus.ARCHIVED: frozenset(set(ProjectStatus) - {ProjectStatus.ARCHIVED}),
}
# Statuses in which name and description may still be edited.
EDITABLE = frozenset(set(ProjectStatus) - {ProjectStatus.ARCHIVED})


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A project's public fields as stored and answered (kiln.domain.projects.Project's)."""

    id: str
    name: str
    description: str
    status: ProjectStatus
    createdAt: str
    updatedAt: str
    archivedAt: str | None = None
    # The latest specification version (None until the clarifying questions are answered).
    specVersion: int | None = None
    # Set while the latest spec version is approved; cleared when a new version is written.
    approvedAt: str | None = None

    @classmethod
    def of(cls, values: dict[str, Any]) -> ProjectRecord:
        """From stored values (only the public fields are read; numbers may come as Decimal)."""
        version = values.get("specVersion")
        return cls(
            id=values["id"],
            name=values["name"],
            description=values["description"],
            status=ProjectStatus(values["status"]),
            createdAt=values["createdAt"],
            updatedAt=values["updatedAt"],
            archivedAt=values.get("archivedAt"),
            specVersion=None if version is None else int(version),
            approvedAt=values.get("approvedAt"),
        )

    def json(self) -> dict[str, Any]:
        """JSON-ready, every field (None included) in declaration order, as the API answers it."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "status": self.status.value,
            "createdAt": self.createdAt,
            "updatedAt": self.updatedAt,
            "archivedAt": self.archivedAt,
            "specVersion": self.specVersion,
            "approvedAt": self.approvedAt,
        }

    def archived_json(self) -> dict[str, Any]:
        """The answer to DELETE /v1/projects/{projectId} (kiln.domain.projects.ProjectArchived)."""
        return {"id": self.id, "status": self.status.value, "archivedAt": self.archivedAt}


# The public fields, in order: what the adapters read from a project item.
PROJECT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ProjectRecord))


@dataclass(frozen=True)
class ProjectListFilter:
    status: ProjectStatus | None = None
    search: str | None = None


@dataclass(frozen=True)
class PageRequest:
    """Page mode: 1-based page number and size."""

    page: int
    page_size: int


@dataclass(frozen=True)
class CursorRequest:
    """Cursor mode: size and the position after which to continue (None: from the start)."""

    limit: int
    after: dict[str, Any] | None


@dataclass(frozen=True)
class PageResult:
    items: list[ProjectRecord]
    total: int


@dataclass(frozen=True)
class CursorResult:
    items: list[ProjectRecord]
    after: dict[str, Any] | None  # position of the last item when more follow


class NewProjectRequest(Protocol):
    """What creating reads of a body: kiln.domain.projects.ProjectCreate, or the NewProject
    that kiln.domain.project_bodies validates without pydantic."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...


class ProjectChangesRequest(Protocol):
    """What updating reads of a body: kiln.domain.projects.ProjectUpdate, or ProjectChanges."""

    def changes(self) -> dict[str, str]: ...


class ProjectRepository(Protocol):
    def insert(self, workspace_id: str, project: ProjectRecord) -> None: ...

    def get(self, workspace_id: str, project_id: str) -> ProjectRecord | None: ...

    def update(
        self,
        workspace_id: str,
        project_id: str,
        changes: dict[str, Any],
        allowed_from: frozenset[ProjectStatus],
        before_write: Callable[[], object] | None = None,
    ) -> ProjectRecord:
        """Apply `changes` only if the project exists and its status is in `allowed_from`.

        Raises StatusConflict(current) when the status guard fails, ProjectMissing when absent.
        `before_write` is called (and may raise) after anything read first, before any write.
        """
        ...

    def list_page(self, workspace_id: str, filters: ProjectListFilter, page: PageRequest) -> PageResult: ...

    def list_cursor(self, workspace_id: str, filters: ProjectListFilter, cursor: CursorRequest) -> CursorResult: ...


class ProjectMissing(Exception):
    pass


class StatusConflict(Exception):
    def __init__(self, current: ProjectStatus, project: ProjectRecord | None = None) -> None:
        self.current = current
        self.project = project  # the project as read, when the guard was checked on a read
        super().__init__(current.value)


def conflict(action: str, current: ProjectStatus, allowed: frozenset[ProjectStatus]) -> KilnError:
    return KilnError(
        ErrorCode.CONFLICT,
        f"Cannot {action} a project in status '{current.value}'.",
        {"currentStatus": current.value, "allowedFrom": sorted(s.value for s in allowed)},
    )


class ProjectService:
    def __init__(self, repository: ProjectRepository, clock: Clock = utc_now) -> None:
        self._repository = repository
        self._clock = clock

    def create(self, workspace_id: str, request: NewProjectRequest) -> ProjectRecord:
        now = self._clock()
        stamp = iso(now)
        project = ProjectRecord(
            id=ids.new_id("project", int(now.timestamp() * 1000)),
            name=request.name,
            description=request.description,
            status=ProjectStatus.DRAFT,
            createdAt=stamp,
            updatedAt=stamp,
        )
        self._repository.insert(workspace_id, project)
        return project

    def get(self, workspace_id: str, project_id: str) -> ProjectRecord:
        project = self._repository.get(workspace_id, project_id)
        if project is None:
            raise not_found("project", project_id)
        return project

    def update(self, workspace_id: str, project_id: str, request: ProjectChangesRequest) -> ProjectRecord:
        changes: dict[str, Any] = dict(request.changes())
        changes["updatedAt"] = iso(self._clock())
        try:
            return self._repository.update(workspace_id, project_id, changes, EDITABLE)
        except ProjectMissing:
            raise not_found("project", project_id) from None
        except StatusConflict as exc:
            raise conflict("update", exc.current, EDITABLE) from None

    def archive(
        self, workspace_id: str, project_id: str, before_write: Callable[[], object] | None = None
    ) -> ProjectRecord:
        """Soft delete. Archiving an archived project answers it unchanged (DELETE is idempotent).

        `before_write` runs between the project's read and the write (the request's limits
        admitting it, kiln.http.api): an archived or missing project is answered with no write.
        """
        stamp = iso(self._clock())
        allowed = ALLOWED_FROM[ProjectStatus.ARCHIVED]
        changes = {"status": ProjectStatus.ARCHIVED, "archivedAt": stamp, "updatedAt": stamp}
        try:
            return self._repository.update(workspace_id, project_id, changes, allowed, before_write)
        except ProjectMissing:
            raise not_found("project", project_id) from None
        except StatusConflict as already:
            return already.project or self.get(workspace_id, project_id)

    def list_page(self, workspace_id: str, filters: ProjectListFilter, page: PageRequest) -> PageResult:
        return self._repository.list_page(workspace_id, filters, page)

    def list_cursor(self, workspace_id: str, filters: ProjectListFilter, cursor: CursorRequest) -> CursorResult:
        return self._repository.list_cursor(workspace_id, filters, cursor)

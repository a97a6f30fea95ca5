"""Projects: the models, the status machine and the service. No AWS here.

The service takes its repository (a port) in the constructor; DynamoDB implements it in
kiln.adapters.dynamodb.projects, and unit tests can hand it an in-memory fake.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.envelope import ErrorCode, KilnError, not_found

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
SEARCH_MAX = 200


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

# Exactly Unicode category Cc (C0, DEL, C1), as regexes: a 10,000-character description is
# checked in microseconds rather than a per-character unicodedata lookup.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
CONTROL_BUT_LAYOUT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    return value


def text_controls_only(value: str) -> str:
    if CONTROL_BUT_LAYOUT.search(value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    return value


# Python's str.strip (not pydantic's) so every Unicode whitespace is trimmed before the limits.
_Stripped = Annotated[str, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)]
Name = Annotated[_Stripped, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(no_control_characters)]
Description = Annotated[
    _Stripped, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX), AfterValidator(text_controls_only)
]


class Strict(BaseModel):
    """Input models reject unknown fields (CONTRACT section 1)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class PartialUpdate(Strict):
    """A PATCH body: it names at least one of the model's fields, and none of them as null (a
    null would be neither a value nor "leave it as it is")."""

    @model_validator(mode="before")
    @classmethod
    def _no_nulls_and_not_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            fields = tuple(cls.model_fields)
            if not data:
                raise ValueError(f"at least one of {', '.join(fields)} is required")
            for key in fields:
                if key in data and data[key] is None:
                    raise ValueError(f"{key} cannot be null")
        return data


class ProjectCreate(Strict):
    name: Name = Field(description="Human name of the project.", examples=["My SaaS App"])
    description: Description = Field(
        description="What the project should do, in plain language.",
        examples=["A project management tool with team collaboration features, task boards, and time tracking."],
    )


class ProjectUpdate(PartialUpdate):
    name: Name | None = None
    description: Description | None = None

    def changes(self) -> dict[str, str]:
        return self.model_dump(exclude_unset=True)


class Project(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str = Field(examples=["proj_01m885m8rskqxxjknrtpgbxm1p"])
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


class ProjectArchived(BaseModel):
    """The answer to DELETE /v1/projects/{projectId}: the soft delete's outcome."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str
    status: ProjectStatus
    archivedAt: str | None


class ProjectListFilter(BaseModel):
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
    items: list[Project]
    total: int


@dataclass(frozen=True)
class CursorResult:
    items: list[Project]
    after: dict[str, Any] | None  # position of the last item when more follow


class ProjectRepository(Protocol):
    def insert(self, workspace_id: str, project: Project) -> None: ...

    def get(self, workspace_id: str, project_id: str) -> Project | None: ...

    def update(
        self,
        workspace_id: str,
        project_id: str,
        changes: dict[str, Any],
        allowed_from: frozenset[ProjectStatus],
        before_write: Callable[[], object] | None = None,
    ) -> Project:
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
    def __init__(self, current: ProjectStatus, project: Project | None = None) -> None:
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

    def create(self, workspace_id: str, request: ProjectCreate) -> Project:
        now = self._clock()
        stamp = iso(now)
        project = Project(
            id=ids.new_id("project", int(now.timestamp() * 1000)),
            name=request.name,
            description=request.description,
            status=ProjectStatus.DRAFT,
            createdAt=stamp,
            updatedAt=stamp,
        )
        self._repository.insert(workspace_id, project)
        return project

    def get(self, workspace_id: str, project_id: str) -> Project:
        project = self._repository.get(workspace_id, project_id)
        if project is None:
            raise not_found("project", project_id)
        return project

    def update(self, workspace_id: str, project_id: str, request: ProjectUpdate) -> Project:
        changes: dict[str, Any] = dict(request.changes())
        changes["updatedAt"] = iso(self._clock())
        try:
            return self._repository.update(workspace_id, project_id, changes, EDITABLE)
        except ProjectMissing:
            raise not_found("project", project_id) from None
        except StatusConflict as exc:
            raise conflict("update", exc.current, EDITABLE) from None

    def archive(self, workspace_id: str, project_id: str, before_write: Callable[[], object] | None = None) -> Project:
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

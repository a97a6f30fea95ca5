"""Projects: the API's models (pydantic: request bodies validated, answers documented).

The status machine, a project as read (`ProjectRecord`), the port and the service are in
kiln.domain.project_records, without pydantic, so the endpoints that validate nothing with it
never load it; they are re-exported here for everyone else. `Project` below is the documented
form of a `ProjectRecord`: the same fields in the same order (a unit test keeps them so).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

# Re-exported: what modules importing the projects' models also use. The bodies' limits and
# checks live in kiln.domain.project_bodies, which validates POST and PATCH bodies as the
# models below do, without pydantic (a test holds the two to the same answers).
from kiln.domain.project_bodies import (  # noqa: F401
    CONTROL_BUT_LAYOUT,
    CONTROL_CHARACTERS,
    DESCRIPTION_MAX,
    NAME_MAX,
    SEARCH_MAX,
    no_control_characters,
    text_controls_only,
)
from kiln.domain.project_records import (  # noqa: F401
    ALLOWED_FROM,
    EDITABLE,
    PROJECT_FIELDS,
    CursorRequest,
    CursorResult,
    PageRequest,
    PageResult,
    ProjectListFilter,
    ProjectMissing,
    ProjectRecord,
    ProjectRepository,
    ProjectService,
    ProjectStatus,
    StatusConflict,
    conflict,
)

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


# A ProjectRecord as the API documents it (no docstring: it would become the schema's description).
# The project endpoints answer records and never build this model; the spec, run and import
# paths use it. Its fields are the record's, in the same order.
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

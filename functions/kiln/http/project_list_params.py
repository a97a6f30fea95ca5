"""GET /v1/projects' query model: the documented parameters and the definition of what is valid.

The list itself validates its query with `kiln.http.list_query` (kiln.handlers.projects_list), which
answers exactly as this model does without loading pydantic; the model is only imported to
document the operation (kiln.openapi) and by the test holding the two to the same answers.
"""

from __future__ import annotations

from pydantic import Field

from kiln.domain.project_bodies import SEARCH_MAX
from kiln.domain.project_records import ProjectStatus
from kiln.http.pagination import ListParams


class ProjectListParams(ListParams):
    status: ProjectStatus | None = None
    search: str | None = Field(default=None, min_length=1, max_length=SEARCH_MAX)

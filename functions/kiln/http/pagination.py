"""Both list modes of CONTRACT section 5: page mode (default) and opt-in cursor mode.

Cursors are opaque: base64url JSON of the position, bound to the list they came from (route,
workspace and filters, see `list_scope`) and signed with HMAC-SHA256 under a secret held in
Secrets Manager (kiln.cursors). A tampered cursor, or one replayed on another list, is a
VALIDATION_ERROR.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The limits and the answers' pieces live beside the pydantic-free check of a list query (a
# list validated with it never imports this module); re-exported for the lists that use the model.
from kiln.http.list_query import (  # noqa: F401
    CURSOR_MAX,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    ONE_MODE,
    cursor_pagination,
    list_scope,
    page_pagination,
)


class ListParams(BaseModel):
    """Paging query parameters; list endpoints subclass it to add their filters."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    page: int | None = Field(default=None, ge=1, le=MAX_PAGE)
    pageSize: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    limit: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=CURSOR_MAX)

    @model_validator(mode="after")
    def _one_mode(self) -> ListParams:
        if (self.page is not None or self.pageSize is not None) and (self.limit is not None or self.cursor is not None):
            raise ValueError(ONE_MODE)
        return self

    @property
    def cursor_mode(self) -> bool:
        return self.limit is not None or self.cursor is not None

    def filters(self) -> dict[str, Any]:
        """The list's filters (everything but paging), which a cursor is bound to."""
        return self.model_dump(mode="json", exclude={"page", "pageSize", "limit", "cursor"})

"""Both list modes of CONTRACT section 5: page mode (default) and opt-in cursor mode.

Cursors are opaque: base64url JSON of the position, bound to the list they came from (route,
workspace and filters, see `list_scope`) and signed with HMAC-SHA256 under a secret held in
Secrets Manager (kiln.cursors). A tampered cursor, or one replayed on another list, is a
VALIDATION_ERROR.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class ListParams(BaseModel):
    """Paging query parameters; list endpoints subclass it to add their filters."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    page: int | None = Field(default=None, ge=1, le=1_000_000)
    pageSize: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    limit: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(default=None, min_length=1, max_length=2048)

    @model_validator(mode="after")
    def _one_mode(self) -> ListParams:
        if (self.page is not None or self.pageSize is not None) and (self.limit is not None or self.cursor is not None):
            raise ValueError("use either page/pageSize (page mode) or limit/cursor (cursor mode), not both")
        return self

    @property
    def cursor_mode(self) -> bool:
        return self.limit is not None or self.cursor is not None

    def filters(self) -> dict[str, Any]:
        """The list's filters (everything but paging), which a cursor is bound to."""
        return self.model_dump(mode="json", exclude={"page", "pageSize", "limit", "cursor"})


def list_scope(route_path: str, workspace_id: str, filters: dict[str, Any]) -> str:
    return json.dumps([route_path, workspace_id, filters], sort_keys=True, separators=(",", ":"))


def page_pagination(page: int, page_size: int, total: int) -> dict[str, int]:
    return {"page": page, "pageSize": page_size, "total": total, "totalPages": math.ceil(total / page_size)}


def cursor_pagination(limit: int, next_cursor: str | None) -> dict[str, Any]:
    return {"limit": limit, "nextCursor": next_cursor, "hasMore": next_cursor is not None}

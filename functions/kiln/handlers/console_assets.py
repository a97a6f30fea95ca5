"""GET /app/{file+}: a file of the web console (its stylesheet, its JavaScript modules).

Only the names of kiln.console_files.FILES are served; see that module for the headers, the
caching and the Content-Security-Policy, which are the page's.
"""

from __future__ import annotations

from typing import Any

from kiln import config
from kiln.console_files import FILES
from kiln.envelope import ErrorCode
from kiln.handlers.console import file_answer, not_found
from kiln.http.contract import Answer, Contract, described

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable


@described(
    Contract(
        headers=("IfNoneMatch",),
        answers=(
            Answer(
                200,
                "A file of the console (its stylesheet, its JavaScript modules), revalidated on each use.",
                shape="asset",
                headers=("Cache-Control", "ETag"),
            ),
            Answer(
                304,
                "`If-None-Match` names the current ETag: use the cached copy.",
                shape="empty",
                headers=("Cache-Control", "ETag"),
            ),
        ),
        errors={404: (ErrorCode.NOT_FOUND,)},
        notes="Only the console's own files exist; anything else is 404 `NOT_FOUND`.",
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    name = (event.get("pathParameters") or {}).get("file") or ""
    if name not in FILES:
        return not_found(event, name)
    return file_answer(event, name)

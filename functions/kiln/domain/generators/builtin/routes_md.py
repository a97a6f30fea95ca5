"""Reading ROUTES.md back: the routes of an approved specification, as the build needs them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import ValidationError

from kiln.domain.generation import ENTITY_NAME, ApiRoute

__all__ = ["METHODS", "parse_routes"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_OTHER = "Other"
_OTHER_NO_ENTITY = "Other (no entity)"
_HEADING = re.compile(r"##(?!#)[ \t]*(.*)")
_ROUTE_ROW = re.compile(r"\|[ \t]*([A-Za-z]+)[ \t]*\|[ \t]*`([^`]*)`[ \t]*\|(.*)\|")
_RULE = re.compile(r":?-{3,}:?")


def parse_routes(text: str, entities: Iterable[str] | None = None) -> list[ApiRoute]:
    """The routes of a ROUTES.md as rendered by kiln.domain.spec_documents; ValueError otherwise.

    Each `## <Entity>` section holds a table `| method | path | summary |` whose rows read
    ``| GET | `/path` | summary |`` (a pipe in a summary is written `\\|`). "Other" holds the
    routes of no entity, or "Other (no entity)" when an entity is itself named Other: pass
    the entity names of DATA.md as `entities` to settle a lone "Other" heading; without them,
    "Other" is an entity only if the document also has an "Other (no entity)" section.
    Lines outside tables and headings are free text. Raises ValueError (with a line number)
    on anything else: a row that is not a route, an unknown method, an invalid path, an
    empty summary, a route listed twice, or no route at all.
    """
    if not isinstance(text, str):
        raise ValueError("ROUTES.md must be text")
    lines = [line.strip(" \t") for line in text.removeprefix("\ufeff").splitlines()]
    headings = [match.group(1).strip(" \t") for match in map(_HEADING.fullmatch, lines) if match]
    other_is_entity = _OTHER in set(entities) if entities is not None else _OTHER_NO_ENTITY in headings
    unset = object()
    group: object = unset
    routes: list[ApiRoute] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(lines, start=1):
        heading = _HEADING.fullmatch(line)
        if heading:
            title = heading.group(1).strip(" \t")
            if title == _OTHER_NO_ENTITY or (title == _OTHER and not other_is_entity):
                group = None
            elif re.fullmatch(ENTITY_NAME, title):
                group = title
            else:
                raise ValueError(
                    f"ROUTES.md line {number}: a section heading names an entity or reads "
                    f"'{_OTHER}', found {title[:80]!r}"
                )
            continue
        if not line.startswith("|"):
            continue
        cells = [cell.strip(" \t") for cell in line.strip("|").split("|")]
        if [cell.lower() for cell in cells] == ["method", "path", "summary"]:
            continue
        if cells and all(_RULE.fullmatch(cell) for cell in cells):
            continue
        row = _ROUTE_ROW.fullmatch(line)
        if row is None:
            raise ValueError(f"ROUTES.md line {number}: expected a route row | METHOD | `/path` | summary |")
        if group is unset:
            raise ValueError(f"ROUTES.md line {number}: a route row before the first '## <Entity>' heading")
        method = row.group(1).upper()
        if method not in METHODS:
            raise ValueError(f"ROUTES.md line {number}: unknown method {row.group(1)[:20]!r}")
        summary = row.group(3).replace("\\|", "|").strip()
        try:
            route = ApiRoute(method=method, path=row.group(2), summary=summary, entity=group)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)[:3]
            )
            raise ValueError(f"ROUTES.md line {number}: {problems}") from None
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(
                f"ROUTES.md line {number}: {route.method} {route.path} is already listed at line {seen[key]}"
            )
        seen[key] = number
        routes.append(route)
    if not routes:
        raise ValueError("ROUTES.md lists no routes")
    return routes

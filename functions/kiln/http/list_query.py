"""A list's query string validated without pydantic, and the paging answers' pieces.

A list endpoint whose only use of pydantic would be its query model (GET /v1/projects) names
that model in its Contract for the documentation and validates with `list_query` instead
(`Contract.query_check`): loading pydantic and building the model was most of its cold start
over a bare handler (docs/performance.md). The model (a kiln.http.pagination.ListParams
subclass) stays the definition of what is valid: `list_query` answers exactly what validating
it answers, every error field for field, message for message and in the same order, query
values being strings parsed the way pydantic parses them in lax mode
(tests/unit/kiln/http/test_list_query.py compares the two on generated and hand-picked
queries). A change to one side without the other fails that test.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from kiln.envelope import validation_error

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_PAGE = 1_000_000
CURSOR_MAX = 2048
ONE_MODE = "use either page/pageSize (page mode) or limit/cursor (cursor mode), not both"

# What pydantic trims around an integer: Rust's str::trim, the Unicode White_Space characters
# (not Python's str.strip, which also trims \x1c-\x1f).
_WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
# An integer as pydantic takes it from a string: a sign, ASCII digits with single underscores
# between them, then optionally a fraction of zeros only.
_INTEGER = re.compile(r"([+-]?)([0-9]+(?:_[0-9]+)*)(?:\.0+)?", re.ASCII)
# What pydantic reads first, as a JSON integer: its digits are judged against the size limit.
_JSON_INTEGER = re.compile(r"-?([1-9][0-9]*)", re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")
# Python's limit on the digits of an int read from a string (sys.int_info), which pydantic keeps.
_INT_DIGITS = 4300


class Invalid(ValueError):
    """One query value refused: its pydantic error type and message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def _string(value: str) -> str:
    # pydantic hands strings to Rust as UTF-8: a lone surrogate cannot be.
    if _SURROGATE.search(value):
        raise Invalid("string_unicode", "Input should be a valid string, unable to parse raw data as a unicode string")
    return value


def _characters(count: int) -> str:
    return f"{count} character{'' if count == 1 else 's'}"


def text(min_length: int, max_length: int) -> Callable[[str], str]:
    """A `str` field with min_length/max_length (in code points, nothing stripped)."""

    def check(value: str) -> str:
        value = _string(value)
        if len(value) < min_length:
            raise Invalid("string_too_short", f"String should have at least {_characters(min_length)}")
        if len(value) > max_length:
            raise Invalid("string_too_long", f"String should have at most {_characters(max_length)}")
        return value

    return check


def integer(ge: int, le: int) -> Callable[[str], int]:
    """An `int` field with ge/le, read from a string as pydantic's lax mode reads it."""

    def check(value: str) -> int:
        number = _parse_int(_string(value))
        if number < ge:
            raise Invalid("greater_than_equal", f"Input should be greater than or equal to {ge}")
        if number > le:
            raise Invalid("less_than_equal", f"Input should be less than or equal to {le}")
        return number

    return check


def _parse_int(value: str) -> int:
    # pydantic first reads the string as it is as a JSON integer (no "+", no leading zero or
    # space): a run of more digits than the limit fails there, as too large, whatever follows it.
    json_integer = _JSON_INTEGER.match(value)
    if json_integer is not None and len(json_integer.group(1)) > _INT_DIGITS:
        raise Invalid("int_parsing_size", "Unable to parse input string as an integer, exceeded maximum size")
    value = value.strip(_WHITE_SPACE)
    # Then trimmed, with a "+", underscores between digits, leading zeros and a zero fraction;
    # the same limit counts the digits past the leading zeros, refused as a plain parsing error.
    whole = _INTEGER.fullmatch(value)
    digits = whole.group(2).replace("_", "").lstrip("0") if whole is not None else ""
    if whole is None or len(digits) > _INT_DIGITS:
        raise Invalid("int_parsing", "Input should be a valid integer, unable to parse string as an integer")
    number = int(digits or "0")
    return -number if whole.group(1) == "-" else number


def choice(enum: type[Enum]) -> Callable[[str], Enum]:
    """An Enum field: the value exactly as one of the members' values."""
    members = {member.value: member for member in enum}
    names = [repr(value) for value in members]
    expected = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]

    def check(value: str) -> Enum:
        member = members.get(_string(value))
        if member is None:
            raise Invalid("enum", f"Input should be {expected}")
        return member

    return check


# ListParams' paging fields, in its field order.
PAGING: dict[str, Callable[[str], Any]] = {
    "page": integer(1, MAX_PAGE),
    "pageSize": integer(1, MAX_PAGE_SIZE),
    "limit": integer(1, MAX_PAGE_SIZE),
    "cursor": text(1, CURSOR_MAX),
}


class ListQuery:
    """A valid list query: what a handler reads of a ListParams subclass."""

    __slots__ = ("cursor", "limit", "page", "pageSize", "values")

    def __init__(self, paging: dict[str, Any], values: dict[str, Any]) -> None:
        self.page: int | None = paging["page"]
        self.pageSize: int | None = paging["pageSize"]
        self.limit: int | None = paging["limit"]
        self.cursor: str | None = paging["cursor"]
        self.values = values  # the filters, typed (an Enum member, a str), None when absent

    @property
    def cursor_mode(self) -> bool:
        return self.limit is not None or self.cursor is not None

    def filters(self) -> dict[str, Any]:
        """The filters as ListParams.filters() gives them (JSON values), which a cursor is bound to."""
        return {name: value.value if isinstance(value, Enum) else value for name, value in self.values.items()}


def _error(field: str, kind: str, message: str) -> dict[str, Any]:
    return {"field": field, "location": "query", "message": message, "type": kind}


def list_query(filters: Mapping[str, Callable[[str], Any]]) -> Callable[[dict[str, str]], ListQuery]:
    """The check of a ListParams subclass whose own fields (after the paging ones) are `filters`,
    in its field order; it raises the 400 VALIDATION_ERROR validating the model would."""
    fields = {**PAGING, **filters}

    def check(data: dict[str, str]) -> ListQuery:
        errors: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        for name, parse in fields.items():
            raw = data.get(name)
            try:
                values[name] = None if raw is None else parse(raw)
            except Invalid as problem:
                errors.append(_error(name, problem.kind, problem.message))
        # After the fields' own errors, in the query's order (extra="forbid"); an empty name is
        # "(body)", as every error without a field path is.
        errors.extend(_error(key or "(body)", "extra_forbidden", "unknown field") for key in data if key not in fields)
        if errors:
            raise validation_error(errors)
        page_mode = values["page"] is not None or values["pageSize"] is not None
        if page_mode and (values["limit"] is not None or values["cursor"] is not None):
            raise validation_error([_error("(body)", "value_error", ONE_MODE)])
        return ListQuery(values, {name: values[name] for name in filters})

    return check


def list_scope(route_path: str, workspace_id: str, filters: dict[str, Any]) -> str:
    return json.dumps([route_path, workspace_id, filters], sort_keys=True, separators=(",", ":"))


def page_pagination(page: int, page_size: int, total: int) -> dict[str, int]:
    return {"page": page, "pageSize": page_size, "total": total, "totalPages": math.ceil(total / page_size)}


def cursor_pagination(limit: int, next_cursor: str | None) -> dict[str, Any]:
    return {"limit": limit, "nextCursor": next_cursor, "hasMore": next_cursor is not None}

"""The bodies of POST and PATCH /v1/projects validated without pydantic.

Those two functions validate nothing else, and loading pydantic and building a model was most
of their cold start over a bare handler (docs/performance.md). `ProjectCreate` and
`ProjectUpdate` (kiln.domain.projects) stay the source of the documented schemas and the
definition of what is valid: these checks answer exactly what validating those models answers,
every error field for field, message for message and in the same order
(tests/unit/kiln/domain/test_project_bodies.py compares the two on generated and hand-picked
bodies). A change to one side without the other fails that test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kiln.envelope import validation_error

NAME_MAX = 200
DESCRIPTION_MAX = 10_000
SEARCH_MAX = 200

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


class NewProject:
    """A valid POST body: what the service reads of a ProjectCreate."""

    __slots__ = ("description", "name")

    def __init__(self, name: str, description: str) -> None:
        self.name, self.description = name, description


class ProjectChanges:
    """A valid PATCH body: what the service reads of a ProjectUpdate (the fields given)."""

    __slots__ = ("_changes",)

    def __init__(self, changes: dict[str, str]) -> None:
        self._changes = changes

    def changes(self) -> dict[str, str]:
        return dict(self._changes)


# Field name -> (max length, control-character check), in the models' field order.
_TEXT_FIELDS: dict[str, tuple[int, Callable[[str], str]]] = {
    "name": (NAME_MAX, no_control_characters),
    "description": (DESCRIPTION_MAX, text_controls_only),
}


def _error(field: str, kind: str, message: str) -> dict[str, Any]:
    return {"field": field, "location": "body", "message": message, "type": kind}


def _items(count: int) -> str:
    return f"{count} item{'' if count == 1 else 's'}"


def _text(field: str, value: Any, errors: list[dict[str, Any]]) -> str | None:
    """One text field as the models take it: stripped (Python's str.strip, every Unicode
    space), then its length (1 to its maximum), then its control characters."""
    if not isinstance(value, str):
        errors.append(_error(field, "string_type", "Input should be a valid string"))
        return None
    maximum, check = _TEXT_FIELDS[field]
    value = value.strip()
    if not value:
        errors.append(_error(field, "too_short", f"Value should have at least {_items(1)} after validation, not 0"))
        return None
    if len(value) > maximum:
        message = f"Value should have at most {_items(maximum)} after validation, not {len(value)}"
        errors.append(_error(field, "too_long", message))
        return None
    try:
        return check(value)
    except ValueError as problem:
        errors.append(_error(field, "value_error", str(problem)))
        return None


def _unknown(data: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    # After the fields' own errors, in the body's order (extra="forbid"); an empty key is
    # named "(body)", as every error without a field path is.
    errors.extend(
        _error(key or "(body)", "extra_forbidden", "unknown field") for key in data if key not in _TEXT_FIELDS
    )


def new_project(data: dict[str, Any]) -> NewProject:
    """A POST /v1/projects body (a JSON object); raises the 400 VALIDATION_ERROR ProjectCreate's would."""
    errors: list[dict[str, Any]] = []
    values: dict[str, str] = {}
    for field in _TEXT_FIELDS:
        if field not in data:
            errors.append(_error(field, "missing", "Field required"))
            continue
        value = _text(field, data[field], errors)
        if value is not None:
            values[field] = value
    _unknown(data, errors)
    if errors:
        raise validation_error(errors)
    return NewProject(values["name"], values["description"])


def project_changes(data: dict[str, Any]) -> ProjectChanges:
    """A PATCH /v1/projects/{projectId} body (a JSON object); raises the 400 ProjectUpdate's would."""
    # ProjectUpdate's whole-body check comes first and is its only error when it fails.
    if not data:
        raise validation_error(
            [_error("(body)", "value_error", f"at least one of {', '.join(_TEXT_FIELDS)} is required")]
        )
    for field in _TEXT_FIELDS:
        if field in data and data[field] is None:
            raise validation_error([_error("(body)", "value_error", f"{field} cannot be null")])
    errors: list[dict[str, Any]] = []
    changes: dict[str, str] = {}
    for field in _TEXT_FIELDS:
        if field in data:
            value = _text(field, data[field], errors)
            if value is not None:
                changes[field] = value
    _unknown(data, errors)
    if errors:
        raise validation_error(errors)
    return ProjectChanges(changes)

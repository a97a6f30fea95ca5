"""The POST and PATCH project bodies validated without pydantic answer exactly as the models do.

Differential: every body goes through kiln.domain.project_bodies and through the pydantic model
the way the pipeline used it (Request.body_as: model_validate, then field_errors), and the two
must give the same value or the same error response, byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from kiln.domain.project_bodies import DESCRIPTION_MAX, NAME_MAX, new_project, project_changes
from kiln.domain.projects import ProjectCreate, ProjectUpdate
from tests.unit.kiln.differential import answer, by_model


def _by_model(model: type[BaseModel], data: dict[str, Any]) -> tuple[str, Any]:
    kind, value = by_model(model, data, "body")
    if kind == "valid":
        value = value.model_dump(exclude_unset=True)
    return kind, value


def _create_by_hand(data: dict[str, Any]) -> tuple[str, Any]:
    kind, value = answer(lambda: new_project(data))
    return (kind, {"name": value.name, "description": value.description}) if kind == "valid" else (kind, value)


def _update_by_hand(data: dict[str, Any]) -> tuple[str, Any]:
    kind, value = answer(lambda: project_changes(data))
    return (kind, value.changes()) if kind == "valid" else (kind, value)


def assert_same(data: dict[str, Any]) -> None:
    assert _create_by_hand(data) == _by_model(ProjectCreate, data), data
    assert _update_by_hand(data) == _by_model(ProjectUpdate, data), data


# Characters where the checks could differ: every control character, Unicode spaces that
# str.strip trims (and ones it keeps), letters beyond the BMP, a lone surrogate (JSON "\ud800").
_TRICKY = "\x00\x08\t\n\x0b\x0c\r\x1c\x1f \x7f\x85\x9f\xa0\u1680\u2028\u200b\u3000\ufeff\ud800é😀a"
_text = st.one_of(
    st.text(alphabet=st.sampled_from(_TRICKY), max_size=8),
    st.text(max_size=12),
    # Around the bounds, with spaces that strip away.
    st.builds(
        lambda core, pad, filler: pad + filler * core + pad,
        st.sampled_from([NAME_MAX - 1, NAME_MAX, NAME_MAX + 1, DESCRIPTION_MAX, DESCRIPTION_MAX + 1]),
        st.sampled_from(["", " ", "\u3000\n"]),
        st.sampled_from(["a", "é", "😀", "\t", "\x01"]),
    ),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4,
)
_keys = st.sampled_from(["name", "description", "Name", "extra", "", "name ", "\U0001d4c3"]) | st.text(max_size=4)
_bodies = st.dictionaries(_keys, st.one_of(_text, _json), max_size=4)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies)
@example({})
@example({"name": None})
@example({"description": None, "name": None})
@example({"name": "ok", "description": None, "extra": 1})
@example({"zz": 1, "description": 5, "aa": 2})
def test_generated_bodies_get_the_modelsanswer(data: dict[str, Any]) -> None:
    assert_same(data)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "App", "description": "An app."},
        {"name": "  App  ", "description": "\n An app.\tWith tabs\nand lines. \u3000"},
        {"name": "App"},
        {"description": "Only this."},
        {"name": "App", "description": "An app.", "unknown": True},
        {"unknown": 1, "name": "App", "other": None},
        {"name": "", "description": ""},
        {"name": "   ", "description": "\u3000\n"},
        {"name": "a" * NAME_MAX, "description": "d" * DESCRIPTION_MAX},
        {"name": "a" * (NAME_MAX + 1), "description": "d" * (DESCRIPTION_MAX + 1)},
        {"name": " " + "a" * NAME_MAX + " ", "description": "x"},
        {"name": "😀" * NAME_MAX, "description": "x"},
        {"name": "tab\there", "description": "tab\there"},
        {"name": "line\nbreak", "description": "bell\x07"},
        {"name": "del\x7f", "description": "c1\x85inside"},
        {"name": "nul\x00", "description": "esc\x1b"},
        {"name": "\ud800", "description": "lone \udfff surrogate"},
        {"name": 1, "description": 2.5},
        {"name": True, "description": False},
        {"name": ["App"], "description": {"text": "x"}},
        {"name": None, "description": "x"},
        {"name": "x", "description": None},
        {"": "empty key"},
        {"name": "ok", "description": "ok", "name ": "near miss"},
    ],
)
def test_hand_picked_bodies_get_the_modelsanswer(data: dict[str, Any]) -> None:
    assert_same(data)


def test_an_error_answer_names_each_field_as_the_contract_shows() -> None:
    kind, (status, _, body) = _create_by_hand({"name": "", "extra": 1})
    assert (kind, status) == ("error", 400)
    fields = json.loads(body)["error"]["details"]["fields"]
    assert [(f["field"], f["type"]) for f in fields] == [
        ("name", "too_short"),
        ("description", "missing"),
        ("extra", "extra_forbidden"),
    ]

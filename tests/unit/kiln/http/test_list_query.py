"""GET /v1/projects' query checked without pydantic answers exactly as ProjectListParams does.

Differential: every query (a dict of strings, as Request.query gives it) goes through the list's
`query_check` and through the model the way the pipeline used it (Request.query_as:
model_validate, then field_errors), and the two must give the same values (paging, typed
filters, the filters a cursor is bound to) or the same error response, byte for byte.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiln.handlers.projects_list import check_query, handler
from kiln.http.contract import contract_of
from kiln.http.list_query import CURSOR_MAX, MAX_PAGE, MAX_PAGE_SIZE
from kiln.http.project_list_params import ProjectListParams
from tests.unit.kiln.differential import answer, by_model

SEARCH_MAX = 200
FIELDS = ("page", "pageSize", "limit", "cursor", "status", "search")


def _by_model(data: dict[str, str]) -> tuple[str, Any]:
    kind, value = by_model(ProjectListParams, data, "query")
    if kind == "valid":
        typed = {name: getattr(value, name) for name in FIELDS}
        value = (typed, value.cursor_mode, value.filters())
    return kind, value


def _by_hand(data: dict[str, str]) -> tuple[str, Any]:
    kind, value = answer(lambda: check_query(data))
    if kind == "valid":
        typed = {name: getattr(value, name) for name in FIELDS[:4]} | value.values
        value = (typed, value.cursor_mode, value.filters())
    return kind, value


def assert_same(data: dict[str, str]) -> None:
    by_hand, by_model = _by_hand(data), _by_model(data)
    assert by_hand == by_model, data
    if by_hand[0] == "valid":  # the same types too (an Enum member, not its value; an int, not a bool)
        assert [type(v) for v in by_hand[1][0].values()] == [type(v) for v in by_model[1][0].values()]


def test_the_list_declares_the_check_beside_the_model() -> None:
    contract = contract_of(handler)
    assert contract.query == "kiln.http.project_list_params:ProjectListParams"
    assert contract.query_check is check_query


# Integers as strings where pydantic's lax parsing has rules of its own: whitespace it trims
# (Rust's, not Python's), signs, underscores, zero fractions, non-ASCII digits, digit limits.
_INT_PIECES = [
    "0", "1", "2", "9", "00", "20", "100", "101", "1000000", "1000001", "+", "-", "_", ".", ".0", ".00",
    ".5", "e2", " ", "\t", "\n", "\x0b", "\x1c", "\x1f", "\x85", "\xa0", "\u180e", "\u2003", "\u200b",
    "\u3000", "\ufeff", "\u0661", "\uff11", "x", "\ud800",
]  # fmt: skip
_integers = st.one_of(
    st.integers(min_value=-3, max_value=MAX_PAGE + 2).map(str),
    st.lists(st.sampled_from(_INT_PIECES), max_size=5).map("".join),
    st.builds(
        lambda sign, zeros, digits, tail: sign + zeros + digits + tail,
        st.sampled_from(["", "+", "-", " "]),
        st.sampled_from(["", "0", "0" * 19, "0" * 4301]),
        st.sampled_from(["1", "12", "1_2", "9" * 18, "9" * 19, "1" * 4300, "1" * 4301, "1_" * 2151 + "1"]),
        st.sampled_from(["", ".0", ".", "_", "x", " ", ".01", "_0"]),
    ),
)
_STATUSES = ["draft", "clarifying", "spec_review", "approved", "building", "built", "failed", "archived"]
_texts = st.one_of(
    st.sampled_from([*_STATUSES, "Draft", " draft", "draft ", "", "\ud800", "dr\udfffaft"]),
    st.text(max_size=6),
    st.builds(
        lambda core, filler: filler * core,
        st.sampled_from([1, SEARCH_MAX - 1, SEARCH_MAX, SEARCH_MAX + 1, CURSOR_MAX, CURSOR_MAX + 1]),
        st.sampled_from(["a", "é", "😀", " "]),
    ),
)
_keys = st.sampled_from([*FIELDS, "Page", "page ", "", "sort", "workspaceId"]) | st.text(max_size=3)
_queries = st.dictionaries(_keys, st.one_of(_integers, _texts), max_size=5)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_queries)
@example({})
@example({"page": "1", "limit": "1"})
@example({"pageSize": "x", "cursor": "", "zz": "1", "aa": "2"})
def test_generated_queries_get_the_modelsanswer(data: dict[str, str]) -> None:
    assert_same(data)


@given(st.dictionaries(st.sampled_from(FIELDS), _integers, max_size=4))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_integers_in_every_field_get_the_modelsanswer(data: dict[str, str]) -> None:
    assert_same(data)


@pytest.mark.parametrize(
    "value",
    [
        "1", " 1 ", "\u30001\u3000", "\x851", "1\u2029", "\x1c1", "\u180e1", "\u200b1", "\ufeff1",
        "+1", "-1", "-0", "+0", "++1", "+-1", "- 1", "1 1", "", " ", "+", "-",
        "1.0", "1.", ".0", "1.00", "1.01", "1.0.0", "1.0e0", "1e2", "0x1", "1_0", "1__0", "_1", "1_",
        "1_0.0", "1.0_0", "1._0", "1_.0", "+_1", "-_1", "1_000_000", "0001_000_000.00",
        "\u0661", "\uff11", "1.\u0660", "\ud8001",
        "0" * 18 + "1", "0" * 19 + "1", "0" * 20 + "_1", "_" + "0" * 20 + "1", "1" * 30,
        "1" * 4300, "1" * 4301, " " * 4300 + "1", "0" * 4301 + "1", "0" * 4400 + "1" * 4300,
        "1" * 4301 + "x", "x" + "1" * 4301, "1" * 4301 + ".5", "1" * 4301 + "_", "1" * 4301 + ".",
        "-" + "1" * 4301, "+" + "1" * 4300, "1" * 4300 + ".0", "1_" * 2200 + "1",
        "1" * 2150 + "_" + "1" * 2151, "1_" + "1" * 4301, "\u0661" * 2200,
        str(MAX_PAGE), str(MAX_PAGE + 1), str(MAX_PAGE_SIZE), str(MAX_PAGE_SIZE + 1),
    ],
)  # fmt: skip
def test_hand_picked_integers_get_the_modelsanswer(value: str) -> None:
    for field in ("page", "pageSize", "limit"):
        assert_same({field: value})


@pytest.mark.parametrize(
    "data",
    [
        {"status": "archived"},
        {"status": "ARCHIVED"},
        {"status": ""},
        {"search": "", "cursor": ""},
        {"search": "a" * SEARCH_MAX, "cursor": "c" * CURSOR_MAX},
        {"search": "😀" * (SEARCH_MAX + 1), "cursor": "c" * (CURSOR_MAX + 1)},
        {"search": "\ud800", "status": "\udfff", "cursor": "\ud800x"},
        {"page": "2", "pageSize": "10", "status": "draft", "search": "app"},
        {"limit": "5", "cursor": "abc", "status": "built"},
        {"page": "1", "cursor": "abc"},
        {"pageSize": "5", "limit": "5"},
        {"page": "0", "limit": "5"},
        {"sort": "name", "page": "1"},
        {"": "x", "Page": "1", "page ": "1"},
        {"workspaceId": "ws_01m885m8rskqxxjknrtpgbxm1p"},
        {"search": "x", "page": "abc", "extra": "1", "status": "nope", "limit": "101"},
    ],
)
def test_hand_picked_queries_get_the_modelsanswer(data: dict[str, str]) -> None:
    assert_same(data)


def test_a_cursor_is_bound_to_the_same_filters_as_before() -> None:
    """The filters a cursor's scope holds are the model's, so cursors issued before still decode."""
    kind, query = answer(lambda: check_query({"limit": "2", "status": "archived", "search": "x"}))
    assert kind == "valid"
    assert query.filters() == {"status": "archived", "search": "x"}
    assert check_query({"limit": "2"}).filters() == {"status": None, "search": None}

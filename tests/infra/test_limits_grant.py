"""Every metered route may count its requests (kiln.http.limits), and only in the counters'
partitions; unmetered functions may not."""

from __future__ import annotations

import pytest

from kiln.routes import ROUTES

from .conftest import Synth
from .test_stack import function_key, functions, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def _counter_statements(main: Synth, key: str) -> list[dict]:
    stack, _, props = functions(main)[key]
    return [s for s in role_statements(main, stack, props) if s.get("Sid") == "LimitCounters"]


def _metered(route) -> bool:
    # An authorized route counts against the windows unless its category is "none" (/mcp: each
    # tool call is a metered API request of its own).
    return route.authorized and route.category != "none"


@pytest.mark.parametrize("route", [r for r in ROUTES if _metered(r)], ids=lambda r: r.name)
def test_metered_routes_update_only_the_counter_partitions(main: Synth, route) -> None:
    statements = _counter_statements(main, function_key(route))
    assert len(statements) == 1, route.handler
    statement = statements[0]
    assert sorted(statement["Action"]) == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*", "USAGE#*"]}}


@pytest.mark.parametrize("route", [r for r in ROUTES if not _metered(r)], ids=lambda r: r.name)
def test_unmetered_routes_count_nothing(main: Synth, route) -> None:
    assert _counter_statements(main, function_key(route)) == []

"""The cold bench's route table (tests/bench/routes.py): every route has a scenario, and a
generated twin makes the AWS calls Kiln's handler made. No timing is asserted here."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from kiln.routes import ROUTES
from tests.bench import routes
from tests.bench.world import AWS_ENV, SCENARIOS, World, cold_scenarios, environment, provision


def test_every_route_of_the_table_has_a_scenario_and_no_case_is_stale() -> None:
    names = {route.name for route in ROUTES}
    hand_written = names & set(SCENARIOS)

    assert names - hand_written == set(routes.CASES)
    assert [name for name, _, _ in cold_scenarios()] == [route.name for route in ROUTES] + ["authorizer"]


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws(), environment(dict(AWS_ENV)):
        yield provision()


def _twin(bare_dir: Path, name: str) -> object:
    sys.path.insert(0, str(bare_dir))
    try:
        return importlib.import_module(f"bare_replay_{name}")
    finally:
        sys.path.remove(str(bare_dir))
        sys.modules.pop(f"bare_replay_{name}", None)


def test_a_generated_twin_replays_the_handlers_calls_and_answers_its_status(world: World, tmp_path: Path) -> None:
    found, failed = routes.scenarios(world, tmp_path, {"users_get", "docs_ui"})

    assert failed == {}
    users_get, docs_ui = found["users_get"], found["docs_ui"]
    assert (users_get.label, users_get.status, users_get.calls_aws) == ("GET /v1/users/{userId}", 200, True)
    assert (docs_ui.status, docs_ui.calls_aws) == (200, False)
    replay = (tmp_path / "bare_replay_users_get.py").read_text()
    assert "import boto3" in replay and "'dynamodb', 'get_item'" in replay
    assert "import boto3" not in (tmp_path / "bare_replay_docs_ui.py").read_text()
    twin = _twin(tmp_path, "users_get")
    assert twin.handler(users_get.event(world))["statusCode"] == 200  # type: ignore[attr-defined]


def test_a_route_answering_another_status_is_reported_not_measured(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(routes.CASES, "users_list", routes.Case(status=418, refusal="a teapot"))

    found, failed = routes.scenarios(world, tmp_path, {"users_list"})

    assert found == {}
    assert failed == {"users_list": "answered 200, expected 418"}
    assert not (tmp_path / "bare_replay_users_list.py").exists()

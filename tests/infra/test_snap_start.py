"""-c snapStart=true: every API function snapshotted on publish and invoked through its alias."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App

from infra.lambdas import SNAP_START_ALIAS
from infra.settings import Settings
from kiln.routes import ROUTES

from .conftest import Synth, synthesize
from .test_stack import function_key, functions, join, methods_by_route

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory, layer_dir: Path) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-snap"), layer_dir, context={"snapStart": "true"})


def test_the_flag_is_off_unless_asked_for() -> None:
    assert Settings.from_context(App().node).snap_start is False
    assert Settings.from_context(App(context={"snapStart": "true"}).node).snap_start is True


def test_api_functions_are_snapshotted_and_invoked_through_their_alias(snap: Synth) -> None:
    assert snap.error is None, snap.error
    every_function = functions(snap)
    for route in ROUTES:
        stack, logical_id, props = every_function[function_key(route)]
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, route.path
        resources = snap.templates[stack]["Resources"]
        aliases = {
            key: r["Properties"]
            for key, r in resources.items()
            if r["Type"] == "AWS::Lambda::Alias" and r["Properties"]["FunctionName"] == {"Ref": logical_id}
        }
        assert [a["Name"] for a in aliases.values()] == [SNAP_START_ALIAS]
        (alias_id,) = aliases
        uri = join(methods_by_route(snap)[(route.method, route.path)]["Integration"]["Uri"])
        assert uri.endswith(f":function:{props['FunctionName']}:{SNAP_START_ALIAS}/invocations"), uri
        # API Gateway may invoke the alias it calls, and nothing else of the function.
        permissions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
        assert [p["Principal"] for p in permissions if p["FunctionName"] == {"Ref": alias_id}] == [
            "apigateway.amazonaws.com"
        ]
        assert not [p for p in permissions if p["FunctionName"] == {"Fn::GetAtt": [logical_id, "Arn"]}]

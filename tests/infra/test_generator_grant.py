"""The generator:invoke grant: nothing with the built-in generator, InvokeModel on one model with Bedrock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import grants
from kiln.routes import ROUTES, WORKERS

from .conftest import Synth, synthesize
from .test_stack import actions, functions, join, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

PROFILE_ID = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
ROUTE_INVOKERS = {r.handler_ref for r in ROUTES if "generator:invoke" in r.grants}
WORKER_INVOKERS = {w.handler_ref for w in WORKERS if "generator:invoke" in w.grants}
INVOKERS = ROUTE_INVOKERS | WORKER_INVOKERS


@pytest.fixture(scope="module")
def bedrock(tmp_path_factory: pytest.TempPathFactory, layer_dir: Path) -> Synth:
    """The real route table with the Bedrock generator on a cross-Region inference profile."""
    return synthesize(
        tmp_path_factory.mktemp("cdk-bedrock"),
        layer_dir,
        context={"generator": "bedrock", "bedrockModelId": PROFILE_ID},
    )


def resources(statement: dict) -> list[str]:
    value = statement["Resource"]
    return [join(r) for r in ([value] if isinstance(value, (str, dict)) else value)]


def test_the_spec_routes_and_build_workers_declare_the_grant() -> None:
    assert ROUTE_INVOKERS, "no route declares generator:invoke"
    assert all(h.startswith("kiln.handlers.specs_") for h in ROUTE_INVOKERS)
    assert {
        "kiln.workers.build_decompose.handler",
        "kiln.workers.build_task.handler",
        "kiln.workers.build_repair.handler",
    } == WORKER_INVOKERS


def test_builtin_generator_grants_nothing(main: Synth) -> None:
    text = json.dumps(main.templates)
    assert "bedrock:" not in text
    assert "KILN_BEDROCK_MODEL_ID" not in text
    for handler, (_, _, props) in functions(main).items():
        env = props["Environment"]["Variables"]
        assert env.get("KILN_GENERATOR") == ("builtin" if handler in INVOKERS else None), handler


def test_bedrock_generator_invokes_only_the_configured_profile(bedrock: Synth) -> None:
    assert bedrock.error is None, bedrock.error
    fns = functions(bedrock)
    assert set(fns) >= INVOKERS
    for handler, (stack, _, props) in fns.items():
        statements = role_statements(bedrock, stack, props)
        invoking = [s for s in statements if "bedrock:InvokeModel" in actions([s])]
        env = props["Environment"]["Variables"]
        if handler not in INVOKERS:
            assert not invoking and not any(a.startswith("bedrock:") for a in actions(statements)), handler
            assert "KILN_GENERATOR" not in env and "KILN_BEDROCK_MODEL_ID" not in env, handler
            continue
        assert env["KILN_GENERATOR"] == "bedrock" and env["KILN_BEDROCK_MODEL_ID"] == PROFILE_ID
        assert actions(invoking) == {"bedrock:InvokeModel"}
        by_sid = {s["Sid"]: s for s in invoking}
        assert set(by_sid) == {"GeneratorInvokeProfile", "GeneratorInvokeProfileModel"}, handler
        profile_arn = f"arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:inference-profile/{PROFILE_ID}"
        assert resources(by_sid["GeneratorInvokeProfile"]) == [profile_arn]
        assert "Condition" not in by_sid["GeneratorInvokeProfile"]
        routed = by_sid["GeneratorInvokeProfileModel"]
        assert resources(routed) == [f"arn:<AWS::Partition>:bedrock:*::foundation-model/{MODEL_ID}"]
        condition = routed["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]
        assert join(condition) == profile_arn


def test_workers_get_the_model_only_with_the_grant(bedrock: Synth) -> None:
    fns = functions(bedrock)
    for worker in WORKERS:
        stack, _, props = fns[worker.handler_ref]
        assert stack == bedrock.stack.stack_name
        granted = {a for a in actions(role_statements(bedrock, stack, props)) if a.startswith("bedrock:")}
        assert granted == ({"bedrock:InvokeModel"} if "generator:invoke" in worker.grants else set()), worker.name


def test_cdk_nag_accepts_the_acknowledged_wildcard(bedrock: Synth) -> None:
    findings = [
        f"{report['pluginName']} {violation['severity']} {violation['ruleName']}: "
        f"{[c['constructPath'] for c in violation['violatingConstructs']]}"
        for report in bedrock.report.get("pluginReports", [])
        for violation in report.get("violations", [])
    ]
    assert findings == [] and bedrock.error is None, "\n".join(findings) or bedrock.error


# --- construction-time checks (no synthesis) ---------------------------------------------------------


def test_a_foundation_model_id_is_granted_in_this_region_only() -> None:
    from aws_cdk import App, Stack

    stack = Stack(App(), "Probe")
    [permission] = grants.generator_permissions(MODEL_ID)
    assert permission.wildcards == ()
    statement = stack.resolve(permission.statement.to_statement_json())
    assert statement["Action"] == "bedrock:InvokeModel" and "Condition" not in statement
    assert join(statement["Resource"]) == f"arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/{MODEL_ID}"


@pytest.mark.parametrize(
    "model_id,base",
    [
        (PROFILE_ID, MODEL_ID),
        ("eu.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        ("apac.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        (MODEL_ID, None),
        ("amazon.nova-pro-v1:0", None),
    ],
)
def test_inference_profile_ids_are_recognized(model_id: str, base: str | None) -> None:
    assert grants.inference_profile_model(model_id) == base


def test_the_grant_is_empty_with_the_builtin_generator() -> None:
    targets = grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s")
    assert grants.permissions_for(("generator:invoke",), targets, owner="probe") == []


def test_generator_settings_are_checked() -> None:
    from aws_cdk import App

    from infra.settings import Settings

    assert Settings.from_context(App().node).invoked_model_id == ""
    settings = Settings.from_context(App(context={"generator": "bedrock", "bedrockModelId": MODEL_ID}).node)
    assert settings.generator == "bedrock" and settings.invoked_model_id == MODEL_ID
    # A model id alone does not switch generators.
    assert Settings.from_context(App(context={"bedrockModelId": MODEL_ID}).node).invoked_model_id == ""
    with pytest.raises(ValueError, match="bedrockModelId is required when generator is bedrock"):
        Settings.from_context(App(context={"generator": "bedrock"}).node)
    with pytest.raises(ValueError, match="bedrockModelId is required"):
        Settings.from_context(App(context={"generator": "bedrock", "bedrockModelId": "  "}).node)
    with pytest.raises(ValueError, match="not an ARN"):
        Settings.from_context(
            App(
                context={
                    "generator": "bedrock",
                    "bedrockModelId": f"arn:aws:bedrock:us-east-1::foundation-model/{MODEL_ID}",
                }
            ).node
        )
    with pytest.raises(ValueError, match="generator must be one of"):
        Settings.from_context(App(context={"generator": "openai"}).node)


def test_a_missing_model_id_fails_before_synthesis(layer_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bedrockModelId is required when generator is bedrock"):
        synthesize(tmp_path / "missing", layer_dir, context={"generator": "bedrock"})

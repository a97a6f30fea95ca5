"""Deploy previews' infrastructure: the preview workflow, the preview role that grants nothing,
the deployer's grants (functions with the preview prefix only, PassRole on the preview role only,
to Lambda only, no CloudFormation or IAM write) and previews:control on the route functions."""

from __future__ import annotations

import json

import pytest

from infra import grants
from infra.previews import MAX_PREFIX, function_prefix
from infra.settings import WORKFLOWS_DIR
from kiln.routes import ROUTES, WORKERS, WORKFLOWS

from .conftest import Synth
from .test_stack import actions, function_key, functions, join, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

PREVIEW = next(w for w in WORKFLOWS if w.name == grants.PREVIEW_WORKFLOW)
DEPLOYERS = {w.handler_ref for w in WORKERS if "previews:deploy" in w.grants}
CONTROLLERS = {function_key(r) for r in ROUTES if "previews:control" in r.grants}


def preview_role(synth: Synth) -> tuple[str, dict]:
    [found] = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.root["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role" and "grants nothing" in resource["Properties"].get("Description", "")
    ]
    return found


def test_the_preview_workflow_runs_the_three_preview_workers(main: Synth) -> None:
    [machine] = [
        resource["Properties"]
        for resource in main.root["Resources"].values()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
        and set(resource["Properties"]["DefinitionSubstitutions"]) == set(PREVIEW.functions)
    ]
    by_logical_id = {logical_id: props for _, logical_id, props in functions(main).values()}
    invoked = {
        by_logical_id[target["Fn::GetAtt"][0]]["Handler"] for target in machine["DefinitionSubstitutions"].values()
    }
    assert invoked == DEPLOYERS
    definition = json.loads((WORKFLOWS_DIR / PREVIEW.asl_file).read_text())
    states = definition["States"]
    # Torn down at expiresAt by the workflow itself: a Wait, then the teardown.
    assert states["UntilExpiry"] == {"Type": "Wait", "TimestampPath": "$.expiresAt", "Next": "TeardownExpired"}
    assert any(r["ErrorEquals"] == ["PreviewNotReady"] for r in states["WaitUntilAnswering"]["Retry"])
    assert states["Create"]["Catch"][0]["Next"] == "RecordFailure"


def test_the_preview_role_trusts_lambda_and_grants_nothing(main: Synth) -> None:
    logical_id, role = preview_role(main)
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    # ... and no policy anywhere in the app is attached to it afterwards.
    for _, resource in main.resources("AWS::IAM::Policy").values():
        assert {"Ref": logical_id} not in resource["Properties"].get("Roles", []), resource


def test_only_the_preview_workers_deploy_and_only_prefixed_functions_with_the_preview_role(main: Synth) -> None:
    role_id, _ = preview_role(main)
    prefix = function_prefix(main.stack.stack_name)
    found = set()
    for handler, (stack, _, props) in functions(main).items():
        statements = role_statements(main, stack, props)
        lambda_write = {a for a in actions(statements) if a.startswith("lambda:") and a != "lambda:InvokeFunction"}
        passes = [s for s in statements if "iam:PassRole" in actions([s])]
        text = json.dumps(statements)
        assert "cloudformation:" not in text, handler
        assert not any(a.startswith("iam:") and a != "iam:PassRole" for a in actions(statements)), handler
        if handler not in DEPLOYERS:
            assert not lambda_write and not passes, handler
            continue
        found.add(handler)
        [functions_statement] = [s for s in statements if s.get("Sid") == "PreviewFunctions"]
        assert set(actions([functions_statement])) == set(grants.PREVIEW_FUNCTION_ACTIONS)
        assert join(functions_statement["Resource"]).endswith(f":function:{prefix}*")
        assert lambda_write == set(grants.PREVIEW_FUNCTION_ACTIONS)
        [pass_role] = passes
        assert pass_role["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
        assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
        env = props["Environment"]["Variables"]
        assert env["KILN_PREVIEW_FUNCTION_PREFIX"] == prefix
        assert env["KILN_PREVIEW_ROLE_ARN"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert found == DEPLOYERS == {f"kiln.workers.preview_{n}.handler" for n in ("create", "wait", "teardown")}


def test_previews_control_starts_and_stops_the_preview_workflow_only(main: Synth) -> None:
    seen = set()
    for handler, (stack, _, props) in functions(main).items():
        statements = role_statements(main, stack, props)
        sids = {s.get("Sid") for s in statements}
        if handler not in CONTROLLERS:
            assert not {"PreviewsStart", "PreviewsStop"} & sids, handler
            continue
        seen.add(handler)
        [start] = [s for s in statements if s.get("Sid") == "PreviewsStart"]
        [stop] = [s for s in statements if s.get("Sid") == "PreviewsStop"]
        assert start["Action"] == "states:StartExecution" and stop["Action"] == "states:StopExecution"
        assert ":execution:" in join(stop["Resource"]) and join(stop["Resource"]).endswith(":*")
    assert seen == CONTROLLERS and len(seen) == 2


@pytest.mark.parametrize("stack_name", ["Kiln", "a" * 200, "My.Stack"])
def test_every_preview_function_name_fits_lambdas_limit(stack_name: str) -> None:
    prefix = function_prefix(stack_name)
    assert len(prefix) <= MAX_PREFIX and prefix.endswith("-preview-")
    assert len(prefix + "dep_" + "0" * 26) <= 64
    assert all(c.isalnum() or c in "-_" for c in prefix)

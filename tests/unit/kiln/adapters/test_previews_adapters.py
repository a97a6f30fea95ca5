"""The preview adapters on moto: the DynamoDB store's slots and transitions, and the Lambda
deployer's function (prefix, role, tags, public URL with both permissions) and its teardown."""

from __future__ import annotations

import io
import itertools
import json
import zipfile

import boto3
import pytest

from kiln import ids
from kiln.adapters.dynamodb.previews import DeploymentItems
from kiln.adapters.preview_lambda import HANDLER, LambdaPreviewDeployer, package
from kiln.domain.previews import Deployment, DeploymentStatus, PreviewLimitReached, PreviewSpec

WS = ids.new_id("workspace")
PROJECT = ids.new_id("project")
PREFIX = "kiln-test-preview-"


_made = itertools.count(1_764_000_000_000)


def _deployment() -> Deployment:
    return Deployment(
        id=ids.new_id("deployment", next(_made)),  # one millisecond apart: ids sort by creation
        projectId=PROJECT,
        runId=ids.new_id("run"),
        status=DeploymentStatus.DEPLOYING,
        provider="aws-lambda",
        createdAt="2026-01-01T00:00:00.000Z",
        updatedAt="2026-01-01T00:00:00.000Z",
        expiresAt="2026-01-02T00:00:00.000Z",
    )


def test_the_store_bounds_running_previews_and_finishing_twice_frees_one_slot(cloud):
    store = DeploymentItems()
    first, second = _deployment(), _deployment()
    store.create(WS, first, limit=1)
    with pytest.raises(PreviewLimitReached):
        store.create(WS, second, limit=1)
    assert store.get(WS, PROJECT, second.id) is None

    assert store.mark_live(WS, PROJECT, first.id, "https://x.lambda-url.us-east-1.on.aws/", "2026-01-01T00:00:01.000Z")
    assert not store.mark_live(WS, PROJECT, first.id, "https://other/", "2026-01-01T00:00:02.000Z")
    live = store.get(WS, PROJECT, first.id)
    assert live is not None and live.status is DeploymentStatus.LIVE and live.url.startswith("https://x.")

    changes = {
        "stoppedAt": "2026-01-01T00:01:00.000Z",
        "stopReason": "deleted",
        "updatedAt": "2026-01-01T00:01:00.000Z",
    }
    assert store.finish(WS, PROJECT, first.id, DeploymentStatus.STOPPED, changes)
    assert not store.finish(WS, PROJECT, first.id, DeploymentStatus.FAILED, {"failureReason": "late"})
    stopped = store.get(WS, PROJECT, first.id)
    assert stopped is not None and stopped.status is DeploymentStatus.STOPPED and stopped.failureReason is None

    store.create(WS, second, limit=1)  # the slot came back exactly once
    third = _deployment()
    with pytest.raises(PreviewLimitReached):
        store.create(WS, third, limit=1)
    assert [d.id for d in store.list(WS, PROJECT)] == [second.id, first.id]  # newest first
    raw = boto3.client("dynamodb").get_item(
        TableName="kiln-unit", Key={"pk": {"S": f"WS#{WS}"}, "sk": {"S": f"DEPLOY#{PROJECT}#{first.id}"}}
    )["Item"]
    assert "expiresAtEpoch" in raw and "slotHeld" not in raw  # ended: removed by TTL later


@pytest.fixture
def preview_role(cloud) -> str:
    iam = boto3.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return iam.create_role(RoleName="kiln-preview", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def test_the_lambda_deployer_creates_a_tagged_prefixed_function_with_a_public_url(preview_role):
    answers: list[str] = []
    deployer = LambdaPreviewDeployer(PREFIX, preview_role, probe=lambda url: answers.append(url) or 404)
    deployment_id = ids.new_id("deployment")
    spec = PreviewSpec(
        deployment_id=deployment_id,
        workspace_id=WS,
        project_id=PROJECT,
        run_id="run_1",
        expires_at="2026-01-02T00:00:00.000Z",
        files={"app/lambda_handler.py": b"def handler(event, context):\n    return {}\n"},
    )
    url = deployer.deploy(spec)
    assert url.startswith("https://")
    lam = boto3.client("lambda")
    name = PREFIX + deployment_id
    function = lam.get_function(FunctionName=name)
    configuration = function["Configuration"]
    assert configuration["Role"] == preview_role and configuration["Handler"] == HANDLER
    assert function["Tags"] == {
        "kiln:project": PROJECT,
        "kiln:run": "run_1",
        "kiln:expires-at": "2026-01-02T00:00:00.000Z",
        "kiln:deployment": deployment_id,
    }
    assert lam.get_function_url_config(FunctionName=name)["AuthType"] == "NONE"
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert sorted(s["Action"] for s in policy["Statement"]) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]

    # A retried step finds the function and updates it instead of failing.
    assert deployer.deploy(spec).startswith("https://")
    # A 404 from the generated service is the service answering.
    assert deployer.check(deployment_id, url).state == "ready" and answers[-1] == url

    deployer.teardown(deployment_id)
    deployer.teardown(deployment_id)  # nothing left to remove is not an error
    assert deployer.check(deployment_id, url).state == "failed"


@pytest.mark.parametrize(
    ("status", "state"), [(None, "starting"), (403, "starting"), (502, "starting"), (200, "ready")]
)
def test_the_lambda_deployer_waits_for_the_url_to_answer(preview_role, status, state):
    deployer = LambdaPreviewDeployer(PREFIX, preview_role, probe=lambda url: status)
    spec = PreviewSpec(ids.new_id("deployment"), WS, PROJECT, "run_1", "2026-01-02T00:00:00.000Z", {"a.py": b""})
    url = deployer.deploy(spec)
    assert deployer.check(spec.deployment_id, url).state == state


def test_the_package_is_a_deterministic_zip_of_the_tree():
    files = {"b/c.py": b"x", "a.py": b"y"}
    data = package(files)
    assert data == package(dict(reversed(files.items())))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["a.py", "b/c.py"] and archive.read("b/c.py") == b"x"

"""Deploy previews through their handlers, with moto behind the table and the repository.

The preview workflow is a recording fake and the provider a FakeDeployer; the test drives the
workflow's steps (PreviewSteps) itself, so every state is observed through the API. The state
machine and the local provider run in tests/integration/test_previews_api.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from kiln import services
from kiln.domain.build_steps import BuildSteps, RunRef, run_sequentially
from kiln.domain.previews import PreviewRef, Readiness
from kiln.handlers import deployments_create, deployments_delete, deployments_get, deployments_list
from tests.fakes import FakeDeployer, FakeWorkflow
from tests.unit.conftest import principal_context
from tests.unit.kiln.handlers.test_runs import TwoTasks, approved_project, call, passing, start

pytestmark = pytest.mark.usefixtures("cloud")

WORKSPACE = principal_context()["workspaceId"]
FREE = principal_context(tier="free")
OTHER_WORKSPACE = principal_context(workspace_id="ws_01m885m8rskqxxjknrtpgbxzzz")


@pytest.fixture
def world():
    deployer = FakeDeployer()
    previews = FakeWorkflow()
    root = services.use(
        services.build(build_workflow=FakeWorkflow(), preview_workflow=previews, preview_deployers=lambda p: deployer)
    )
    generator = TwoTasks()
    steps = BuildSteps(root.run_store, root.event_store, root.repository, lambda: generator, passing)

    class World:
        def __init__(self) -> None:
            self.deployer, self.workflow, self.root = deployer, previews, root

        def built(self) -> tuple[str, str]:
            project_id = approved_project()
            run_id = start(project_id)[1]["data"]["id"]
            assert run_sequentially(steps, RunRef(WORKSPACE, project_id, run_id)) == {"status": "succeeded"}
            return project_id, run_id

        def drive_to_live(self, project_id: str, deployment_id: str) -> None:
            payload = dict(self.workflow.started)[deployment_id]
            ref = PreviewRef(WORKSPACE, project_id, deployment_id, payload["provider"])
            url = self.root.preview_steps.create(ref, payload["commit"])["url"]
            assert self.root.preview_steps.wait(ref, url) == {"status": "live"}

    return World()


def deploy(project_id: str, body: dict, **kwargs: Any) -> tuple[int, dict]:
    return call(deployments_create, "POST", "/deploy", project_id, body=body, **kwargs)


def get(project_id: str, deployment_id: str, **kwargs: Any) -> tuple[int, dict]:
    extra = {"deploymentId": deployment_id}
    return call(deployments_get, "GET", "/deployments/{deploymentId}", project_id, extra, **kwargs)


def test_deploy_answers_202_then_the_preview_goes_live_is_listed_and_stops_on_delete(world):
    project_id, run_id = world.built()
    status, body = deploy(project_id, {"runId": run_id})
    assert status == 202, body
    started = body["data"]
    assert started["status"] == "deploying" and started["provider"] == "local"
    deployment_id = started["deploymentId"]
    assert get(project_id, deployment_id)[1]["data"]["url"] is None

    world.drive_to_live(project_id, deployment_id)
    status, body = get(project_id, deployment_id)
    assert status == 200 and body["data"]["status"] == "live"
    assert body["data"]["url"] == f"https://{deployment_id}.preview.example"
    assert set(world.deployer.deployed[deployment_id].files) == {"a.txt", "b.txt"}  # the run's merged tree

    status, body = call(deployments_list, "GET", "/deployments", project_id)
    assert status == 200 and [d["id"] for d in body["data"]] == [deployment_id]
    assert body["pagination"]["total"] == 1

    extra = {"deploymentId": deployment_id}
    status, body = call(deployments_delete, "DELETE", "/deployments/{deploymentId}", project_id, extra)
    assert status == 200 and body["data"]["status"] == "stopped" and body["data"]["stopReason"] == "deleted"
    assert world.workflow.stopped == [deployment_id]
    assert f"{deployment_id}-teardown" in world.workflow.names


def test_the_free_tier_has_one_preview_at_once(world):
    project_id, run_id = world.built()
    assert deploy(project_id, {"runId": run_id}, authorizer=FREE)[0] == 202
    status, body = deploy(project_id, {"runId": run_id}, authorizer=FREE)
    assert status == 429 and body["error"]["code"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert body["error"]["details"]["limit"] == 1
    assert len(call(deployments_list, "GET", "/deployments", project_id)[1]["data"]) == 1


def test_bad_requests_are_refused_and_change_nothing(world):
    project_id, run_id = world.built()
    for body, code in (
        ({}, "VALIDATION_ERROR"),
        ({"runId": "not-a-run"}, "VALIDATION_ERROR"),
        ({"runId": run_id, "provider": "aws-lambda"}, "VALIDATION_ERROR"),  # not offered locally
        ({"runId": run_id, "provider": "heroku"}, "VALIDATION_ERROR"),
        ({"runId": run_id, "extra": 1}, "VALIDATION_ERROR"),
    ):
        status, answer = deploy(project_id, body)
        assert (status, answer["error"]["code"]) == (400, code), body
    other_project = approved_project()  # approved, never built: its runs are not this one
    status, answer = deploy(other_project, {"runId": run_id})
    assert status == 404 and answer["error"]["details"]["resource"] == "run"
    assert world.workflow.started == []


def test_another_workspace_sees_nothing(world):
    project_id, run_id = world.built()
    deployment_id = deploy(project_id, {"runId": run_id})[1]["data"]["deploymentId"]
    status, body = get(project_id, deployment_id, authorizer=OTHER_WORKSPACE)
    assert status == 404
    status, body = deploy(project_id, {"runId": run_id}, authorizer=OTHER_WORKSPACE)
    assert status == 404 and body["error"]["details"]["resource"] == "project"


def test_a_failed_preview_says_why(world):
    project_id, run_id = world.built()
    deployment_id = deploy(project_id, {"runId": run_id})[1]["data"]["deploymentId"]
    payload = dict(world.workflow.started)[deployment_id]
    ref = PreviewRef(WORKSPACE, project_id, deployment_id, "local")
    world.root.preview_steps.create(ref, payload["commit"])
    world.deployer.readiness = Readiness("failed", "the preview process exited with 1:\nSyntaxError")
    error = {"Error": "PreviewFailed", "Cause": '{"errorMessage": "the preview process exited with 1:\\nSyntaxError"}'}
    world.root.preview_steps.teardown(ref, "failed", error)
    body = get(project_id, deployment_id)[1]["data"]
    assert body["status"] == "failed" and body["failureReason"].endswith("SyntaxError")

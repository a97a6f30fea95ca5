"""Deploy previews on fakes: the API side (create, list, get, stop), the tier's bound, and the
workflow's steps (create, wait, teardown) with their races against DELETE."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from kiln import ids
from kiln.domain.previews import (
    DeploymentCreate,
    DeploymentStatus,
    PreviewFailed,
    PreviewNotReady,
    PreviewRef,
    PreviewService,
    PreviewSteps,
    Readiness,
    failure_reason,
    tail,
)
from kiln.domain.repository import Author
from kiln.domain.table_changes import TableChange
from kiln.domain.workspace_events import EVENT_TYPES, events_from
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import (
    FakeClock,
    FakeDeployer,
    FakeDeployments,
    FakeProjects,
    FakeRepositories,
    FakeRuns,
    FakeSpecs,
    FakeWorkflow,
)

WS = ids.new_id("workspace")
PROJECT = ids.new_id("project")


class World:
    def __init__(self, providers: tuple[str, ...] = ("local",)) -> None:
        self.clock = FakeClock()
        self.store = FakeDeployments()
        self.workflow = FakeWorkflow()
        projects = FakeProjects()
        self.runs = FakeRuns(projects, FakeSpecs(projects))
        self.repositories = FakeRepositories(clock=self.clock)
        self.deployer = FakeDeployer()
        self.service = PreviewService(
            self.store, self.workflow, self.runs, self.clock, ttl=timedelta(hours=24), providers=providers
        )
        self.steps = PreviewSteps(self.store, lambda provider: self.deployer, self.repositories, self.clock)

    def succeeded_run(self, files: dict[str, bytes] | None = None, status: str = "succeeded") -> str:
        repository = self.repositories(WS, PROJECT)
        blobs = {path: repository.store_blob(content) for path, content in (files or {"app/x.py": b"x = 1\n"}).items()}
        commit = repository.commit_files(blobs, "merge", Author("Kiln", "kiln@example.com"))
        run_id = ids.new_id("run")
        self.runs.items[(WS, PROJECT, run_id)] = {"status": status, "mergeCommit": commit.id, "runNumber": 1}
        return run_id

    def deploy(self, run_id: str, limit: int = 5, provider: str | None = None):
        return self.service.create(WS, PROJECT, DeploymentCreate(runId=run_id, provider=provider), limit)

    def ref(self, deployment_id: str) -> PreviewRef:
        return PreviewRef(WS, PROJECT, deployment_id, "local")


def test_create_stores_a_deploying_preview_and_starts_its_workflow():
    world = World()
    run_id = world.succeeded_run()
    deployment = world.deploy(run_id)
    assert deployment.status is DeploymentStatus.DEPLOYING
    assert deployment.provider == "local"  # the one offered, by default
    assert deployment.url is None
    asked = world.clock() - timedelta(milliseconds=1)  # the fake clock steps 1 ms per reading
    expires = datetime.fromisoformat(deployment.expiresAt.replace("Z", "+00:00"))
    assert deployment.expiresAt.endswith(".000Z")  # a whole second: the workflow's Wait reads seconds
    assert timedelta(hours=24) <= expires - asked < timedelta(hours=24, seconds=1)
    name, payload = world.workflow.started[0]
    assert name == deployment.id
    commit = world.runs.items[(WS, PROJECT, run_id)]["mergeCommit"]
    assert payload == {
        "action": "deploy",
        "workspaceId": WS,
        "projectId": PROJECT,
        "deploymentId": deployment.id,
        "runId": run_id,
        "provider": "local",
        "expiresAt": deployment.expiresAt,
        "commit": commit,
    }
    assert world.service.list(WS, PROJECT) == [deployment]


@pytest.mark.parametrize("status", ["running", "failed", "cancelled"])
def test_only_a_succeeded_run_deploys_and_a_refusal_changes_nothing(status):
    world = World()
    run_id = world.succeeded_run(status=status)
    with pytest.raises(KilnError) as caught:
        world.deploy(run_id)
    assert caught.value.code is ErrorCode.CONFLICT
    assert caught.value.details == {"currentStatus": status, "allowedFrom": ["succeeded"]}
    assert world.store.items == {} and world.workflow.started == [] and world.store.slots == {}


def test_an_unknown_run_is_a_404_and_an_unoffered_provider_a_400():
    world = World()
    with pytest.raises(KilnError) as missing:
        world.deploy(ids.new_id("run"))
    assert missing.value.code is ErrorCode.NOT_FOUND and missing.value.details["resource"] == "run"
    with pytest.raises(KilnError) as unoffered:
        world.deploy(world.succeeded_run(), provider="aws-lambda")
    assert unoffered.value.code is ErrorCode.VALIDATION_ERROR
    assert unoffered.value.details["fields"][0]["field"] == "provider"
    assert world.store.items == {}


def test_a_run_id_of_another_kind_is_refused_by_the_body_model():
    with pytest.raises(ValueError, match="runId is not a run id"):
        DeploymentCreate(runId=PROJECT)


def test_the_tier_bounds_previews_running_at_once_and_an_ended_one_frees_its_slot():
    world = World()
    run_id = world.succeeded_run()
    first = world.deploy(run_id, limit=1)
    with pytest.raises(KilnError) as caught:
        world.deploy(run_id, limit=1)
    assert caught.value.code is ErrorCode.CONCURRENCY_LIMIT_EXCEEDED
    assert caught.value.details["limit"] == 1 and caught.value.headers == {"Retry-After": "60"}
    assert len(world.store.items) == 1
    world.service.stop(WS, PROJECT, first.id)
    second = world.deploy(run_id, limit=1)
    assert second.status is DeploymentStatus.DEPLOYING
    assert world.store.slots[WS] == 1


def test_a_workflow_that_cannot_start_fails_the_preview_and_frees_its_slot():
    world = World()
    world.workflow.fail_next("start", RuntimeError("throttled"))
    with pytest.raises(RuntimeError):
        world.deploy(world.succeeded_run())
    (stored,) = world.store.items.values()
    assert stored.status is DeploymentStatus.FAILED
    assert world.store.slots[WS] == 0


def test_stop_answers_stopped_at_once_stops_the_workflow_and_starts_the_teardown():
    world = World()
    deployment = world.deploy(world.succeeded_run())
    stopped = world.service.stop(WS, PROJECT, deployment.id)
    assert stopped.status is DeploymentStatus.STOPPED and stopped.stopReason == "deleted" and stopped.stoppedAt
    assert world.workflow.stopped == [deployment.id]
    assert world.workflow.started[1] == (
        f"{deployment.id}-teardown",
        {
            "action": "teardown",
            "workspaceId": WS,
            "projectId": PROJECT,
            "deploymentId": deployment.id,
            "runId": deployment.runId,
            "provider": "local",
            "expiresAt": deployment.expiresAt,
        },
    )
    again = world.service.stop(WS, PROJECT, deployment.id)
    assert again == stopped and len(world.workflow.started) == 2 and world.store.slots[WS] == 0


def test_get_and_stop_of_an_unknown_deployment_are_404s():
    world = World()
    for call in (world.service.get, world.service.stop):
        with pytest.raises(KilnError) as caught:
            call(WS, PROJECT, ids.new_id("deployment"))
        assert caught.value.code is ErrorCode.NOT_FOUND


# --- the workflow's steps -------------------------------------------------------------------------


def test_the_steps_deploy_the_runs_tree_go_live_then_stop_at_expiry():
    world = World()
    tree = {"app/server.py": b"print('hi')\n", "README.md": b"# x\n"}
    deployment = world.deploy(world.succeeded_run(tree))
    commit = world.workflow.started[0][1]["commit"]
    ref = world.ref(deployment.id)

    created = world.steps.create(ref, commit)
    spec = world.deployer.deployed[deployment.id]
    assert spec.files == tree and spec.expires_at == deployment.expiresAt and spec.run_id == deployment.runId
    assert created == {"url": f"https://{deployment.id}.preview.example", "status": "deploying"}

    world.deployer.readiness = Readiness("starting", "connection refused")
    with pytest.raises(PreviewNotReady, match="connection refused"):
        world.steps.wait(ref, created["url"])
    assert world.service.get(WS, PROJECT, deployment.id).status is DeploymentStatus.DEPLOYING

    world.deployer.readiness = Readiness("ready")
    assert world.steps.wait(ref, created["url"]) == {"status": "live"}
    live = world.service.get(WS, PROJECT, deployment.id)
    assert live.status is DeploymentStatus.LIVE and live.url == created["url"]

    assert world.steps.teardown(ref, "expired") == {"status": "stopped"}
    ended = world.service.get(WS, PROJECT, deployment.id)
    assert ended.status is DeploymentStatus.STOPPED and ended.stopReason == "expired"
    assert world.deployer.deployed == {} and world.store.slots[WS] == 0


def test_a_preview_that_never_answers_fails_with_the_reason_the_provider_gives():
    world = World()
    deployment = world.deploy(world.succeeded_run())
    ref = world.ref(deployment.id)
    url = world.steps.create(ref, world.workflow.started[0][1]["commit"])["url"]
    world.deployer.readiness = Readiness("failed", "exited with 1:\nImportError: no module named app.server")
    with pytest.raises(PreviewFailed) as caught:
        world.steps.wait(ref, url)
    # What Step Functions hands the Catch: the Lambda error document as the Cause.
    document = {"errorType": "PreviewFailed", "errorMessage": str(caught.value)}
    assert world.steps.teardown(ref, "failed", {"Error": "PreviewFailed", "Cause": json.dumps(document)}) == {
        "status": "failed"
    }
    failed = world.service.get(WS, PROJECT, deployment.id)
    assert failed.status is DeploymentStatus.FAILED
    assert failed.failureReason == "exited with 1:\nImportError: no module named app.server"
    assert deployment.id in world.deployer.torn_down and world.store.slots[WS] == 0


def test_a_delete_during_deployment_wins_and_the_steps_tear_down_what_they_made():
    world = World()
    deployment = world.deploy(world.succeeded_run())
    ref = world.ref(deployment.id)
    url = world.steps.create(ref, world.workflow.started[0][1]["commit"])["url"]
    # DELETE lands between the readiness check and the move to live.
    world.store.before("mark_live", lambda: world.service.stop(WS, PROJECT, deployment.id))
    assert world.steps.wait(ref, url) == {"status": "stopped"}
    assert world.service.get(WS, PROJECT, deployment.id).status is DeploymentStatus.STOPPED
    assert deployment.id not in world.deployer.deployed

    # A create step that starts after the DELETE deploys nothing at all.
    other = world.deploy(world.succeeded_run())
    world.service.stop(WS, PROJECT, other.id)
    assert world.steps.create(world.ref(other.id), "0" * 40) == {"url": None, "status": "stopped"}
    assert other.id not in world.deployer.deployed
    # ... and the teardown that follows records nothing twice.
    assert world.steps.teardown(world.ref(other.id), "deleted") == {"status": "unchanged"}
    assert world.store.slots[WS] == 0


def test_failure_reason_reads_the_lambda_error_document_and_keeps_the_end_of_long_text():
    assert failure_reason({"Error": "States.Timeout", "Cause": ""}) == "States.Timeout"
    assert failure_reason({"Error": "X", "Cause": "not json"}) == "not json"
    long = failure_reason({"Error": "X", "Cause": json.dumps({"errorMessage": "a" * 5000 + "END"})})
    assert len(long) == 2000 and long.endswith("END")
    assert tail("\n".join(str(n) for n in range(50)) + "\n\n", 3) == "47\n48\n49"


# --- events ---------------------------------------------------------------------------------------


def _change(old: dict | None, new: dict | None, kind: str = "modify") -> TableChange:
    return TableChange(
        kind=kind,  # type: ignore[arg-type]
        pk=f"WS#{WS}",
        sk=f"DEPLOY#{PROJECT}#dep_1",
        sequence="1",
        at="2026-01-01T00:00:00.000Z",
        new=new,
        old=old,
    )


@pytest.mark.parametrize("status", ["live", "failed", "stopped"])
def test_each_end_state_of_a_deployment_is_a_workspace_event(status):
    new = {"id": "dep_1", "projectId": PROJECT, "runId": "run_1", "status": status, "provider": "local", "url": "u"}
    (event,) = events_from(_change({**new, "status": "deploying"}, new))
    assert event.type == f"deployment.{status}" and event.type in EVENT_TYPES
    assert event.data["deploymentId"] == "dep_1" and event.data["status"] == status
    assert events_from(_change(new, {**new, "updatedAt": "later"})) == []  # no move, no event
    assert events_from(_change(None, {**new, "status": "deploying"}, kind="insert")) == []

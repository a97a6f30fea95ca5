"""Deploy previews over HTTP against a local cloud: a project built to a succeeded run, its
service deployed as a `local` preview, one of the spec's routes called through the preview URL,
the list, DELETE and the URL going quiet; a preview left to expire; and the local cloud taking
its previews down with it when it stops.

The cloud runs previews with KILN_PREVIEW_TTL_SECONDS=45, so expiry is seen in under a minute
(the same workflow definition waits 24 hours when deployed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from tests.integration.conftest import LocalCloudProcess
from tests.integration.test_spec_workflow import _spec_review

pytestmark = [pytest.mark.integration]

TTL_SECONDS = 45
# A small project (five build tasks): its spec's ROUTES.md has POST /notes and GET /notes/{noteId},
# and DATA.md requires a note's title, body, pinned and owner_id.
DESCRIPTION = "A tool to keep notes."
NOTE = {
    "title": "Groceries",
    "body": "Milk and bread",
    "pinned": True,
    "owner_id": "5b1f0e1a-8a39-4b8e-9a43-3b0f1f0c2d11",
}
BUILD_SECONDS = 300
LIVE_SECONDS = 90


def _until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"{what} within {seconds} s")


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
        return True
    except requests.ConnectionError:
        return False


@pytest.fixture(scope="module")
def cloud(local_cloud_factory: Callable[..., LocalCloudProcess]) -> Iterator[LocalCloudProcess]:
    cloud = local_cloud_factory(env={"KILN_PREVIEW_TTL_SECONDS": str(TTL_SECONDS)})
    yield cloud
    cloud.stop()  # now rather than at the session's end


@pytest.fixture(scope="module")
def built(cloud: LocalCloudProcess) -> dict[str, str]:
    """A project of DESCRIPTION, built: {projectId, runId}."""
    api = cloud.session()
    project_id = _spec_review(cloud.url, api, DESCRIPTION)
    assert api.post(f"{cloud.url}/v1/projects/{project_id}/approve").status_code == 200
    response = api.post(f"{cloud.url}/v1/projects/{project_id}/runs", json={"trigger": "manual"})
    assert response.status_code == 201, response.text
    run_id = response.json()["data"]["id"]
    run_url = f"{cloud.url}/v1/projects/{project_id}/runs/{run_id}"
    status = _until(
        lambda: (s := api.get(run_url).json()["data"]["status"]) in ("succeeded", "failed", "cancelled") and s,
        BUILD_SECONDS,
        "the run did not finish",
    )
    assert status == "succeeded", api.get(run_url).json()["data"].get("error")
    return {"projectId": project_id, "runId": run_id}


def _deploy(cloud: LocalCloudProcess, api: requests.Session, built: dict[str, str]) -> dict[str, Any]:
    """POST /deploy, then follow Location until the preview is live; its final record."""
    base = f"{cloud.url}/v1/projects/{built['projectId']}"
    response = api.post(f"{base}/deploy", json={"runId": built["runId"]})
    assert response.status_code == 202, response.text
    started = response.json()["data"]
    assert started["status"] == "deploying" and started["provider"] == "local"
    assert response.headers["Location"] == f"/v1/projects/{built['projectId']}/deployments/{started['deploymentId']}"

    def live() -> dict[str, Any] | None:
        deployment = api.get(cloud.url + response.headers["Location"]).json()["data"]
        assert deployment["status"] in ("deploying", "live"), deployment
        return deployment if deployment["status"] == "live" else None

    return _until(live, LIVE_SECONDS, "the preview was not live")


def test_a_built_run_deploys_answers_its_spec_is_listed_and_stops_on_delete(cloud, built):
    api = cloud.session()
    base = f"{cloud.url}/v1/projects/{built['projectId']}"
    deployment = _deploy(cloud, api, built)
    assert deployment["runId"] == built["runId"] and deployment["provider"] == "local"
    url = deployment["url"]
    assert url.startswith("http://127.0.0.1:")
    assert deployment["createdAt"] < deployment["expiresAt"]

    # ROUTES.md says the service creates and reads notes, DATA.md which fields a note needs.
    documents = api.get(f"{base}/spec").json()["data"]["spec"]["documents"]
    assert "| POST | `/notes` |" in documents["ROUTES.md"] and "| GET | `/notes/{noteId}` |" in documents["ROUTES.md"]
    assert "| title | string | yes |" in documents["DATA.md"]
    created = requests.post(f"{url}/notes", json=NOTE, timeout=10)
    assert created.status_code == 201, created.text
    note = created.json()
    assert {k: note[k] for k in NOTE} == NOTE and note["id"] and note["created_at"]
    fetched = requests.get(f"{url}/notes/{note['id']}", timeout=10)
    assert fetched.status_code == 200 and fetched.json() == note
    refused = requests.post(f"{url}/notes", json={"body": "no title"}, timeout=10)
    assert refused.status_code == 400
    assert {d["field"] for d in refused.json()["error"]["details"]} == {"title", "pinned", "owner_id"}

    listed = api.get(f"{base}/deployments")
    assert listed.status_code == 200
    assert listed.json()["data"][0]["id"] == deployment["id"]  # newest first

    deleted = api.delete(f"{base}/deployments/{deployment['id']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"]["status"] == "stopped" and deleted.json()["data"]["stopReason"] == "deleted"
    _until(lambda: not _answers(f"{url}/teams"), 20, "the preview URL still answered after DELETE")
    again = api.delete(f"{base}/deployments/{deployment['id']}")
    assert again.status_code == 200 and again.json()["data"]["status"] == "stopped"
    assert api.get(f"{base}/deployments/{deployment['id']}").json()["data"]["status"] == "stopped"


def test_bad_deploy_requests_get_catalog_errors_and_change_nothing(cloud, built):
    api = cloud.session()
    base = f"{cloud.url}/v1/projects/{built['projectId']}"
    before = api.get(f"{base}/deployments").json()["data"]
    not_a_run = api.post(f"{base}/deploy", json={"runId": "nope"})
    assert not_a_run.status_code == 400 and not_a_run.json()["error"]["code"] == "VALIDATION_ERROR"
    unoffered = api.post(f"{base}/deploy", json={"runId": built["runId"], "provider": "aws-lambda"})
    assert unoffered.status_code == 400
    assert unoffered.json()["error"]["details"]["fields"][0]["field"] == "provider"
    unknown = api.post(f"{base}/deploy", json={"runId": "run_" + "0" * 26})
    assert unknown.status_code == 404 and unknown.json()["error"]["details"]["resource"] == "run"
    missing = api.get(f"{base}/deployments/dep_{'0' * 26}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    assert api.get(f"{base}/deployments").json()["data"] == before


def test_a_preview_tears_itself_down_when_it_expires(cloud, built):
    api = cloud.session()
    deployment = _deploy(cloud, api, built)
    assert _answers(deployment["url"])
    location = f"{cloud.url}/v1/projects/{built['projectId']}/deployments/{deployment['id']}"
    ended = _until(
        lambda: (d := api.get(location).json()["data"])["status"] == "stopped" and d,
        TTL_SECONDS + 60,
        "the preview did not expire",
    )
    assert ended["stopReason"] == "expired"
    # The local interpreter's Wait counts whole seconds (it truncates), so it may end up to 1 s early.
    assert _moment(ended["stoppedAt"]) >= _moment(deployment["expiresAt"]) - timedelta(seconds=1)
    assert not _answers(deployment["url"])


def test_stopping_the_local_cloud_stops_its_previews(cloud, built):
    deployment = _deploy(cloud, cloud.session(), built)
    assert _answers(deployment["url"])
    assert cloud.stop() == 0
    assert not _answers(deployment["url"])

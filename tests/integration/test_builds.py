"""A build over HTTP against the local cloud: description -> approved spec -> run, followed
through the SSE stream to RUN_COMPLETED; then the generated code is read back from `main`
through the files API and its own test suite is run here."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.integration.test_spec_workflow import EXAMPLE, _spec_review

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

STREAM_DEADLINE_SECONDS = 240


def follow(session: requests.Session, url: str) -> list[dict]:
    """What an EventSource does: read, remember the last id, reconnect after `retry`, stop on 204."""
    seen: list[dict] = []
    last_id = None
    deadline = time.monotonic() + STREAM_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        headers = {"Accept": "text/event-stream"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        response = session.get(url, headers=headers, timeout=60)
        if response.status_code == 204:
            return seen
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/event-stream")
        for block in response.text.split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
            )
            if "id" in fields:
                last_id = fields["id"]
                seen.append({"id": int(fields["id"]), "event": fields["event"], "data": fields["data"]})
    raise AssertionError(f"the run did not finish within {STREAM_DEADLINE_SECONDS} s; events: {seen}")


def download(session: requests.Session, base: str, directory: str = "/") -> dict[str, str]:
    listing = session.get(f"{base}/files", params={"ref": "main", "path": directory})
    assert listing.status_code == 200, listing.text
    files: dict[str, str] = {}
    for entry in listing.json()["data"]["entries"]:
        path = f"{directory.rstrip('/')}/{entry['name']}".lstrip("/")
        if entry["type"] == "directory":
            files.update(download(session, base, "/" + path))
        else:
            body = session.get(f"{base}/files/{path}", params={"ref": "main"}).json()["data"]
            assert body["encoding"] == "utf-8"
            files[path] = body["content"]
    return files


def test_example_project_builds_to_a_working_service(local_cloud, api, tmp_path: Path):
    url = local_cloud.url
    project_id = _spec_review(url, api, EXAMPLE)
    assert api.post(f"{url}/v1/projects/{project_id}/approve").status_code == 200

    response = api.post(f"{url}/v1/projects/{project_id}/runs", json={"trigger": "manual"})
    assert response.status_code == 201, response.text
    run = response.json()["data"]
    assert run["runNumber"] == 1 and run["status"] == "decomposing"
    assert response.headers["Location"] == f"/v1/projects/{project_id}/runs/{run['id']}"

    events = follow(api, f"{url}/v1/projects/{project_id}/runs/{run['id']}/events/stream")
    ids = [e["id"] for e in events]
    assert ids == list(range(1, len(ids) + 1)), "every event once, in order, across reconnects"
    kinds = [e["event"] for e in events]
    assert kinds[0] == "RUN_STARTED" and kinds[-1] == "RUN_COMPLETED", kinds
    assert "VERIFICATION_COMPLETED" in kinds and "FILE_CREATED" in kinds

    detail = api.get(f"{url}/v1/projects/{project_id}/runs/{run['id']}").json()["data"]
    assert detail["status"] == "succeeded"
    assert detail["verificationResult"]["passed"] is True
    assert detail["tasksSummary"]["total"] == detail["tasksSummary"]["succeeded"] >= 3
    tasks = api.get(f"{url}/v1/projects/{project_id}/runs/{run['id']}/tasks").json()["data"]
    assert {t["id"] for t in tasks} == {t["id"] for t in detail["tasks"]}
    assert all(t["branchName"].startswith("feat/task-") for t in tasks)
    assert api.get(f"{url}/v1/projects/{project_id}").json()["data"]["status"] == "built"

    files = download(api, f"{url}/v1/projects/{project_id}")
    assert "README.md" in files and any(p.startswith("tests/test_") for p in files)
    for path, content in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-t", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "OK" in result.stderr

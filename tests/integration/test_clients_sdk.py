"""The Python SDK (clients/python) through a whole project's life against the local cloud:
create, clarify and answer, approve, build followed over SSE to the end, pull the files,
export and download, import the archive back; one create meets an injected 429 and its retry
must reuse the Idempotency-Key, so the project exists once."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiln_client import Kiln, NotFoundError, RetryPolicy
from tests.integration.conftest import LocalCloudProcess
from tests.integration.test_spec_workflow import EXAMPLE

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


def answer_for(question: dict[str, Any]) -> Any:
    if question["type"] == "boolean":
        return True
    if question["type"] == "single_choice":
        return question["options"][0]
    if question["type"] == "multi_choice":
        return question["options"][:2]
    return "Keep the first version small."


class ThrottleOnce(httpx.BaseTransport):
    """Lets the first project creation reach the server, then answers the client a 429 instead
    of the 201 (a throttle or a lost answer): only a retry with the same key avoids a duplicate."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.creations: list[httpx.Request] = []
        self.replayed: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/v1/projects":
            self.creations.append(request)
            self.replayed.append(response.headers.get("Idempotent-Replayed"))
            if len(self.creations) == 1:
                response.read()
                response.close()
                return httpx.Response(429, headers={"Retry-After": "0"}, json={"success": False})
        return response


def test_a_project_from_description_to_imported_copy(local_cloud: LocalCloudProcess, tmp_path: Path) -> None:
    transport = ThrottleOnce()
    kiln = Kiln(local_cloud.admin_key, local_cloud.url, transport=transport, retry=RetryPolicy(initial_delay=0.05))
    name = f"SDK life {tmp_path.name}"
    project = kiln.create_project(name, EXAMPLE)
    assert project.status.value == "draft"

    # The injected 429 was retried with the same key; the server replayed the first creation.
    keys = [request.headers["Idempotency-Key"] for request in transport.creations]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert transport.replayed == [None, "true"]
    assert [p.id for p in kiln.iter_projects(search=name)] == [project.id]

    clarification = kiln.clarify(project.id)
    questions = [question.model_dump() for question in clarification.questions]
    assert questions and all("id" in q and "type" in q for q in questions)
    written = kiln.answer(project.id, [{"questionId": q["id"], "answer": answer_for(q)} for q in questions])
    assert written.model_dump(by_alias=True)["status"] == "spec_review"
    assert "SPEC.md" in kiln.get_spec(project.id).model_dump(by_alias=True)["spec"]["documents"]
    assert kiln.approve(project.id, 1).status.value == "approved"

    run = kiln.create_run(project.id)
    events = list(kiln.follow(project.id, run.id))
    assert [e.id for e in events] == list(range(1, len(events) + 1)), "every event once, in order"
    assert events[0].event_type.value == "RUN_STARTED" and events[-1].event_type.value == "RUN_COMPLETED"
    finished = kiln.wait_for_run(project.id, run.id, timeout=30)
    assert finished.status.value == "succeeded"
    assert finished.verification_result is not None and finished.verification_result.passed
    assert [e.id for e in kiln.iter_events(project.id, run.id, limit=3)] == [e.id for e in events]

    progress: list[tuple[int, int | None]] = []
    pulled = kiln.pull_files(project.id, tmp_path / "tree", progress=lambda done, total: progress.append((done, total)))
    assert (tmp_path / "tree" / "README.md").exists() and len(pulled) == len(progress) >= 3
    assert progress[-1] == (len(pulled), len(pulled))
    assert (tmp_path / "tree" / "README.md").read_bytes() == kiln.read_file(project.id, "README.md")

    archive = tmp_path / "project.zip"
    downloaded: list[int] = []
    kiln.export(project.id, archive, "zip", progress=lambda done, total: downloaded.append(done))
    with zipfile.ZipFile(archive) as zipped:
        assert any(name.endswith("README.md") for name in zipped.namelist())
    assert downloaded and downloaded[-1] == archive.stat().st_size

    uploaded: list[int] = []
    copy = kiln.import_project(archive, name="SDK copy", progress=lambda done, total: uploaded.append(done))
    assert copy.name == "SDK copy" and copy.id != project.id
    assert uploaded[-1] == archive.stat().st_size
    assert kiln.read_file(copy.id, "README.md") == kiln.read_file(project.id, "README.md")

    assert kiln.archive_project(copy.id).model_dump(by_alias=True)["status"] == "archived"
    with pytest.raises(NotFoundError) as missing:
        kiln.get_project("proj_00000000000000000000000000")
    assert missing.value.code == "NOT_FOUND" and missing.value.request_id

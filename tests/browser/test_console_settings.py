"""Developer settings in the browser: OAuth apps and webhooks with their delivery log; and a
build cancelled and retried from its live view."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
import requests

from tests.browser.console import Console
from tests.integration.conftest import LocalCloudProcess

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("browser")]


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/kiln"
    server.shutdown()
    server.server_close()


def test_an_oauth_app_is_registered_listed_and_deleted(console: Console) -> None:
    page = console.page
    console.sign_in()
    console.go("#/oauth")
    page.get_by_role("heading", name="OAuth apps", level=1).wait_for()
    page.get_by_label("Name").fill("Planner")
    page.get_by_label("Redirect URIs").fill("http://127.0.0.1:8765/callback")
    page.get_by_role("button", name="Register app").click()
    card = page.locator("li.card", has_text="Planner")
    card.wait_for()
    assert "http://127.0.0.1:8765/callback" in card.inner_text()
    assert "project:read" in card.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Delete").click()
    card.wait_for(state="detached")


def test_a_webhook_shows_its_secret_once_and_its_delivery_log(console: Console, receiver: str) -> None:
    page = console.page
    console.sign_in()
    console.go("#/webhooks")
    page.get_by_role("heading", name="Webhooks", level=1).wait_for()
    page.get_by_label("URL").fill(receiver)
    page.get_by_role("button", name="Add webhook").click()
    assert page.locator("code.secret").inner_text().startswith("whsec_")
    card = page.locator("li.card", has_text=receiver)
    card.get_by_role("button", name="Send a test event").click()
    delivered = page.locator("tr[data-delivery]", has_text="webhook.test").filter(has_text="HTTP 200")
    delivered.wait_for(timeout=60_000)
    assert delivered.locator('[data-status="succeeded"]').count() == 1
    assert Receiver.received


def answer(question: dict[str, Any]) -> Any:
    """What the README's walk-through answers: the first option, the first two, yes, a sentence."""
    if question["type"] == "single_choice":
        return question["options"][0]
    if question["type"] == "multi_choice":
        return question["options"][:2]
    if question["type"] == "boolean":
        return True
    return "Keep the first version small."


def test_a_build_is_cancelled_and_retried_from_its_live_view(
    console: Console, console_cloud: LocalCloudProcess
) -> None:
    # An approved project, made through the API with the admin key (the person's workspace).
    api = console_cloud.session()
    base = f"{console_cloud.url}/v1/projects"
    project = api.post(base, json={"name": "Cancel Me", "description": "A tiny app for short notes."}, timeout=30)
    project_id = project.json()["data"]["id"]
    questions = api.post(f"{base}/{project_id}/clarify", timeout=60).json()["data"]["questions"]
    answers = [{"questionId": q["id"], "answer": answer(q)} for q in questions]
    assert api.post(f"{base}/{project_id}/answers", json={"answers": answers}, timeout=60).ok
    assert api.post(f"{base}/{project_id}/approve", json={"version": 1}, timeout=60).ok

    page = console.page
    console.sign_in()
    console.go(f"#/projects/{project_id}")
    console.start_build()
    page.get_by_role("button", name="Cancel the build").click()
    console.wait_for_build("cancelled")
    page.get_by_role("button", name="Retry the build").click()
    page.get_by_role("heading", name="Build #2").wait_for()
    runs = requests.get(f"{base}/{project_id}/runs", headers=api.headers, timeout=30).json()["data"]
    assert sorted((run["runNumber"], run["trigger"]) for run in runs) == [(1, "manual"), (2, "retry")]

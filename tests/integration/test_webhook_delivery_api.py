"""Webhook deliveries end to end: the local cloud's table stream -> fan-out -> delivery queue ->
delivery worker -> a receiver on 127.0.0.1, each delivery verified with the reference
`standardwebhooks` package, as a subscriber would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from kiln.domain.workspace_events import RUN_EVENT_TYPES
from tests.integration.test_builds import follow
from tests.integration.test_spec_workflow import EXAMPLE, _spec_review

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

WAIT_SECONDS = 60


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server answering each path with its script of statuses (the last one repeats)."""

    url: str
    scripts: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str, *statuses: int) -> str:
        self.scripts[path] = list(statuses)
        return f"{self.url}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, done: Callable[[list[Received]], bool]) -> list[Received]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            got = self.at(path)
            if done(got):
                return got
            time.sleep(0.1)
        raise AssertionError(f"{path}: received only {[r.json().get('type') for r in self.at(path)]}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            target = state["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with target.lock:
                target.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                script = target.scripts.get(self.path, [204])
                status = script.pop(0) if len(script) > 1 else script[0]
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


def create_webhook(api: requests.Session, base: str, url: str, events: list[str]) -> dict[str, Any]:
    response = api.post(f"{base}/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def verified(secret: str, received: Received) -> dict[str, Any]:
    """The payload, verified as a receiver verifies it: the raw body and the three headers."""
    return Webhook(secret).verify(received.body, received.headers)


def deliveries(api: requests.Session, base: str, webhook_id: str) -> list[dict[str, Any]]:
    response = api.get(f"{base}/v1/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def wait_until(check: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_a_whole_build_arrives_signed(local_cloud, api, receiver):
    base = local_cloud.url
    hook = create_webhook(api, base, receiver.on("/build", 204), ["run.*", "task.*"])
    project_id = _spec_review(base, api, EXAMPLE)
    assert api.post(f"{base}/v1/projects/{project_id}/approve").status_code == 200
    run = api.post(f"{base}/v1/projects/{project_id}/runs", json={"trigger": "manual"}).json()["data"]
    events = follow(api, f"{base}/v1/projects/{project_id}/runs/{run['id']}/events/stream")
    # Every run and task event the run recorded (not FILE_*, VERIFICATION_*, repairs), by its public name.
    expected = sorted(RUN_EVENT_TYPES[e["event"]] for e in events if e["event"] in RUN_EVENT_TYPES)

    got = receiver.wait_for("/build", lambda got: len(got) >= len(expected))
    payloads = [verified(hook["secret"], r) for r in got]
    types = [p["type"] for p in payloads]
    assert sorted(types) == expected
    assert {"run.started", "task.started"} <= set(types)
    assert {"run.completed", "run.failed"} & set(types), "the run's outcome is delivered too"
    assert all(p["data"]["runId"] == run["id"] for p in payloads)
    # One message id per event, the same on every attempt: the subscriber's deduplication key.
    assert len({r.headers["webhook-id"] for r in got}) == len(got)
    # Only what the filter takes: no project.* or spec.* delivery reached this webhook.
    assert not [t for t in types if not t.startswith(("run.", "task."))]
    log = deliveries(api, base, hook["id"])
    assert {d["status"] for d in log} == {"succeeded"}
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["statusCode"] == 204 for d in log)


def test_a_failing_receiver_gets_three_attempts_then_success(local_cloud, api, receiver):
    base = local_cloud.url
    hook = create_webhook(api, base, receiver.on("/flaky", 500, 503, 200), ["custom.*"])
    sent = api.post(f"{base}/v1/events", json={"type": "custom.deployed", "data": {"version": 7}})
    assert sent.status_code == 202, sent.text
    event_id = sent.json()["data"]["id"]

    got = receiver.wait_for("/flaky", lambda got: len(got) >= 3)
    assert [verified(hook["secret"], r) for r in got] == [
        {"type": "custom.deployed", "timestamp": got[0].json()["timestamp"], "data": {"version": 7}}
    ] * 3
    assert {r.headers["webhook-id"] for r in got} == {event_id}

    def settled() -> dict[str, Any] | None:
        [delivery] = deliveries(api, base, hook["id"])
        return delivery if delivery["status"] == "succeeded" else None

    delivery = wait_until(settled)
    assert delivery["eventId"] == event_id and delivery["eventType"] == "custom.deployed"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["nextAttemptAt"] is None
    assert api.get(f"{base}/v1/webhooks/{hook['id']}").json()["data"]["status"] == "enabled"


def test_410_disables_the_webhook_and_others_hear_of_it(local_cloud, api, receiver):
    base = local_cloud.url
    watcher = create_webhook(api, base, receiver.on("/watcher", 204), ["webhook.*"])
    gone = create_webhook(api, base, receiver.on("/gone", 410), ["custom.*"])
    assert api.post(f"{base}/v1/events", json={"type": "custom.ping", "data": {}}).status_code == 202

    receiver.wait_for("/gone", lambda got: len(got) >= 1)
    webhook = wait_until(
        lambda: (w := api.get(f"{base}/v1/webhooks/{gone['id']}").json()["data"])["status"] == "disabled" and w
    )
    assert webhook["disabledReason"] == "gone"
    [delivery] = deliveries(api, base, gone["id"])
    assert delivery["status"] == "failed" and [a["statusCode"] for a in delivery["attempts"]] == [410]

    [notice] = receiver.wait_for("/watcher", lambda got: len(got) >= 1)
    payload = verified(watcher["secret"], notice)
    assert payload["type"] == "webhook.disabled"
    assert payload["data"] == {"webhookId": gone["id"], "url": gone["url"], "reason": "gone"}
    # A disabled webhook receives nothing more.
    assert api.post(f"{base}/v1/events", json={"type": "custom.ping", "data": {}}).status_code == 202
    time.sleep(1)
    assert len(receiver.at("/gone")) == 1


def test_redeliver_sends_the_event_again(local_cloud, api, receiver):
    base = local_cloud.url
    hook = create_webhook(api, base, receiver.on("/again", 204), ["custom.*"])
    assert api.post(f"{base}/v1/events", json={"type": "custom.built", "data": {"n": 1}}).status_code == 202
    [first] = receiver.wait_for("/again", lambda got: len(got) >= 1)
    [original] = wait_until(lambda: [d for d in deliveries(api, base, hook["id"]) if d["status"] == "succeeded"])

    response = api.post(f"{base}/v1/webhooks/{hook['id']}/deliveries/{original['id']}/redeliver")
    assert response.status_code == 202, response.text
    copy = response.json()["data"]
    assert copy["redeliveryOf"] == original["id"] and copy["id"] != original["id"]

    second = receiver.wait_for("/again", lambda got: len(got) >= 2)[1]
    assert verified(hook["secret"], second) == verified(hook["secret"], first)
    assert second.headers["webhook-id"] == first.headers["webhook-id"] == original["eventId"]
    log = wait_until(
        lambda: (ds := deliveries(api, base, hook["id"])) and all(d["status"] == "succeeded" for d in ds) and ds
    )
    assert {d["id"] for d in log} == {original["id"], copy["id"]}

    missing = api.post(f"{base}/v1/webhooks/{hook['id']}/deliveries/dlv_{'0' * 26}/redeliver")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"

"""Webhooks and custom events over HTTP against a local cloud: what a client sees (the secret
once, never again), tenancy on every route, hostile URLs refused with nothing stored, a custom
event accepted, and signed deliveries arriving at a receiver on 127.0.0.1 (the one target the
local cloud allows), verified with the reference `standardwebhooks` package, during a secret
rotation's overlap with either secret."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

TABLE = "kiln-local"
DELIVERY_WAIT_SECONDS = 30


class Receiver:
    """An HTTP receiver on 127.0.0.1 keeping every request's raw body and headers."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(204)
                self.end_headers()
                with receiver.arrived:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    receiver.arrived.notify_all()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout: float = DELIVERY_WAIT_SECONDS) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                found = next((r for r in self.received if predicate(r)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching delivery within {timeout} s; got {self.received}")
                self.arrived.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.close()


def call(cloud, method: str, path: str, key: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {key or cloud.admin_key}", **kwargs.pop("headers", {})}
    return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


def mint(cloud, scopes: list[str], workspace_id: str | None = None) -> str:
    body: dict[str, Any] = {"name": "webhooks", "scopes": scopes}
    if workspace_id:
        body["workspaceId"] = workspace_id
    response = call(cloud, "POST", "/v1/api-keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["secret"]


def table_items(cloud) -> list[dict]:
    return cloud.aws("dynamodb").scan(TableName=TABLE)["Items"]


def body_of(delivery: dict[str, Any]) -> dict[str, Any]:
    return json.loads(delivery["body"])


def test_crud_with_the_secret_shown_once(local_cloud, receiver):
    created = call(
        local_cloud,
        "POST",
        "/v1/webhooks",
        json={"url": receiver.url + "/crud", "events": ["run.*", "custom.*"], "description": "CI"},
        headers={"Idempotency-Key": "webhook-crud"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["Cache-Control"] == "no-store"
    webhook = created.json()["data"]
    secret = webhook["secret"]
    assert secret.startswith("whsec_") and webhook["status"] == "enabled" and webhook["events"] == ["run.*", "custom.*"]
    hook = f"/v1/webhooks/{webhook['id']}"

    replay = call(
        local_cloud,
        "POST",
        "/v1/webhooks",
        json={"url": receiver.url + "/crud", "events": ["run.*", "custom.*"], "description": "CI"},
        headers={"Idempotency-Key": "webhook-crud"},
    )
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["data"]["id"] == webhook["id"] and "secret" not in replay.json()["data"]

    got = call(local_cloud, "GET", hook)
    assert got.status_code == 200 and "secret" not in got.json()["data"]
    listed = call(local_cloud, "GET", "/v1/webhooks?page=1&pageSize=100")
    assert webhook["id"] in [w["id"] for w in listed.json()["data"]] and secret not in listed.text
    cursor = call(local_cloud, "GET", "/v1/webhooks?limit=1")
    assert cursor.status_code == 200 and cursor.json()["pagination"]["limit"] == 1

    patched = call(local_cloud, "PATCH", hook, json={"events": ["export.completed"], "status": "disabled"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["events"] == ["export.completed"] and patched.json()["data"]["status"] == "disabled"
    assert call(local_cloud, "POST", hook + "/test").status_code == 409  # disabled: enable it first
    for answer in (got, listed, patched):
        assert secret not in answer.text
    assert call(local_cloud, "DELETE", hook).status_code == 204
    assert call(local_cloud, "GET", hook).status_code == 404


def test_another_workspace_gets_not_found_on_every_webhook_route(local_cloud, receiver):
    webhook = call(local_cloud, "POST", "/v1/webhooks", json={"url": receiver.url, "events": ["*"]}).json()["data"]
    workspace = call(local_cloud, "POST", "/v1/workspaces", json={"name": "Elsewhere", "tier": "pro"}).json()["data"]
    outsider = mint(local_cloud, ["project:read", "project:write"], workspace["id"])
    hook = f"/v1/webhooks/{webhook['id']}"
    for method, path, body in (
        ("GET", hook, None),
        ("PATCH", hook, {"status": "disabled"}),
        ("DELETE", hook, None),
        ("POST", hook + "/rotate-secret", None),
        ("POST", hook + "/test", None),
        ("GET", hook + "/deliveries", None),
        ("POST", hook + "/deliveries/dlv_01m885m8rskqxxjknrtpgbxzzz/redeliver", None),
    ):
        answer = call(local_cloud, method, path, outsider, json=body)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "NOT_FOUND", (method, path, answer.text)
    assert webhook["id"] not in call(local_cloud, "GET", "/v1/webhooks", outsider).text
    assert call(local_cloud, "GET", hook).json()["data"]["status"] == "enabled"  # untouched


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "https://[fe80::1]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[::ffff:169.254.169.254]/",
        "https://100.64.0.1/",
        "http://example.com/hook",
        "https://user:password@example.com/hook",
    ],
)
def test_hostile_urls_are_refused_naming_url_and_nothing_is_stored(local_cloud, url):
    before = sum(1 for i in table_items(local_cloud) if i["sk"]["S"].startswith("WEBHOOK#"))
    answer = call(local_cloud, "POST", "/v1/webhooks", json={"url": url, "events": ["*"]})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert [f["field"] for f in answer.json()["error"]["details"]["fields"]] == ["url"]
    assert sum(1 for i in table_items(local_cloud) if i["sk"]["S"].startswith("WEBHOOK#")) == before


def test_a_bad_events_filter_names_the_entry(local_cloud, receiver):
    answer = call(local_cloud, "POST", "/v1/webhooks", json={"url": receiver.url, "events": ["run.*", "runs.done"]})
    assert answer.status_code == 400
    assert [f["field"] for f in answer.json()["error"]["details"]["fields"]] == ["events[1]"]


def test_a_custom_event_is_accepted_and_bad_ones_are_refused(local_cloud):
    accepted = call(local_cloud, "POST", "/v1/events", json={"type": "custom.deploy_done", "data": {"env": "prod"}})
    assert accepted.status_code == 202, accepted.text
    event_id = accepted.json()["data"]["id"]
    assert event_id.startswith("evt_")
    assert any(i["sk"]["S"] == f"CUSTOMEVENT#{event_id}" for i in table_items(local_cloud))
    assert call(local_cloud, "POST", "/v1/events", json={"type": "deploy", "data": {}}).status_code == 400
    too_big = call(local_cloud, "POST", "/v1/events", json={"type": "custom.big", "data": {"x": "y" * 70_000}})
    assert too_big.status_code == 413 and too_big.json()["error"]["details"]["limitBytes"] == 65536
    reader = mint(local_cloud, ["project:read"])
    assert call(local_cloud, "POST", "/v1/events", reader, json={"type": "custom.x", "data": {}}).status_code == 403


def test_a_test_delivery_arrives_signed_and_verifies(local_cloud, receiver):
    created = call(local_cloud, "POST", "/v1/webhooks", json={"url": receiver.url + "/signed", "events": ["*"]})
    webhook = created.json()["data"]
    queued = call(local_cloud, "POST", f"/v1/webhooks/{webhook['id']}/test")
    assert queued.status_code == 202, queued.text
    delivery = queued.json()["data"]
    assert delivery["eventType"] == "webhook.test" and delivery["status"] == "pending"
    arrived = receiver.wait_for(lambda r: r["headers"].get("webhook-id") == delivery["eventId"])
    payload = Webhook(webhook["secret"]).verify(arrived["body"], arrived["headers"])
    assert payload["type"] == "webhook.test" and payload["data"]["webhookId"] == webhook["id"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(arrived["body"], arrived["headers"])
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while time.monotonic() < deadline:
        log = call(local_cloud, "GET", f"/v1/webhooks/{webhook['id']}/deliveries").json()
        if log["data"] and log["data"][0]["status"] == "succeeded":
            break
        time.sleep(0.2)
    assert log["data"][0]["id"] == delivery["id"] and log["data"][0]["attempts"][0]["statusCode"] == 204


def test_during_a_rotation_overlap_a_delivery_verifies_with_either_secret(local_cloud, receiver):
    webhook = call(
        local_cloud, "POST", "/v1/webhooks", json={"url": receiver.url + "/rotated", "events": ["custom.*"]}
    ).json()["data"]
    old = webhook["secret"]
    rotated = call(local_cloud, "POST", f"/v1/webhooks/{webhook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["data"]["secret"]
    assert new != old and rotated.json()["data"]["previousSecretExpiresAt"]
    assert new not in call(local_cloud, "GET", f"/v1/webhooks/{webhook['id']}").text

    event = call(local_cloud, "POST", "/v1/events", json={"type": "custom.rolled", "data": {"n": 1}}).json()["data"]
    arrived = receiver.wait_for(lambda r: r["path"] == "/rotated" and r["headers"].get("webhook-id") == event["id"])
    assert len(arrived["headers"]["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        payload = Webhook(secret).verify(arrived["body"], arrived["headers"])
        assert payload["type"] == "custom.rolled" and payload["data"] == {"n": 1}

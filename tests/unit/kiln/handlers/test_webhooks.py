"""Webhook and custom-event handlers through the real pipeline on moto's DynamoDB: what a caller
sees (a secret once, never again, not even in a replay), what the table holds, refusals that
change nothing, and another workspace answering as a missing id."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
import pytest

from kiln import services
from kiln.handlers import (
    events_create,
    webhooks_create,
    webhooks_delete,
    webhooks_get,
    webhooks_list,
    webhooks_rotate_secret,
    webhooks_update,
)
from tests.unit.conftest import TABLE, parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER = principal_context(workspace_id="ws_01m885m8rskqxxjknrtpgbxm2p", scopes="project:read project:write")
ITEM = "/v1/webhooks/{webhookId}"
ADDRESSES = {"hooks.example.com": ["93.184.216.34"], "sneaky.example.com": ["127.0.0.1"]}


def resolve(host: str, port: int) -> Sequence[str]:
    if host not in ADDRESSES:
        raise OSError("unknown host")
    return ADDRESSES[host]


@pytest.fixture(autouse=True)
def no_dns(cloud: None) -> None:
    """Names resolve from ADDRESSES: no test reaches a real resolver."""
    services.use(services.build(resolver=resolve))


def create(authorizer: dict | None = None, headers: dict | None = None, **fields: Any) -> tuple[int, dict]:
    body = {"url": "https://hooks.example.com/kiln", "events": ["run.*", "custom.*"], **fields}
    event = proxy_event("POST", "/v1/webhooks", body=body, authorizer=authorizer, headers=headers)
    return parse(webhooks_create.handler(event))


def on_item(module: Any, method: str, webhook_id: str, suffix: str = "", **kwargs: Any) -> tuple[int, dict]:
    resource = ITEM + suffix
    event = proxy_event(
        method, resource, f"/v1/webhooks/{webhook_id}{suffix}", path_params={"webhookId": webhook_id}, **kwargs
    )
    return parse(module.handler(event))


def table_items() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Items"]


def test_create_answers_the_secret_once_and_no_read_shows_it():
    status, body = create(description="CI")
    assert status == 201, body
    webhook = body["data"]
    secret = webhook["secret"]
    assert secret.startswith("whsec_") and webhook["status"] == "enabled" and webhook["description"] == "CI"
    assert webhook["events"] == ["run.*", "custom.*"] and webhook["workspaceId"] == WS
    status, got = on_item(webhooks_get, "GET", webhook["id"])
    assert status == 200 and "secret" not in got["data"] and secret not in json.dumps(got)
    status, listed = parse(webhooks_list.handler(proxy_event("GET", "/v1/webhooks")))
    assert status == 200 and [w["id"] for w in listed["data"]] == [webhook["id"]] and secret not in json.dumps(listed)
    stored = next(i for i in table_items() if i["sk"]["S"] == f"WEBHOOK#{webhook['id']}")
    assert stored["secret"]["S"] == secret  # needed in clear to sign; never answered again


def test_an_idempotent_replay_answers_the_webhook_without_its_secret():
    first_status, first = create(headers={"Idempotency-Key": "hook-1"})
    status, replay = create(headers={"Idempotency-Key": "hook-1"})
    assert first_status == status == 201
    assert replay["data"]["id"] == first["data"]["id"] and "secret" not in replay["data"]
    assert first["data"]["secret"] not in json.dumps([i for i in table_items() if "IDEMP" in i["pk"]["S"]])
    assert len([i for i in table_items() if i["sk"]["S"].startswith("WEBHOOK#")]) == 1


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"url": "http://hooks.example.com/"}, "url"),
        ({"url": "https://sneaky.example.com/"}, "url"),
        ({"url": "https://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "https://[64:ff9b::a9fe:a9fe]/"}, "url"),
        ({"events": ["run.exploded"]}, "events[0]"),
        ({"events": []}, "events"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field_and_stores_nothing(fields, named):
    status, body = create(**fields)
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR", body
    assert named in [f["field"] for f in body["error"]["details"]["fields"]]
    assert not [i for i in table_items() if i["sk"]["S"].startswith("WEBHOOK#")]


def test_patch_rotate_and_delete_and_another_workspace_sees_none_of_it():
    webhook = create()[1]["data"]
    status, patched = on_item(webhooks_update, "PATCH", webhook["id"], body={"status": "disabled", "events": ["*"]})
    assert status == 200 and patched["data"]["status"] == "disabled" and patched["data"]["disabledReason"] == "user"
    assert patched["data"]["events"] == ["*"]
    status, refused = on_item(webhooks_update, "PATCH", webhook["id"], body={"url": "https://10.0.0.1/"})
    assert status == 400 and refused["error"]["details"]["fields"][0]["field"] == "url"
    status, rotated = on_item(webhooks_rotate_secret, "POST", webhook["id"], "/rotate-secret")
    assert status == 200 and rotated["data"]["secret"] != webhook["secret"]
    assert rotated["data"]["previousSecretExpiresAt"] is not None
    for module, method, suffix, extra in (
        (webhooks_get, "GET", "", {}),
        (webhooks_update, "PATCH", "", {"body": {"status": "enabled"}}),
        (webhooks_rotate_secret, "POST", "/rotate-secret", {}),
        (webhooks_delete, "DELETE", "", {}),
    ):
        status, body = on_item(module, method, webhook["id"], suffix, authorizer=OTHER, **extra)
        assert status == 404 and body["error"]["code"] == "NOT_FOUND", (module, body)
    assert on_item(webhooks_get, "GET", webhook["id"])[1]["data"]["status"] == "disabled"
    assert on_item(webhooks_delete, "DELETE", webhook["id"])[0] == 204
    assert on_item(webhooks_get, "GET", webhook["id"])[0] == 404


def test_lists_page_and_cursor_modes():
    ids = [create()[1]["data"]["id"] for _ in range(3)]
    status, page = parse(webhooks_list.handler(proxy_event("GET", "/v1/webhooks", query={"pageSize": "2"})))
    assert status == 200 and page["pagination"]["total"] == 3 and [w["id"] for w in page["data"]] == ids[::-1][:2]
    status, first = parse(webhooks_list.handler(proxy_event("GET", "/v1/webhooks", query={"limit": "2"})))
    cursor = first["pagination"]["nextCursor"]
    status, second = parse(
        webhooks_list.handler(proxy_event("GET", "/v1/webhooks", query={"cursor": cursor, "limit": "2"}))
    )
    assert [w["id"] for w in first["data"] + second["data"]] == ids[::-1] and second["pagination"]["hasMore"] is False


def test_a_custom_event_is_one_item_the_stream_reads():
    event = proxy_event("POST", "/v1/events", body={"type": "custom.deploy_done", "data": {"env": "prod"}})
    status, body = parse(events_create.handler(event))
    assert status == 202, body
    event_id = body["data"]["id"]
    [item] = [i for i in table_items() if i["sk"]["S"].startswith("CUSTOMEVENT#")]
    assert item["pk"]["S"] == f"WS#{WS}" and item["sk"]["S"] == f"CUSTOMEVENT#{event_id}"
    assert item["type"]["S"] == "custom.deploy_done" and json.loads(item["data"]["S"]) == {"env": "prod"}
    assert int(item["expiresAtEpoch"]["N"]) > 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "deploy_done", "data": {}}, 400, "VALIDATION_ERROR"),
        ({"type": "custom.Deploy", "data": {}}, 400, "VALIDATION_ERROR"),
        ({"type": "custom.x", "data": [1, 2]}, 400, "VALIDATION_ERROR"),
        ({"type": "custom.x", "data": {"blob": "x" * 70_000}}, 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_a_bad_custom_event_is_refused_and_writes_nothing(body, status, code):
    got_status, got = parse(events_create.handler(proxy_event("POST", "/v1/events", body=body)))
    assert got_status == status and got["error"]["code"] == code, got
    assert not [i for i in table_items() if i["sk"]["S"].startswith("CUSTOMEVENT#")]

"""The WebSocket API's three functions (kiln.handlers.ws_*) on moto, with API Gateway's proxy
events: credentials on $connect (a token query parameter or a bearer header) accepted or refused
with 401 through the REST authorizer's chain, messages answered through the outbox, $disconnect
forgetting the connection; and each refuses to start without its settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from kiln import config, services
from kiln.adapters.schema import create_connections_table_kwargs
from kiln.bootstrap import provision_admin
from tests.fakes import FakeOutbox
from tests.unit.kiln.test_config import _import_each


@pytest.fixture
def outbox(cloud: None) -> Iterator[FakeOutbox]:
    boto3.client("dynamodb").create_table(**create_connections_table_kwargs(config.connections_table()))
    fake = FakeOutbox()
    services.use(services.build(outbox=fake))
    yield fake


def event(route_key: str, connection_id: str, **extra: Any) -> dict[str, Any]:
    return {"requestContext": {"routeKey": route_key, "connectionId": connection_id, "stage": "prod"}, **extra}


def test_connect_with_credentials_authenticates_the_connection(outbox: FakeOutbox) -> None:
    from kiln.handlers import ws_connect, ws_disconnect, ws_message

    key = provision_admin(tier="pro")
    answer = ws_connect.handler(event("$connect", "c1", queryStringParameters={"token": key}))
    assert answer == {"statusCode": 200}
    assert services.current().connection_store.get("c1").identity is not None
    ws_message.handler(event("$default", "c1", body=json.dumps({"type": "subscribe", "channel": "run:run_x"})))
    assert outbox.received["c1"][-1]["code"] == "NOT_FOUND"  # authenticated: the run is what is missing
    ws_disconnect.handler(event("$disconnect", "c1"))
    assert services.current().connection_store.get("c1") is None


@pytest.mark.parametrize(
    "extra",
    [
        {"queryStringParameters": {"token": "kiln_" + "x" * 43}},
        {"headers": {"Authorization": "Bearer kiln_" + "y" * 43}},
    ],
)
def test_connect_with_bad_credentials_is_refused(outbox: FakeOutbox, extra: dict[str, Any]) -> None:
    from kiln.handlers import ws_connect

    assert ws_connect.handler(event("$connect", "c2", **extra))["statusCode"] == 401
    assert services.current().connection_store.get("c2") is None


def test_connect_without_credentials_then_auth(outbox: FakeOutbox) -> None:
    from kiln.handlers import ws_connect, ws_message

    key = provision_admin(tier="pro")
    assert ws_connect.handler(event("$connect", "c3", headers={"Host": "x"})) == {"statusCode": 200}
    ws_message.handler(event("$default", "c3", body=json.dumps({"type": "auth", "token": key})))
    assert outbox.received["c3"] == [{"type": "authenticated"}]


def test_each_websocket_function_refuses_to_start_without_its_settings() -> None:
    modules = ["kiln.handlers.ws_connect", "kiln.handlers.ws_disconnect", "kiln.handlers.ws_message"]
    outcome = _import_each(modules, {config.ENVIRONMENT: "aws", config.TABLE_NAME: "kiln-table"})
    for module in modules:
        assert outcome[module] == (
            "SettingsError: invalid LiveSettings: KILN_CONNECTIONS_TABLE is not set; KILN_WEBSOCKET_ENDPOINT is not set"
        ), module

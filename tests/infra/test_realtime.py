"""The WebSocket API (infra/realtime.py): its three routes, each on its own function with a Lambda
proxy integration, no authorizer (clients authenticate in-band), a logged and throttled stage;
the connections' table (TTL, no stream); ManageConnections on this API's stage only, for the
WebSocket functions and the table stream worker alone; cdk-nag clean."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template

from kiln import config
from kiln.routes import WORKERS
from kiln.websocket_routes import ROUTE_SELECTION_EXPRESSION, SOCKET_ROUTES
from tests.infra.conftest import Synth
from tests.infra.test_stack import actions, functions, role_statements


def test_the_websocket_api_has_the_three_routes_on_their_functions(main: Synth) -> None:
    assert main.error is None, main.error
    template = Template.from_json(main.root)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": ROUTE_SELECTION_EXPRESSION},
    )
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for _, r in main.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {r.route_key for r in SOCKET_ROUTES}
    assert all(props.get("AuthorizationType", "NONE") == "NONE" for props in routes.values())
    integrations = [i["Properties"] for _, i in main.resources("AWS::ApiGatewayV2::Integration").values()]
    assert len(integrations) == 3 and {i["IntegrationType"] for i in integrations} == {"AWS_PROXY"}
    fns = functions(main)
    for route in SOCKET_ROUTES:
        _, _, props = fns[route.handler_ref]
        env = props["Environment"]["Variables"]
        assert {config.CONNECTIONS_TABLE, config.WEBSOCKET_ENDPOINT, config.API_URL} <= set(env)
    stage = next(s["Properties"] for _, s in main.resources("AWS::ApiGatewayV2::Stage").values())
    assert stage["StageName"] == "prod" and stage["AccessLogSettings"]["DestinationArn"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_the_connections_table_expires_its_items_and_has_no_stream(main: Synth) -> None:
    tables = [t["Properties"] for _, t in main.resources("AWS::DynamoDB::Table").values()]
    [connections] = [t for t in tables if "StreamSpecification" not in t and "GlobalSecondaryIndexes" not in t]
    assert connections["TimeToLiveSpecification"] == {"AttributeName": "expiresAtEpoch", "Enabled": True}
    assert connections["BillingMode"] == "PAY_PER_REQUEST"


def test_only_the_realtime_functions_may_manage_connections_and_only_on_this_stage(main: Synth) -> None:
    fns = functions(main)
    allowed = {r.handler_ref for r in SOCKET_ROUTES if "connections:post" in r.grants} | {
        w.handler_ref for w in WORKERS if "connections:post" in w.grants
    }
    assert "kiln.workers.table_stream.handler" in allowed
    for name, (stack, _, props) in fns.items():
        statements = role_statements(main, stack, props)
        manage = [s for s in statements if "execute-api:ManageConnections" in actions([s])]
        assert bool(manage) == (name in allowed), name
        for statement in manage:
            assert actions([statement]) == {"execute-api:ManageConnections"}
            resource = json.dumps(statement["Resource"])
            assert "/prod/*/@connections/*" in resource and "RealtimeApi" in resource, resource


def test_the_connect_and_disconnect_functions_cannot_post(main: Synth) -> None:
    fns = functions(main)
    for route in SOCKET_ROUTES:
        stack, _, props = fns[route.handler_ref]
        granted = actions(role_statements(main, stack, props))
        assert ("execute-api:ManageConnections" in granted) == (route.route_key == "$default")
        assert "dynamodb:PutItem" in granted  # the connections' table
        assert not any(a.endswith("*") for a in granted), granted

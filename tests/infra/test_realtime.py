"""The WebSocket API (infra/realtime.py): its three routes, each on its own function with a Lambda
proxy integration, no authorizer (clients authenticate in-band), a logged and throttled stage;
the connections' table (TTL, no stream); ManageConnections on this API's stage only, for the
WebSocket functions and the table stream worker alone; cdk-nag clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from infra import grants
from infra.lambdas import ARCHITECTURE, RUNTIME, FunctionSpec, KilnFunction, Runtime
from infra.nag import enable_checks
from infra.realtime import Realtime
from infra.settings import Settings
from kiln import config
from kiln.routes import WORKERS
from kiln.websocket_routes import ROUTE_SELECTION_EXPRESSION, SOCKET_ROUTES
from tests.infra.conftest import Synth, cdk_context
from tests.infra.test_stack import actions, functions, role_statements

STREAM_WORKER = "kiln.workers.table_stream.handler"


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory, layer_dir: Path) -> Synth:
    """The construct in a stack of its own with cdk-nag on: the three functions, plus a function
    holding the stream worker's real-time grants, as the root stack wires them."""
    outdir = tmp_path_factory.mktemp("cdk-realtime")
    app = App(context=cdk_context(), outdir=str(outdir))
    settings = Settings.from_context(app.node)
    stack = Stack(app, "RealtimeAlone")
    realtime = Realtime(stack, "Realtime", settings=settings)
    layer = lambda_.LayerVersion(
        stack,
        "Layer",
        code=lambda_.Code.from_asset(str(layer_dir)),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
    )
    runtime = Runtime(
        layer=layer,
        targets=grants.Targets(
            table_arn="arn:aws:dynamodb:us-east-1:123456789012:table/kiln",
            bucket_arn="arn:aws:s3:::kiln",
            cursor_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor",
            signing_keys_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:keys",
            connections_table_arn=realtime.table.table_arn,
            websocket_connections_arn=realtime.connections_arn,
        ),
        log_retention=settings.log_retention,
        log_removal_policy=settings.log_removal_policy,
    )
    realtime.add_functions(runtime=runtime, environment=lambda granted: {}, api_url="https://api.example.com/prod/")
    worker = KilnFunction(
        stack,
        "StreamWorker",
        runtime=runtime,
        spec=FunctionSpec(
            handler=STREAM_WORKER, description="stream", grants=("connections:write", "connections:post")
        ),
    )
    from infra.nag import acknowledge
    from infra.route_group import SYNC_DLQ_REASON

    acknowledge(worker.function, "Serverless-LambdaDLQ", SYNC_DLQ_REASON)
    enable_checks(app)
    result = Synth(app=app, stack=stack, outdir=outdir, routes=())
    try:
        app.synth()
    except Exception as exc:  # noqa: BLE001 - ValidationFailed: the report says why
        result.error = str(exc)
    result.templates[stack.stack_name] = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    return result


def test_the_construct_is_cdk_nag_clean(alone: Synth) -> None:
    findings = [
        violation for plugin in alone.report.get("pluginReports", []) for violation in plugin.get("violations", [])
    ]
    assert alone.error is None and not findings, json.dumps(findings, indent=1)[:4000] or alone.error


def test_the_websocket_api_has_the_three_routes_on_their_functions(alone: Synth) -> None:
    assert alone.error is None, alone.error
    template = Template.from_json(alone.root)
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": ROUTE_SELECTION_EXPRESSION},
    )
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"] for _, r in alone.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {r.route_key for r in SOCKET_ROUTES}
    assert all(props.get("AuthorizationType", "NONE") == "NONE" for props in routes.values())
    integrations = [i["Properties"] for _, i in alone.resources("AWS::ApiGatewayV2::Integration").values()]
    assert len(integrations) == 3 and {i["IntegrationType"] for i in integrations} == {"AWS_PROXY"}
    fns = functions(alone)
    for route in SOCKET_ROUTES:
        _, _, props = fns[route.handler_ref]
        env = props["Environment"]["Variables"]
        assert {config.CONNECTIONS_TABLE, config.WEBSOCKET_ENDPOINT, config.API_URL} <= set(env)
    stage = next(s["Properties"] for _, s in alone.resources("AWS::ApiGatewayV2::Stage").values())
    assert stage["StageName"] == "prod" and stage["AccessLogSettings"]["DestinationArn"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_the_connections_table_expires_its_items_and_has_no_stream(alone: Synth) -> None:
    tables = [t["Properties"] for _, t in alone.resources("AWS::DynamoDB::Table").values()]
    [connections] = [t for t in tables if "StreamSpecification" not in t and "GlobalSecondaryIndexes" not in t]
    assert connections["TimeToLiveSpecification"] == {"AttributeName": "expiresAtEpoch", "Enabled": True}
    assert connections["BillingMode"] == "PAY_PER_REQUEST"


def test_only_the_realtime_functions_may_manage_connections_and_only_on_this_stage(main: Synth) -> None:
    assert main.error is None, main.error
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


def test_the_connect_and_disconnect_functions_cannot_post(alone: Synth) -> None:
    fns = functions(alone)
    for route in SOCKET_ROUTES:
        stack, _, props = fns[route.handler_ref]
        granted = actions(role_statements(alone, stack, props))
        assert ("execute-api:ManageConnections" in granted) == (route.route_key == "$default")
        assert "dynamodb:PutItem" in granted  # the connections' table
        assert not any(a.endswith("*") for a in granted), granted

"""Real time (CONTRACT section 8): the WebSocket API, its three functions and the connections' table.

Built from kiln.websocket_routes (one function and one Lambda proxy integration per route).
The table holds connections and subscriptions only (kiln.adapters.dynamodb.connections says why
it is not the main table): on-demand, TTL on `expiresAtEpoch`, no stream, no point-in-time
recovery (nothing in it outlives a connection, at most 2 h 10 min) and destroyed with the
stack. The functions answer clients through the management API, so their role (and the table
stream worker's, which fans out run events) holds `execute-api:ManageConnections` on this API's
stage only: `connections:post` in kiln.routes.GRANTS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct

from infra.lambdas import FunctionSpec, KilnFunction, Runtime
from infra.nag import acknowledge
from infra.route_group import SYNC_DLQ_REASON
from infra.settings import Settings
from kiln import config
from kiln.adapters import schema
from kiln.websocket_routes import ROUTE_SELECTION_EXPRESSION, SOCKET_ROUTES, SocketRoute

STAGE = "prod"
AUTHORIZATION_REASON = (
    "The WebSocket routes have no API Gateway authorizer on purpose: browsers cannot set headers on a "
    "WebSocket, so a client authenticates with its first message ({type: auth}) or a token query parameter, "
    "checked by the $connect and $default functions with the REST authorizer's own credential chain; nothing "
    "is sent to an unauthenticated connection but errors."
)
PITR_REASON = (
    "The connections table holds only WebSocket connections and subscriptions, which live at most as long "
    "as a connection (2 hours) and expire by TTL: there is nothing to recover."
)
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","connectionId":"$context.connectionId","routeKey":"$context.routeKey",'
    '"eventType":"$context.eventType","status":"$context.status","ip":"$context.identity.sourceIp",'
    '"error":"$context.error.message","integrationError":"$context.integrationErrorMessage"}'
)


class Realtime(Construct):
    """The table and the API first (other functions' grants name them), the functions later."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        self.settings = settings
        self.table = dynamodb.Table(
            self,
            "Connections",
            partition_key=dynamodb.Attribute(name=schema.PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=schema.SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(self.table, "AwsSolutions-DDB3", PITR_REASON)
        acknowledge(self.table, "Serverless-DynamoDBPITREnabled", PITR_REASON)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{settings.stack_name}-realtime",
            description="Kiln real time: run events over WebSocket (CONTRACT section 8)",
            route_selection_expression=ROUTE_SELECTION_EXPRESSION,
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=settings.log_retention, removal_policy=settings.log_removal_policy
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=100, burst_limit=200),
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
        self.functions: dict[str, KilnFunction] = {}

    @property
    def url(self) -> str:
        """wss://<api>.execute-api.<region>.amazonaws.com/prod: where clients connect."""
        return self.stage.url

    @property
    def management_endpoint(self) -> str:
        """https://<api>.execute-api.<region>.amazonaws.com/prod: where PostToConnection goes."""
        return self.stage.callback_url

    @property
    def connections_arn(self) -> str:
        """ManageConnections on this API's stage only, for any connection (ids are made at connect)."""
        return (
            f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:{self.api.api_id}/{STAGE}/*/@connections/*"
        )

    def environment(self, api_url: str | None = None) -> dict[str, str]:
        """What kiln.config.LiveSettings reads."""
        env = {config.CONNECTIONS_TABLE: self.table.table_name, config.WEBSOCKET_ENDPOINT: self.management_endpoint}
        if api_url is not None:
            env[config.API_URL] = api_url.rstrip("/")
        return env

    def add_functions(
        self,
        *,
        runtime: Runtime,
        environment: Callable[[Sequence[str]], Mapping[str, str]],
        api_url: str,
        routes: Sequence[SocketRoute] = SOCKET_ROUTES,
    ) -> None:
        for route in routes:
            fn = KilnFunction(
                self,
                route.function_id,
                runtime=runtime,
                spec=FunctionSpec(
                    handler=route.handler_ref,
                    description=f"Kiln WebSocket {route.route_key}: {route.summary}",
                    grants=route.grants,
                    timeout_seconds=29,
                    memory_mb=self.settings.api_memory_mb,
                    environment={**environment(route.grants), **self.environment(api_url)},
                ),
            )
            acknowledge(fn.function, "Serverless-LambdaDLQ", SYNC_DLQ_REASON)
            integration = WebSocketLambdaIntegration(f"{route.function_id}Integration", fn.function)
            created = self.api.add_route(route.route_key, integration=integration)
            acknowledge(created, "AwsSolutions-APIG4", AUTHORIZATION_REASON)
            self.functions[route.route_key] = fn

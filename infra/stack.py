"""The root stack: shared resources, the API, and one nested stack of functions per route group.

Resource budget (CloudFormation allows 500 per template; Kiln keeps every template under 450):

* root: table, buckets, secrets, layers, workers and state machines, authorizer, 405 function,
  the API (one resource per path segment, the root resource's methods, gateway responses, usage
  plans, stage), alarms, and one resource per nested stack. Grows by about 1 per new path segment
  and 2 per new group.
* Routes<Group> (nested): function, role, log group and invoke permission per route, so 4 per
  route. A group past ~100 routes should be split (tests/infra guards the limit).
* Methods<Group> (nested, api_methods.py): one method per route, and ANY + OPTIONS per path the
  group is first to use, so 1 to 3 per route.
* Events (nested): the webhook queues.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import grants as grants_mod
from infra.api import Api, path_owners
from infra.api_methods import MethodGroupStack, check_resource_parameters, methods_stack_id
from infra.cursor_secret import CursorSecret
from infra.data import Data
from infra.events import EventQueues
from infra.lambdas import ARCHITECTURE, RUNTIME, FunctionSpec, KilnFunction, Runtime, function_environment
from infra.monitoring import Monitoring
from infra.nag import acknowledge
from infra.previews import Previews
from infra.realtime import Realtime
from infra.route_group import SYNC_DLQ_REASON, RouteGroupStack, Shared, group_stack_id, pascal
from infra.settings import LAYER_DIR, MCP_LAYER_DIR, WORKFLOWS_DIR, Settings
from infra.signing_keys import SigningKeysSecret
from infra.storage import Storage
from infra.workflows import Workers, Workflows
from kiln.routes import (
    AUTHORIZER_GRANTS,
    AUTHORIZER_HANDLER,
    METHOD_NOT_ALLOWED_HANDLER,
    ROUTES,
    WORKERS,
    WORKFLOWS,
    Route,
    Worker,
    Workflow,
)
from kiln.tiers import TIERS, Tier

MAX_FUNCTION_NAME = 64


def group_routes(routes: Sequence[Route]) -> dict[str, list[Route]]:
    """Routes by `Route.group`, groups in order of first appearance."""
    grouped: dict[str, list[Route]] = {}
    for route in routes:
        grouped.setdefault(route.group, []).append(route)
    return grouped


def validate_routes(routes: Sequence[Route], function_name: Callable[[Route], str]) -> None:
    seen: dict[tuple[str, str], Route] = {}
    handlers: dict[str, Route] = {}
    ids: dict[str, Route] = {}
    for route in routes:
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"duplicate route {route.method} {route.path}")
        seen[key] = route
        if not route.path.startswith("/"):
            raise ValueError(f"route path must start with '/': {route.path!r}")
        # Routes may share a handler module (a legacy form and its successor); each still has
        # its own function, named after the route.
        if route.name in handlers:
            raise ValueError(f"route name {route.name!r} is used twice; each route has its own function")
        handlers[route.name] = route
        if route.function_id in ids:
            raise ValueError(f"function id {route.function_id!r} is used by two routes")
        ids[route.function_id] = route
        name = function_name(route)
        if len(name) > MAX_FUNCTION_NAME:
            raise ValueError(f"function name {name!r} is longer than {MAX_FUNCTION_NAME} characters")


class KilnStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        routes: Sequence[Route] = ROUTES,
        workers: Sequence[Worker] = WORKERS,
        workflows: Sequence[Workflow] = WORKFLOWS,
        tiers: Mapping[str, Tier] = TIERS,
        layer_dir: Path = LAYER_DIR,
        mcp_layer_dir: Path = MCP_LAYER_DIR,
        workflows_dir: Path = WORKFLOWS_DIR,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, description="Kiln: serverless API (root stack)", **kwargs)
        self.settings = settings
        self.routes = tuple(routes)
        validate_routes(self.routes, self.function_name)

        data = Data(self, "Data", settings=settings)
        storage = Storage(self, "Storage", settings=settings)
        cursor = CursorSecret(self, "CursorSecret", removal_policy=settings.removal_policy)
        self.table, self.bucket, self.cursor_secret = data.table, storage.bucket, cursor.secret
        self.signing_keys_secret = SigningKeysSecret(self, "SigningKeys", removal_policy=settings.removal_policy).secret
        # Before the runtime: the grants of the WebSocket functions and of the table stream's
        # real-time consumer name its table and its API.
        self.realtime = Realtime(self, "Realtime", settings=settings)
        # Before the runtime too: the delivery queue and the stream's failure queue are grant targets.
        delivery_timeouts = [w.timeout_seconds for w in workers if w.source == "delivery-queue"]
        self.event_queues = EventQueues(
            self,
            "Events",
            delivery_timeout_seconds=max(delivery_timeouts, default=60),
            removal_policy=settings.removal_policy,
        )

        # Before the runtime: the preview role and name prefix are the preview workers' grant targets.
        self.previews = Previews(self, "Previews")

        if not (layer_dir / "python").is_dir():
            raise FileNotFoundError(f"dependency layer {layer_dir} is missing: run `make layer` first")
        layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_dir), exclude=[".requirements.sha256"]),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Kiln runtime dependencies (layers/requirements.txt)",
        )
        # Only the functions of routes declaring layer="mcp" get this one (instead of the above).
        mcp_layer_arn = ""
        if any(route.layer == "mcp" for route in self.routes):
            if not (mcp_layer_dir / "python").is_dir():
                raise FileNotFoundError(f"MCP layer {mcp_layer_dir} is missing: run `make layer` first")
            mcp_layer_arn = lambda_.LayerVersion(
                self,
                "McpDependencies",
                code=lambda_.Code.from_asset(str(mcp_layer_dir), exclude=[".requirements.sha256"]),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description="Kiln runtime dependencies, the MCP SDK and kiln_client (layers/requirements-mcp.txt)",
            ).layer_version_arn
        runtime = Runtime(
            layer=layer,
            targets=grants_mod.Targets(
                table_arn=self.table.table_arn,
                bucket_arn=self.bucket.bucket_arn,
                cursor_secret_arn=self.cursor_secret.secret_arn,
                signing_keys_secret_arn=self.signing_keys_secret.secret_arn,
                bedrock_model_id=settings.invoked_model_id,
                generator_secret_arn=settings.generator_secret_arn,
                connections_table_arn=self.realtime.table.table_arn,
                websocket_connections_arn=self.realtime.connections_arn,
                table_stream_arn=self.table.table_stream_arn or "",
                delivery_queue_arn=self.event_queues.deliveries.queue_arn,
                stream_failure_queue_arn=self.event_queues.stream_failures.queue_arn,
                preview_role_arn=self.previews.role.role_arn,
                preview_function_prefix=self.previews.function_prefix,
            ),
            log_retention=settings.log_retention,
            log_removal_policy=settings.log_removal_policy,
        )

        def environment(grants: Sequence[str], cors_allowed_origins: Sequence[str] = ()) -> dict[str, str]:
            live = self.realtime.environment() if {"connections:write", "connections:post"} & set(grants) else {}
            return live | function_environment(
                grants,
                table_name=self.table.table_name,
                bucket_name=self.bucket.bucket_name,
                cursor_secret_arn=lambda: self.cursor_secret.secret_arn,
                signing_keys_secret_arn=lambda: self.signing_keys_secret.secret_arn,
                generator_environment=settings.generator_environment,
                cors_allowed_origins=cors_allowed_origins,
                delivery_queue_url=lambda: self.event_queues.deliveries.queue_url,
            )

        # --- workers and workflows ---------------------------------------------------------------
        self.workers = Workers(
            self,
            "Workers",
            workers=workers,
            runtime=runtime,
            environment=lambda worker: environment(worker.grants) | self.previews.environment(worker.grants),
            repair_attempts=settings.build_repair_attempts,
        )
        self.event_queues.connect(self.table, {w: self.workers.functions[w.name] for w in workers if w.source})
        self.workflows = Workflows(
            self,
            "Workflows",
            workflows=workflows,
            workers=self.workers.functions,
            workflows_dir=workflows_dir,
            log_retention=settings.log_retention,
            log_removal_policy=settings.log_removal_policy,
        )

        # --- API ------------------------------------------------------------------------------------
        self.authorizer = KilnFunction(
            self,
            "Authorizer",
            runtime=runtime,
            spec=FunctionSpec(
                handler=AUTHORIZER_HANDLER,
                description="Kiln authorizer (REQUEST): API keys, access tokens, session cookies",
                grants=AUTHORIZER_GRANTS,
                timeout_seconds=10,
                memory_mb=settings.api_memory_mb,
                environment=environment(AUTHORIZER_GRANTS),
            ),
        )
        self.method_not_allowed = KilnFunction(
            self,
            "MethodNotAllowed",
            runtime=runtime,
            spec=FunctionSpec(
                handler=METHOD_NOT_ALLOWED_HANDLER,
                description="Kiln 405 answer for undeclared methods",
                timeout_seconds=5,
                memory_mb=256,
                environment=environment((), cors_allowed_origins=settings.cors_allowed_origins),
            ),
        )
        for fn in (self.authorizer, self.method_not_allowed):
            acknowledge(fn.function, "Serverless-LambdaDLQ", SYNC_DLQ_REASON)

        self.api = Api(
            self,
            "Api",
            routes=self.routes,
            function_name=self.function_name,
            tiers=tiers,
            settings=settings,
            authorizer_function=self.authorizer,
            method_not_allowed_function=self.method_not_allowed,
        )
        usage_plans_json = self.to_json_string(self.api.usage_plan_ids())

        # --- API methods, one nested stack per group (but the root resource's: api.py) -----------
        owners = path_owners(self.routes)
        check_resource_parameters([path for path in owners if path != "/"])
        self.method_groups: dict[str, MethodGroupStack] = {}
        for group, members in group_routes(self.routes).items():
            paths = [path for path, owner in owners.items() if owner == group and path != "/"]
            held = [route for route in members if route.path != "/"]
            if not paths and not held:
                continue
            self.method_groups[group] = MethodGroupStack(
                self,
                methods_stack_id(group),
                group=group,
                paths=paths,
                routes=held,
                all_routes=self.routes,
                rest_api_id=self.api.rest_api.rest_api_id,
                resource_ids={path: self.api.resources[path].resource_id for path in {*paths, *(r.path for r in held)}},
                authorizer_id=self.api.authorizer_id,
                not_allowed_arn=self.api.not_allowed_arn,
                function_name=self.function_name,
                settings=settings,
            )
            self.api.deploy_after(self.method_groups[group])
        self.realtime.add_functions(runtime=runtime, environment=environment, api_url=self.api.url)

        # --- route functions, one nested stack per group -------------------------------------------
        shared = Shared(
            rest_api_id=self.api.rest_api.rest_api_id,
            table_name=self.table.table_name,
            table_arn=self.table.table_arn,
            bucket_name=self.bucket.bucket_name,
            bucket_arn=self.bucket.bucket_arn,
            cursor_secret_arn=self.cursor_secret.secret_arn,
            layer_arn=layer.layer_version_arn,
            mcp_layer_arn=mcp_layer_arn,
            signing_keys_secret_arn=self.signing_keys_secret.secret_arn,
            usage_plans_json=usage_plans_json,
            state_machines_json=self.to_json_string(self.workflows.arns()),
            state_machine_arns=self.workflows.arns(),
            state_machine_names=self.workflows.names(),
            usage_plan_ids=self.api.usage_plan_ids(),
            delivery_queue_arn=self.event_queues.deliveries.queue_arn,
            delivery_queue_url=self.event_queues.deliveries.queue_url,
        )
        self.groups: dict[str, RouteGroupStack] = {}
        for group, members in group_routes(self.routes).items():
            self.groups[group] = RouteGroupStack(
                self,
                group_stack_id(group),
                group=group,
                routes=members,
                settings=settings,
                shared=shared,
                function_name=self.function_name,
            )

        Monitoring(
            self,
            "Monitoring",
            rest_api=self.api.rest_api,
            authorizer=self.authorizer.function,
            state_machines=self.workflows.state_machines,
            alarm_topic_arn=settings.alarm_topic_arn,
        )

        # --- outputs (read by `python -m kiln.bootstrap --stack <name>`) ----------------------------
        for name, value, description in (
            ("ApiUrl", self.api.url, "Base URL of the API (stage included)"),
            ("WebSocketUrl", self.realtime.url, "WebSocket API (real time): wss://.../prod"),
            ("TableName", self.table.table_name, "DynamoDB table"),
            ("BucketName", self.bucket.bucket_name, "S3 bucket"),
            ("UsagePlanIds", usage_plans_json, "JSON: tier -> API Gateway usage plan id"),
            ("RestApiId", self.api.rest_api.rest_api_id, "API Gateway REST API id"),
            ("CursorSecretArn", self.cursor_secret.secret_arn, "Secrets Manager secret signing cursors"),
            ("SigningKeysSecretArn", self.signing_keys_secret.secret_arn, "Secrets Manager secret: token signing keys"),
            ("StateMachineArns", self.to_json_string(self.workflows.arns()), "JSON: workflow -> state machine ARN"),
        ):
            CfnOutput(self, name, value=value, description=description)

    def function_name(self, route: Route) -> str:
        """Route functions have fixed names: the API invokes them by name (see api.py).

        The group is part of the name, so moving a route to another group creates a new
        function instead of racing the old one (in another nested stack) for its name.
        """
        return f"{self.settings.stack_name}-{pascal(route.group)}-{route.function_id}"

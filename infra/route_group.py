"""A nested stack holding the functions of one route group (`Route.group`).

Each route costs four resources here (function, role, log group, invoke permission) and one
method in the root stack's API. Splitting functions by group keeps every template far below
CloudFormation's 500-resource limit as the route table grows (docs/deploy.md, "Stack split").

Everything a group needs from the root stack arrives as an explicit, named stack parameter
(`TableArn`, `BucketArn`, ...), which keeps the nested templates, their IAM policies and their
cdk-nag finding ids readable. Functions have fixed names (`<stack>-<FunctionId>`): the root
stack's methods invoke them by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import ArnFormat, Aws, CfnParameter, NestedStack, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import grants as grants_mod
from infra.lambdas import FunctionSpec, KilnFunction, Runtime, function_environment
from infra.nag import acknowledge
from infra.settings import Settings
from kiln import config
from kiln.routes import Route

SYNC_DLQ_REASON = (
    "Invoked synchronously by API Gateway (Lambda proxy integration): the caller receives the error, "
    "so a dead-letter queue, which only applies to asynchronous invocations, would never be used."
)


@dataclass(frozen=True)
class Shared:
    """Root stack values the route groups use."""

    rest_api_id: str
    table_name: str
    table_arn: str
    bucket_name: str
    bucket_arn: str
    cursor_secret_arn: str
    layer_arn: str
    signing_keys_secret_arn: str
    usage_plans_json: str
    state_machines_json: str
    state_machine_arns: Mapping[str, str] = field(default_factory=dict)  # workflow -> ARN
    state_machine_names: Mapping[str, str] = field(default_factory=dict)  # workflow -> state machine name
    usage_plan_ids: Mapping[str, str] = field(default_factory=dict)  # tier -> usage plan id
    # The webhook delivery queue (infra/events.py), for routes granted deliveries:send.
    delivery_queue_arn: str = ""
    delivery_queue_url: str = ""
    # The MCP layer (routes with layer="mcp"); empty when no route needs it.
    mcp_layer_arn: str = ""


def pascal(text: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def group_stack_id(group: str) -> str:
    return f"Routes{pascal(group) or 'Default'}"


def path_for_arn(path: str) -> str:
    """API Gateway method ARNs put `*` where the path has parameters."""
    return re.sub(r"{[^}]+}", "*", path)


class RouteGroupStack(NestedStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        group: str,
        routes: Sequence[Route],
        settings: Settings,
        shared: Shared,
        function_name: Callable[[Route], str],
    ) -> None:
        super().__init__(scope, id, description=f"Kiln route functions, group {group!r}")
        self.group = group
        self._imported: dict[str, str] = {}
        imp = self._import

        used = {grant for route in routes for grant in route.function_grants}
        needs_table = bool(used & {"table:read", "table:write", "health:check"})
        needs_bucket = bool(used & {"bucket:read", "bucket:write", "health:check"})
        needs_secret = "cursor-secret:read" in used
        needs_signing_keys = "signing-keys:read" in used
        needs_workflows = "health:check" in used
        # builds:control: the build state machine (ARN, and its name for the execution ARNs). The
        # state machine lives in the root stack and depends on the workers only, so passing it
        # down here adds no cycle (route functions are invoked by name, see api.py).
        build = grants_mod.BUILD_WORKFLOW
        needs_build = "builds:control" in used and build in shared.state_machine_arns
        # archives:start: the archive state machine's ARN (StartExecution only), same reasoning.
        archive = grants_mod.ARCHIVE_WORKFLOW
        needs_archive = "archives:start" in used and archive in shared.state_machine_arns
        # previews:control: the preview state machine (ARN and name), same reasoning.
        preview = grants_mod.PREVIEW_WORKFLOW
        needs_preview = "previews:control" in used and preview in shared.state_machine_arns
        needs_usage_keys = "usage-keys:write" in used
        needs_deliveries = "deliveries:send" in used
        layers = {route.layer for route in routes}
        if len(layers) != 1:
            raise ValueError(f"the routes of group {group!r} need different layers {sorted(layers)}: split the group")
        # A function gets one layer: the MCP one holds the usual dependencies too.
        layer_arn = imp("McpLayerArn", shared.mcp_layer_arn) if layers == {"mcp"} else imp("LayerArn", shared.layer_arn)
        runtime = Runtime(
            layer=lambda_.LayerVersion.from_layer_version_arn(self, "Dependencies", layer_arn),
            targets=grants_mod.Targets(
                # Only what this group's grants use becomes a parameter.
                table_arn=imp("TableArn", shared.table_arn) if needs_table else "",
                bucket_arn=imp("BucketArn", shared.bucket_arn) if needs_bucket else "",
                cursor_secret_arn=imp("CursorSecretArn", shared.cursor_secret_arn) if needs_secret else "",
                signing_keys_secret_arn=imp("SigningKeysSecretArn", shared.signing_keys_secret_arn)
                if needs_signing_keys
                else "",
                state_machine_arns=tuple(
                    imp(f"StateMachine{pascal(name)}Arn", arn)
                    for name, arn in sorted(shared.state_machine_arns.items())
                )
                if needs_workflows
                else (),
                usage_plan_ids=tuple(
                    imp(f"UsagePlan{pascal(tier)}Id", plan) for tier, plan in shared.usage_plan_ids.items()
                )
                if needs_usage_keys
                else (),
                build_state_machine_arn=imp(f"StateMachine{pascal(build)}Arn", shared.state_machine_arns[build])
                if needs_build
                else "",
                build_state_machine_name=imp(f"StateMachine{pascal(build)}Name", shared.state_machine_names[build])
                if needs_build
                else "",
                archive_state_machine_arn=imp(f"StateMachine{pascal(archive)}Arn", shared.state_machine_arns[archive])
                if needs_archive
                else "",
                preview_state_machine_arn=imp(f"StateMachine{pascal(preview)}Arn", shared.state_machine_arns[preview])
                if needs_preview
                else "",
                preview_state_machine_name=imp(
                    f"StateMachine{pascal(preview)}Name", shared.state_machine_names[preview]
                )
                if needs_preview
                else "",
                bedrock_model_id=settings.invoked_model_id,
                generator_secret_arn=settings.generator_secret_arn,
                delivery_queue_arn=imp("DeliveryQueueArn", shared.delivery_queue_arn) if needs_deliveries else "",
            ),
            log_retention=settings.log_retention,
            log_removal_policy=settings.log_removal_policy,
        )
        rest_api_id = imp("RestApiId", shared.rest_api_id)
        stack = Stack.of(self)

        self.functions: dict[str, KilnFunction] = {}
        for route in routes:
            environment = function_environment(
                route.function_grants,
                table_name=imp("TableName", shared.table_name),
                bucket_name=imp("BucketName", shared.bucket_name),
                usage_plans_json=imp("UsagePlans", shared.usage_plans_json),
                cursor_secret_arn=lambda: imp("CursorSecretArn", shared.cursor_secret_arn),
                signing_keys_secret_arn=lambda: imp("SigningKeysSecretArn", shared.signing_keys_secret_arn),
                state_machines_json=lambda: imp("StateMachines", shared.state_machines_json),
                generator_environment=settings.generator_environment,
                build_task_concurrency=settings.build_task_concurrency,
                cors_allowed_origins=settings.cors_allowed_origins,
                delivery_queue_url=lambda: imp("DeliveryQueueUrl", shared.delivery_queue_url),
            )
            if route.layer == "mcp":
                # Where its tools call the API (kiln.handlers.mcp), from the API's id rather than
                # its deployment's URL: the deployment depends on this function's method (a cycle).
                environment[config.API_URL] = (
                    f"https://{rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{settings.stage_name}"
                )
            fn = KilnFunction(
                self,
                route.function_id,
                spec=FunctionSpec(
                    handler=route.handler_ref,
                    description=f"Kiln {route.method} {route.path}: {route.summary}",
                    grants=route.function_grants,
                    timeout_seconds=settings.api_timeout_seconds,
                    memory_mb=settings.api_memory_mb,
                    environment=environment,
                    function_name=function_name(route),
                    snap_start=settings.snap_start,
                ),
                runtime=runtime,
            )
            acknowledge(fn.function, "Serverless-LambdaDLQ", SYNC_DLQ_REASON)
            # Only this route's method (any stage) may invoke the function (its alias with SnapStart).
            fn.invoked.add_permission(
                "InvokedByApi",
                principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
                action="lambda:InvokeFunction",
                source_arn=stack.format_arn(
                    service="execute-api",
                    resource=rest_api_id,
                    resource_name=f"*/{route.method}{path_for_arn(route.path)}",
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                ),
            )
            self.functions[route.name] = fn

    def _import(self, name: str, value: str) -> str:
        """A root stack value as a parameter of this stack, declared on first use."""
        if name not in self._imported:
            self.set_parameter(name, value)
            self._imported[name] = CfnParameter(self, name, type="String").value_as_string
        return self._imported[name]

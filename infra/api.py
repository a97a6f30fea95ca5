"""The REST API: stage, logging, authorizer, every method of the route table, 405 methods,
CORS preflight methods, gateway responses and usage plans.

Methods are integrated with their route's function by *name* (`<stack>-<Group>-<FunctionId>`), not by a
reference to the function resource. That breaks the cycle usage plans -> stage -> deployment ->
methods -> functions -> (KILN_USAGE_PLANS) usage plans, and lets the functions live in the route
group stacks (route_group.py).

Where the methods live: three per route path at least (the route's, ANY answering 405, OPTIONS),
they are the largest share of the API, so only the root resource's stay in the root stack (a
RestApi must hold one method); every other path's are in the `Methods<Group>` nested stack of
its routes' group (api_methods.py), against resources and an authorizer that stay here. Those
stacks take nothing from the route group stacks, and the deployment depends on all of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence

import jsii
from aws_cdk import ArnFormat, Aws, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import gateway_responses
from infra.lambdas import SNAP_START_ALIAS, KilnFunction
from infra.nag import acknowledge
from infra.settings import Settings
from kiln import routes
from kiln.http.cors import ALLOWED_HEADERS, MAX_AGE_SECONDS, CorsPolicy, allow_header, origin_pattern
from kiln.routes import AUTHORIZER_CACHE_TTL_SECONDS, AUTHORIZER_IDENTITY_SOURCES, AUTHORIZER_TYPE, Route
from kiln.tiers import Tier

BINARY_MEDIA_TYPES = list(routes.BINARY_MEDIA_TYPES)

# One JSON object per request (cdk-nag Serverless-APIGWStructuredLogging). No API key values,
# no bodies: the key id and the authorizer's principal identify the caller.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "requestTime": "$context.requestTime",
        "requestTimeEpoch": "$context.requestTimeEpoch",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "protocol": "$context.protocol",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integration.latency",
        "integrationStatus": "$context.integration.status",
        "errorType": "$context.error.responseType",
        "apiKeyId": "$context.identity.apiKeyId",
        "principalId": "$context.authorizer.principalId",
        "authorizerLatency": "$context.authorizer.latency",
        "authorizerStatus": "$context.authorizer.status",
        "xrayTraceId": "$context.xrayTraceId",
    },
    separators=(",", ":"),
)

NO_AUTH_405_REASON = (
    "ANY method answering 405 METHOD_NOT_ALLOWED for the methods a resource does not declare; it reads "
    "no data and must answer callers with or without credentials, so it has no authorizer."
)
PUBLIC_ROUTE_REASON = "Public by design (route table: authorized=False): {method} {path} ({summary})."
NO_AUTH_OPTIONS_REASON = (
    "OPTIONS answers CORS preflights with a MOCK integration: browsers send them without credentials, "
    "and it reads no data (only the resource's methods and the configured origins)."
)
PREFLIGHT_STATUS = "204"
# Headers a preflight answer may carry; declared on the method response, set by the template.
PREFLIGHT_HEADERS = (
    "Allow",
    "Vary",
    "X-Request-Id",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
)
COGNITO_REASON = (
    "Kiln authenticates API keys, its own OAuth access tokens and session cookies with a Lambda REQUEST "
    "authorizer (kiln.handlers.authorizer) backed by DynamoDB, not with Cognito user pools."
)


def resource_paths(routes: Sequence[Route]) -> list[str]:
    return sorted({route.path for route in routes})


def routes_by_path(routes: Sequence[Route]) -> dict[str, list[Route]]:
    grouped: dict[str, list[Route]] = {}
    for route in routes:
        grouped.setdefault(route.path, []).append(route)
    return grouped


def arn_invocation_uri(function_arn: str) -> str:
    return f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


def lambda_invocation_uri(function_name: str, qualifier: str | None = None) -> str:
    """`qualifier`: an alias to invoke rather than $LATEST (SnapStart, infra/lambdas.py)."""
    function_arn = f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:{function_name}"
    if qualifier:
        function_arn += f":{qualifier}"
    return arn_invocation_uri(function_arn)


def deployment_fingerprint(
    routes: Sequence[Route],
    cors_origins: Sequence[str] = (),
    *,
    function_name: Callable[[Route], str] | None = None,
    snap_start: bool = False,
) -> str:
    """Folded into the deployment's logical id so the stage is redeployed when it changes.

    Only the root resource's methods feed the RestApi's own deployment hash (the others are in
    nested stacks); gateway responses, the authorizer and every method's inputs (route table,
    function names, SnapStart alias, CORS origins) do not, and all only take effect with a new
    deployment.
    """
    described = sorted(
        [
            r.method,
            r.path,
            r.handler_ref,
            r.authorized,
            r.group,
            r.operation_id,
            function_name(r) if function_name is not None else r.function_id,
        ]
        for r in routes
    )
    text = json.dumps(
        [
            described,
            gateway_responses.templates(cors_origins),
            sorted(cors_origins),
            snap_start,
            [AUTHORIZER_TYPE, list(AUTHORIZER_IDENTITY_SOURCES), AUTHORIZER_CACHE_TTL_SECONDS],
        ],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def preflight_template(methods: Sequence[str], origins: Sequence[str]) -> str:
    """The MOCK OPTIONS integration response's Velocity template (kiln.http.cors, as in the local gateway).

    A static response parameter cannot depend on the request, so the allow headers are set by
    `$context.responseOverride` only when the request's Origin matches the allow-list; any other
    origin gets no CORS header and the browser stops there. Directives only, on one line: the
    template renders to an empty body.
    """
    steps = [
        '#set($origin = "")',
        '#if($input.params().header.get("Origin"))#set($origin = $input.params().header.get("Origin"))'
        '#elseif($input.params().header.get("origin"))#set($origin = $input.params().header.get("origin"))#end',
        "#set($context.responseOverride.header.X-Request-Id = $context.requestId)",
    ]
    pattern = origin_pattern(origins)
    if pattern is not None:
        overrides = {
            "Access-Control-Allow-Origin": "$origin",
            "Access-Control-Allow-Methods": f'"{", ".join(methods)}"',
            "Access-Control-Allow-Headers": f'"{", ".join(ALLOWED_HEADERS)}"',
            "Access-Control-Max-Age": f'"{MAX_AGE_SECONDS}"',
        }
        steps.append(f"#if($origin != \"\" && $origin.matches('{pattern}'))")
        steps += [f"#set($context.responseOverride.header.{name} = {value})" for name, value in overrides.items()]
        steps.append("#end")
    return "".join(steps)


def preflight_integration(methods: Sequence[str], origins: Sequence[str]) -> apigw.MockIntegration:
    static = {"method.response.header.Allow": f"'{allow_header(methods)}'"}
    if CorsPolicy(tuple(origins)).enabled:
        static["method.response.header.Vary"] = "'Origin'"
    return apigw.MockIntegration(
        request_templates={"application/json": json.dumps({"statusCode": int(PREFLIGHT_STATUS)})},
        # A preflight has no body; anything with a body of another type is not one.
        passthrough_behavior=apigw.PassthroughBehavior.NEVER,
        integration_responses=[
            apigw.IntegrationResponse(
                status_code=PREFLIGHT_STATUS,
                response_parameters=static,
                response_templates={"application/json": preflight_template(methods, origins)},
            )
        ],
    )


@jsii.implements(apigw.IAuthorizer)
class AuthorizerRef:
    """The REQUEST authorizer by id: what a method needs of it, in this stack or a nested one."""

    def __init__(self, authorizer_id: str) -> None:
        self._authorizer_id = authorizer_id

    @property
    def authorizer_id(self) -> str:
        return self._authorizer_id

    @property
    def authorization_type(self) -> apigw.AuthorizationType:
        return apigw.AuthorizationType.CUSTOM


def path_owners(routes: Sequence[Route]) -> dict[str, str]:
    """Path -> the group whose methods stack holds its ANY and OPTIONS: the group of the path's
    first route in table order (a path may be shared by routes of several groups)."""
    owners: dict[str, str] = {}
    for route in routes:
        owners.setdefault(route.path, route.group)
    return owners


def add_methods(
    resource_for: Callable[[str], apigw.IResource],
    *,
    paths: Sequence[str],
    routes: Sequence[Route],
    all_routes: Sequence[Route],
    not_allowed_uri: str,
    authorizer: apigw.IAuthorizer | None,
    function_name: Callable[[Route], str],
    settings: Settings,
) -> dict[tuple[str, str], apigw.Method]:
    """The ANY (405) and OPTIONS (CORS preflight) methods of `paths` and the methods of `routes`.

    Built the same way in the root stack (the root resource) and in each Methods<Group> stack.
    `all_routes` gives each preflight the methods of its path, whichever groups declare them.
    """
    methods: dict[tuple[str, str], apigw.Method] = {}
    # --- ANY on every resource: 405 for the methods it does not declare ----------------------
    not_allowed = apigw.Integration(
        type=apigw.IntegrationType.AWS_PROXY, integration_http_method="POST", uri=not_allowed_uri
    )
    for path in paths:
        method = resource_for(path).add_method(
            "ANY", not_allowed, authorization_type=apigw.AuthorizationType.NONE, api_key_required=False
        )
        acknowledge(method, "AwsSolutions-APIG4", NO_AUTH_405_REASON)
        acknowledge(method, "AwsSolutions-COG4", NO_AUTH_405_REASON)
        methods[("ANY", path)] = method

    # --- OPTIONS on every resource: CORS preflights, answered by API Gateway itself -------------
    # Declared even without origins (then with no CORS headers), so OPTIONS never reaches the
    # 405 function; one method per resource path, which the stacks' resource budget counts.
    by_path = routes_by_path(all_routes)
    for path in paths:
        declared = sorted({route.method for route in by_path[path]})
        if "OPTIONS" in declared:
            raise ValueError(f"{path}: OPTIONS is the CORS preflight, a route cannot declare it")
        method = resource_for(path).add_method(
            "OPTIONS",
            preflight_integration(declared, settings.cors_allowed_origins),
            authorization_type=apigw.AuthorizationType.NONE,
            api_key_required=False,
            method_responses=[
                apigw.MethodResponse(
                    status_code=PREFLIGHT_STATUS,
                    response_parameters={f"method.response.header.{name}": False for name in PREFLIGHT_HEADERS},
                )
            ],
        )
        acknowledge(method, "AwsSolutions-APIG4", NO_AUTH_OPTIONS_REASON)
        acknowledge(method, "AwsSolutions-COG4", NO_AUTH_OPTIONS_REASON)
        methods[("OPTIONS", path)] = method

    # --- one method per route ------------------------------------------------------------
    for route in routes:
        if route.authorized and authorizer is None:
            raise ValueError(f"{route.method} {route.path} is authorized: its methods need the authorizer")
        integration = apigw.Integration(
            type=apigw.IntegrationType.AWS_PROXY,
            integration_http_method="POST",
            uri=lambda_invocation_uri(function_name(route), SNAP_START_ALIAS if settings.snap_start else None),
        )
        method = resource_for(route.path).add_method(
            route.method,
            integration,
            operation_name=route.operation_id,
            authorizer=authorizer if route.authorized else None,
            authorization_type=apigw.AuthorizationType.CUSTOM if route.authorized else apigw.AuthorizationType.NONE,
            api_key_required=route.authorized,
        )
        if route.authorized:
            acknowledge(method, "AwsSolutions-COG4", COGNITO_REASON)
        else:
            reason = PUBLIC_ROUTE_REASON.format(method=route.method, path=route.path, summary=route.summary)
            acknowledge(method, "AwsSolutions-APIG4", reason)
            acknowledge(method, "AwsSolutions-COG4", reason)
        methods[(route.method, route.path)] = method
    return methods


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        routes: Sequence[Route],
        function_name: Callable[[Route], str],
        tiers: Mapping[str, Tier],
        settings: Settings,
        authorizer_function: KilnFunction,
        method_not_allowed_function: KilnFunction,
    ) -> None:
        super().__init__(scope, id)
        log_removal = settings.log_removal_policy

        access_logs = logs.LogGroup(self, "AccessLogs", retention=settings.log_retention, removal_policy=log_removal)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{settings.stack_name}-api",
            description="Kiln REST API (routes from kiln.routes.ROUTES)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=BINARY_MEDIA_TYPES,
            # The authorizer returns the caller's key as usageIdentifierKey: usage plans apply to
            # bearer tokens without clients sending x-api-key.
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            # Execution logging needs the account-level API Gateway CloudWatch role.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy=True,
            deploy_options=apigw.StageOptions(
                stage_name=settings.stage_name,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(ACCESS_LOG_FORMAT),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=settings.stage_rate_limit,
                throttling_burst_limit=settings.stage_burst_limit,
            ),
        )
        self.stage = self.rest_api.deployment_stage
        # API Gateway creates the execution log group on first use, without retention: own it.
        execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{settings.stage_name}",
            retention=settings.log_retention,
            removal_policy=log_removal,
        )
        self.stage.node.add_dependency(execution_logs)

        acknowledge(
            self.rest_api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level API Gateway logging role (AWS::ApiGateway::Account) is shared by every REST API "
            "in the region; AWS's managed AmazonAPIGatewayPushToCloudWatchLogs policy is the documented one for it.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Requests are validated in each handler with pydantic models, which answer the catalog's "
            "VALIDATION_ERROR with per-field details; an API Gateway request validator would answer "
            "first, with a different body.",
        )
        acknowledge(
            self.stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL by default (a fixed monthly cost per deployment); per-key throttling and quotas "
            "are enforced by the usage plans and the stage throttle. Associate a web ACL for an "
            "internet-facing production deployment.",
        )

        # REQUEST, with no identity sources and API Gateway's cache off (kiln.routes explains
        # why; the function caches its own answers): a key caller sends no cookie, a browser no
        # Authorization header, and a declared source that is missing is a 401 before the function.
        # L1 rather than apigw.RequestAuthorizer: that one attaches to its API through a method of
        # the same stack, and the authorized methods are in the Methods<Group> nested stacks.
        assert AUTHORIZER_TYPE == "REQUEST", "infra builds the REQUEST authorizer kiln.routes declares"
        authorizer = apigw.CfnAuthorizer(
            self,
            "RequestAuthorizer",
            rest_api_id=self.rest_api.rest_api_id,
            name=f"{settings.stack_name}-request",
            type=AUTHORIZER_TYPE,
            authorizer_uri=arn_invocation_uri(authorizer_function.function.function_arn),
            authorizer_result_ttl_in_seconds=AUTHORIZER_CACHE_TTL_SECONDS,
            identity_source=",".join(AUTHORIZER_IDENTITY_SOURCES) or None,
        )
        self.authorizer_id = authorizer.ref
        stack = Stack.of(self)
        # API Gateway may invoke the authorizer function as this API's authorizer, nothing else.
        authorizer_function.function.add_permission(
            "InvokedByAuthorizer",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=stack.format_arn(
                service="execute-api",
                resource=self.rest_api.rest_api_id,
                resource_name=f"authorizers/{authorizer.ref}",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            ),
        )
        # The 405 function, for every ANY method of this API (any stage, method, path).
        self.not_allowed_arn = method_not_allowed_function.function.function_arn
        method_not_allowed_function.function.add_permission(
            "InvokedByApi",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=self.rest_api.arn_for_execute_api(),
        )

        # --- every resource of the route table, here; their methods mostly are not -----------------
        self.resources: dict[str, apigw.IResource] = {}
        for path in resource_paths(routes):
            self.resources[path] = self.rest_api.root if path == "/" else self.rest_api.root.resource_for_path(path)
        # The root resource's methods: a RestApi must hold one, and they are the same few however
        # many routes there are. The other paths' methods: api_methods.MethodGroupStack.
        root_routes = [route for route in routes if route.path == "/"]
        self.methods = add_methods(
            self.resources.__getitem__,
            paths=["/"] if root_routes else [],
            routes=root_routes,
            all_routes=routes,
            not_allowed_uri=arn_invocation_uri(self.not_allowed_arn),
            authorizer=AuthorizerRef(self.authorizer_id),
            function_name=function_name,
            settings=settings,
        )

        # --- gateway responses in the envelope ------------------------------------------------
        for response_type, spec in gateway_responses.templates(settings.cors_allowed_origins).items():
            apigw.GatewayResponse(
                self,
                "Response" + "".join(p.capitalize() for p in response_type.split("_")),
                rest_api=self.rest_api,
                type=apigw.ResponseType.of(response_type),
                status_code=None if spec["status"] is None else str(spec["status"]),
                response_headers=spec["headers"],
                templates={"application/json": spec["body"]},
            )

        # --- usage plans, one per tier --------------------------------------------------------
        self.usage_plans: dict[str, apigw.UsagePlan] = {}
        for name, tier in tiers.items():
            self.usage_plans[name] = self.rest_api.add_usage_plan(
                f"UsagePlan{name.capitalize()}",
                name=f"{settings.stack_name}-{name}",
                description=f"Kiln {name} tier",
                throttle=apigw.ThrottleSettings(rate_limit=tier.rate_per_second, burst_limit=tier.burst),
                quota=(
                    None
                    if tier.requests_per_day is None
                    else apigw.QuotaSettings(limit=tier.requests_per_day, period=apigw.Period.DAY)
                ),
                api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.stage)],
            )

        deployment = self.rest_api.latest_deployment
        assert deployment is not None  # deploy=True
        self.deployment = deployment
        fingerprint = deployment_fingerprint(
            routes, settings.cors_allowed_origins, function_name=function_name, snap_start=settings.snap_start
        )
        deployment.add_to_logical_id({"kiln": fingerprint})

    def deploy_after(self, methods_stack: Construct) -> None:
        """The deployment snapshots the API's methods: it waits for a nested stack holding some."""
        self.deployment.node.add_dependency(methods_stack)

    @property
    def url(self) -> str:
        return self.rest_api.url

    def usage_plan_ids(self) -> dict[str, str]:
        return {name: plan.usage_plan_id for name, plan in self.usage_plans.items()}

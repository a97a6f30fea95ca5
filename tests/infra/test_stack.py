"""The synthesized CloudFormation matches the route table, tiers, schema and envelope in functions/kiln."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from aws_cdk.assertions import Match, Template

from infra import gateway_responses
from infra.route_group import pascal
from infra.settings import WORKFLOWS_DIR
from infra.workflows import placeholders
from kiln.adapters import schema
from kiln.envelope import JSON_CONTENT_TYPE, ErrorCode
from kiln.routes import (
    AUTHORIZER_HANDLER,
    BINARY_MEDIA_TYPES,
    METHOD_NOT_ALLOWED_HANDLER,
    ROUTES,
    WORKERS,
    WORKFLOWS,
)
from kiln.tiers import TIERS
from kiln.websocket_routes import SOCKET_ROUTES

from .conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

MAX_RESOURCES = 450
# The root stack's own budget, well under MAX_RESOURCES: what is left is room for new paths and groups.
ROOT_BUDGET = 350


# --- helpers ------------------------------------------------------------------------------------


def resource_paths(template: dict) -> dict[str, str]:
    """API Gateway resource logical id -> full path (the root resource is '/')."""
    resources = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::ApiGateway::Resource"}
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            parent_path = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{parent_path}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def nested_parameters(synth: Synth, stack: str) -> dict[str, object]:
    """A nested stack's parameters as its parent (the root stack) passes them: name -> value."""
    if stack == synth.stack.stack_name:
        return {}
    node_id = stack.split("/", 1)[1]
    [resource] = [
        r
        for logical_id, r in synth.root["Resources"].items()
        if r["Type"] == "AWS::CloudFormation::Stack"
        and logical_id.startswith(f"{node_id}NestedStack{node_id}NestedStackResource")
    ]
    return resource["Properties"].get("Parameters", {})


def in_root_terms(value: object, parameters: dict[str, object]) -> object:
    """`value` with each reference to a nested stack's parameter replaced by what the root passes."""
    if isinstance(value, list):
        return [in_root_terms(v, parameters) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {k: in_root_terms(v, parameters) for k, v in value.items()}
    return value


def methods_by_route(synth: Synth) -> dict[tuple[str, str], dict]:
    """(method, path) -> properties of every API method, in the root stack or a nested one, with
    the nested stacks' parameters (API, resource and authorizer ids, the 405 function's ARN)
    replaced by the root stack's values."""
    paths = resource_paths(synth.root)
    [rest_api] = [k for k, v in synth.root["Resources"].items() if v["Type"] == "AWS::ApiGateway::RestApi"]
    out = {}
    for stack, resource in synth.resources("AWS::ApiGateway::Method").values():
        props = in_root_terms(resource["Properties"], nested_parameters(synth, stack))
        assert props["RestApiId"] == {"Ref": rest_api}, (stack, props["RestApiId"])
        ref = props["ResourceId"]
        path = paths[ref["Ref"]] if "Ref" in ref else "/"
        key = (props["HttpMethod"], path)
        assert key not in out, f"two methods for {key}"
        out[key] = props
    return out


def join(value) -> str:
    """Flatten an Fn::Join into text with <Ref>/<GetAtt> placeholders."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(join(p) for p in parts)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return json.dumps(value)


def function_key(route) -> str:
    """A route's key in `functions`: its handler, or, when the route shares its handler module
    with another route (a legacy form of its successor), the handler and the route's name."""
    return route.handler_ref if route.name == route.handler else f"{route.handler_ref}#{route.name}"


def functions(synth: Synth) -> dict[str, tuple[str, str, dict]]:
    """Key -> (stack, logical id, properties) for every Lambda function of the app: a route's
    function_key, else (workers, authorizer, 405) the handler."""
    routes = {synth.stack.function_name(route): route for route in synth.routes}
    out = {}
    for key, (stack, resource) in synth.resources("AWS::Lambda::Function").items():
        props = resource["Properties"]
        route = routes.get(props.get("FunctionName"))
        name = function_key(route) if route is not None else props["Handler"]
        assert name not in out, f"two functions for {name}"
        out[name] = (stack, key.split(":", 1)[1], props)
    return out


def role_statements(synth: Synth, stack: str, function_props: dict) -> list[dict]:
    role_id = function_props["Role"]["Fn::GetAtt"][0]
    role = synth.templates[stack]["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role"
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def actions(statements: list[dict]) -> set[str]:
    out: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        out.update([value] if isinstance(value, str) else value)
    return out


# --- API methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_route_has_its_method_and_function(main: Synth, route) -> None:
    method = methods_by_route(main)[(route.method, route.path)]
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY" and integration["IntegrationHttpMethod"] == "POST"
    uri = join(integration["Uri"])
    name = main.stack.function_name(route)
    assert uri.endswith(f":function:{name}/invocations"), uri

    stack, _, props = functions(main)[function_key(route)]
    assert props["FunctionName"] == name
    assert props["Handler"] == route.handler_ref
    assert stack != main.stack.stack_name, "route functions live in their group's nested stack"
    assert props["Runtime"] == "python3.13" and props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] <= 29 and props["MemorySize"] >= 512

    if route.authorized:
        authorizers = [k for k, v in main.root["Resources"].items() if v["Type"] == "AWS::ApiGateway::Authorizer"]
        assert method["AuthorizationType"] == "CUSTOM"
        assert method["AuthorizerId"] == {"Ref": authorizers[0]}
        assert method["ApiKeyRequired"] is True
    else:
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method
        assert not method.get("ApiKeyRequired", False)


def test_only_the_route_method_may_invoke_a_route_function(main: Synth) -> None:
    for route in ROUTES:
        stack, logical_id, _ = functions(main)[function_key(route)]
        permissions = [
            r["Properties"]
            for r in main.templates[stack]["Resources"].values()
            if r["Type"] == "AWS::Lambda::Permission"
            and r["Properties"]["FunctionName"] == {"Fn::GetAtt": [logical_id, "Arn"]}
        ]
        assert len(permissions) == 1
        source = join(permissions[0]["SourceArn"])
        expected_path = re.sub(r"{[^}]+}", "*", route.path)
        assert source.endswith(f":<RestApiId>/*/{route.method}{expected_path}"), source
        assert permissions[0]["Principal"] == "apigateway.amazonaws.com"


def test_every_resource_answers_405_for_undeclared_methods(main: Synth) -> None:
    methods = methods_by_route(main)
    _, mna_id, _ = functions(main)[METHOD_NOT_ALLOWED_HANDLER]
    for path in {r.path for r in ROUTES}:
        any_method = methods[("ANY", path)]
        assert any_method["AuthorizationType"] == "NONE" and not any_method.get("ApiKeyRequired", False)
        assert any_method["Integration"]["Type"] == "AWS_PROXY"
        assert f"<{mna_id}.Arn>" in join(any_method["Integration"]["Uri"])
    declared = {(r.method, r.path) for r in ROUTES} | {(m, r.path) for r in ROUTES for m in ("ANY", "OPTIONS")}
    assert set(methods) == declared  # OPTIONS: the CORS preflight (tests/infra/test_cors.py)


def test_rest_api_and_stage(main: Synth) -> None:
    template = Template.from_json(main.root)
    template.has_resource_properties(
        "AWS::ApiGateway::RestApi",
        {
            "ApiKeySourceType": "AUTHORIZER",
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "BinaryMediaTypes": Match.array_equals(list(BINARY_MEDIA_TYPES)),
        },
    )
    stages = template.find_resources("AWS::ApiGateway::Stage")
    assert len(stages) == 1
    stage = next(iter(stages.values()))["Properties"]
    assert stage["StageName"] == "prod" and stage["TracingEnabled"] is True
    access_log = json.loads(stage["AccessLogSetting"]["Format"])
    assert access_log["requestId"] == "$context.requestId"
    settings = stage["MethodSettings"][0]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["LoggingLevel"] in ("ERROR", "INFO") and settings["MetricsEnabled"] is True
    assert settings["DataTraceEnabled"] is False


# --- functions and least privilege ----------------------------------------------------------------


def test_one_function_and_one_role_per_handler(main: Synth) -> None:
    fns = functions(main)
    expected = (
        {function_key(r) for r in ROUTES}
        | {w.handler_ref for w in WORKERS}
        | {AUTHORIZER_HANDLER, METHOD_NOT_ALLOWED_HANDLER}
        | {r.handler_ref for r in SOCKET_ROUTES}
    )
    assert set(fns) == expected
    roles = [(stack, props["Role"]["Fn::GetAtt"][0]) for stack, _, props in fns.values()]
    assert len(set(roles)) == len(roles), "functions share a role"
    for stack, _, props in fns.values():
        assert "LogGroup" in props["LoggingConfig"], "explicit log group"


def test_roles_hold_only_what_grants_declare(main: Synth) -> None:
    fns = functions(main)
    for route in ROUTES:
        stack, _, props = fns[function_key(route)]
        granted = actions(role_statements(main, stack, props))
        assert {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments"} <= granted
        assert ("dynamodb:GetItem" in granted) == bool({"table:read", "table:write"} & set(route.grants))
        assert ("dynamodb:PutItem" in granted) == ("table:write" in route.grants)
        assert ("s3:PutObject" in granted) == ("bucket:write" in route.grants)
        assert ("secretsmanager:GetSecretValue" in granted) == bool(
            {"cursor-secret:read", "signing-keys:read"} & set(route.grants)
        )
        assert ("states:DescribeStateMachine" in granted) == ("health:check" in route.grants)
        assert not any(a.endswith("*") for a in granted), granted
        env = props["Environment"]["Variables"]
        assert ("KILN_CURSOR_SECRET_ARN" in env) == ("cursor-secret:read" in route.grants)
        assert ("KILN_SIGNING_KEYS_SECRET_ARN" in env) == ("signing-keys:read" in route.grants)
        assert ("KILN_STATE_MACHINES" in env) == bool(
            {"health:check", "builds:control", "archives:start", "previews:control"} & set(route.grants)
        )
        starts = {"builds:control", "archives:start", "previews:control"}
        assert ("states:StartExecution" in granted) == bool(starts & set(route.grants))
        assert ("s3:AbortMultipartUpload" in granted) == ("bucket:write" in route.grants)
        assert {"KILN_TABLE_NAME", "KILN_BUCKET_NAME", "KILN_USAGE_PLANS"} <= set(env)
        assert env["KILN_ENVIRONMENT"] == "aws" and env["POWERTOOLS_SERVICE_NAME"] == "kiln"
        assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
        assert env["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    for worker in WORKERS:
        stack, _, props = fns[worker.handler_ref]
        assert props["Timeout"] == worker.timeout_seconds and props["MemorySize"] == worker.memory_mb
        granted = actions(role_statements(main, stack, props))
        assert ("s3:PutObject" in granted) == ("bucket:write" in worker.grants)
        assert ("s3:AbortMultipartUpload" in granted) == ("bucket:write" in worker.grants)
        assert not any(a.startswith("states:") for a in granted), worker.name


def test_usage_key_management_is_limited_to_the_plans(synthetic: Synth) -> None:
    fns = functions(synthetic)
    stack, _, props = fns["kiln.handlers.keys_create.handler"]
    statements = {s["Sid"]: s for s in role_statements(synthetic, stack, props)}
    created = sorted(join(r) for r in statements["UsageKeysCreate"]["Resource"])
    assert len(created) == 1 + len(TIERS)
    assert all(r.startswith("arn:<AWS::Partition>:apigateway:<AWS::Region>::/") for r in created)
    assert sum(r.endswith("/keys") and "/usageplans/<UsagePlan" in r for r in created) == len(TIERS)
    assert statements["UsageKeysDelete"]["Action"] == "apigateway:DELETE"
    # Routes without the grant get nothing of it.
    stack, _, props = fns["kiln.handlers.runs_create.handler"]
    assert not any(a.startswith("apigateway:") for a in actions(role_statements(synthetic, stack, props)))


def test_table_permissions_name_the_table_and_its_index(main: Synth) -> None:
    fns = functions(main)
    stack, _, props = fns["kiln.handlers.projects_list.handler"]
    statement = next(s for s in role_statements(main, stack, props) if s.get("Sid") == "TableRead")
    assert sorted(join(r) for r in statement["Resource"]) == ["<TableArn>", f"<TableArn>/index/{schema.GSI1}"]


# --- usage plans -----------------------------------------------------------------------------------


def test_usage_plans_match_tiers(main: Synth) -> None:
    plans = {
        v["Properties"]["UsagePlanName"]: v["Properties"]
        for v in main.root["Resources"].values()
        if v["Type"] == "AWS::ApiGateway::UsagePlan"
    }
    assert set(plans) == {f"Kiln-{name}" for name in TIERS}
    for name, tier in TIERS.items():
        plan = plans[f"Kiln-{name}"]
        assert plan["Throttle"] == {"RateLimit": tier.rate_per_second, "BurstLimit": tier.burst}
        if tier.requests_per_day is None:
            assert "Quota" not in plan
        else:
            assert plan["Quota"] == {"Limit": tier.requests_per_day, "Period": "DAY"}
        assert len(plan["ApiStages"]) == 1


def test_outputs_for_the_bootstrap_tool(main: Synth) -> None:
    outputs = main.root["Outputs"]
    assert {"TableName", "BucketName", "ApiUrl", "UsagePlanIds"} <= set(outputs)
    usage_plans = join(outputs["UsagePlanIds"]["Value"])
    for name in TIERS:
        assert f'"{name}":"<' in usage_plans


# --- data, storage, secrets, workflows -------------------------------------------------------------


def tables(synth: Synth) -> dict[str, dict]:
    """The app's DynamoDB tables by role: "main" (infra/data.py, kiln.adapters.schema) and
    "connections" (infra/realtime.py, the WebSocket connections), whichever stack holds them."""
    found = {key.split(":", 1)[1]: resource for key, (_, resource) in synth.resources("AWS::DynamoDB::Table").items()}
    out = {}
    for role, prefix in (("main", "DataTable"), ("connections", "RealtimeConnections")):
        [out[role]] = [resource for logical_id, resource in found.items() if logical_id.startswith(prefix)]
    assert len(found) == len(out), sorted(found)
    return out


def test_table_from_schema(main: Synth) -> None:
    template = Template.from_json({"Resources": {"Table": tables(main)["main"]}})
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [
                        {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
                        {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
                    ],
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True},
                    "DeletionProtectionEnabled": True,
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": schema.GSI1,
                            "KeySchema": [
                                {"AttributeName": schema.GSI1_PARTITION_KEY, "KeyType": "HASH"},
                                {"AttributeName": schema.GSI1_SORT_KEY, "KeyType": "RANGE"},
                            ],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ],
                }
            ),
        },
    )
    expected = schema.create_table_kwargs("x")
    props = tables(main)["main"]["Properties"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert props["StreamSpecification"] == {"StreamViewType": schema.STREAM_VIEW_TYPE}


@pytest.mark.parametrize("name", ["main", "synthetic"])
def test_connections_table_is_on_demand_encrypted_and_expires_its_items(
    name: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(name)
    table = tables(synth)["connections"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    # Encrypted at rest like the main table: DynamoDB always encrypts, with its AWS-owned key
    # when no SSESpecification names another; neither table names one.
    assert "SSESpecification" not in props
    assert "SSESpecification" not in tables(synth)["main"]["Properties"]
    # Nothing in it outlives a connection: no stream, no point-in-time recovery (acknowledged
    # with its reason in infra/realtime.py, which test_cdk_nag_reports_nothing holds to) and
    # gone with the stack, in every mode.
    assert "StreamSpecification" not in props
    assert not props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled", False)
    assert table["DeletionPolicy"] == "Delete"


def test_dev_mode_lets_data_go(synthetic: Synth) -> None:
    table = tables(synthetic)["main"]
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"].get("DeletionProtectionEnabled", False) is False


def test_bucket_is_private_tls_only_and_expires_scratch_data(main: Synth) -> None:
    buckets = {k: v for k, v in main.root["Resources"].items() if v["Type"] == "AWS::S3::Bucket"}
    assert len(buckets) == 2
    data_id, data = next((k, v) for k, v in buckets.items() if "LoggingConfiguration" in v["Properties"])
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert "BucketEncryption" in props
    props = data["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-tmp"]["Prefix"] == "tmp/" and rules["expire-tmp"]["ExpirationInDays"] == 1
    assert rules["expire-exports"]["Prefix"] == "exports/" and rules["expire-exports"]["ExpirationInDays"] == 7
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "CorsConfiguration" not in props, "no CORS rules unless corsAllowedOrigins names origins"

    policies = [v["Properties"] for v in main.root["Resources"].values() if v["Type"] == "AWS::S3::BucketPolicy"]
    data_policy = next(p for p in policies if p["Bucket"] == {"Ref": data_id})
    deny_plain_http = [
        s
        for s in data_policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert deny_plain_http


def test_cursor_secret(main: Synth) -> None:
    template = Template.from_json(main.root)
    template.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "GenerateSecretString": Match.object_like({"PasswordLength": 64}),
        },
    )


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_state_machine_per_workflow(main: Synth, workflow) -> None:
    machines = [
        v["Properties"] for v in main.root["Resources"].values() if v["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    assert len(machines) == len(WORKFLOWS)
    fns = functions(main)
    by_logical_id = {logical_id: props for _, logical_id, props in fns.values()}
    expected = placeholders(WORKFLOWS_DIR / workflow.asl_file)
    machine = next(m for m in machines if set(m["DefinitionSubstitutions"]) == set(workflow.functions))
    assert set(machine["DefinitionSubstitutions"]) == expected
    for placeholder, worker_name in workflow.functions.items():
        target = machine["DefinitionSubstitutions"][placeholder]["Fn::GetAtt"]
        assert target[1] == "Arn"
        worker = next(w for w in WORKERS if w.name == worker_name)
        assert by_logical_id[target[0]]["Handler"] == worker.handler_ref
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"


# --- gateway responses -----------------------------------------------------------------------------

REQUIRED_RESPONSES = {
    "UNAUTHORIZED": (401, ErrorCode.UNAUTHORIZED),
    "ACCESS_DENIED": (401, ErrorCode.UNAUTHORIZED),
    "MISSING_AUTHENTICATION_TOKEN": (404, ErrorCode.ENDPOINT_NOT_FOUND),
    "THROTTLED": (429, ErrorCode.TOO_MANY_REQUESTS),
    "QUOTA_EXCEEDED": (429, ErrorCode.USAGE_LIMIT_EXCEEDED),
    "REQUEST_TOO_LARGE": (413, ErrorCode.PAYLOAD_TOO_LARGE),
    "INVALID_API_KEY": (503, ErrorCode.SERVICE_UNAVAILABLE),
    "AUTHORIZER_FAILURE": (503, ErrorCode.SERVICE_UNAVAILABLE),
    "AUTHORIZER_CONFIGURATION_ERROR": (503, ErrorCode.SERVICE_UNAVAILABLE),
    "DEFAULT_4XX": (None, None),
    "DEFAULT_5XX": (None, ErrorCode.INTERNAL_ERROR),
}


def test_gateway_responses_use_the_envelope(main: Synth) -> None:
    responses = {
        v["Properties"]["ResponseType"]: v["Properties"]
        for v in main.root["Resources"].values()
        if v["Type"] == "AWS::ApiGateway::GatewayResponse"
    }
    assert set(REQUIRED_RESPONSES) <= set(responses)
    assert set(responses) == {m.response_type for m in gateway_responses.MAPPINGS}
    for response_type, (status, code) in REQUIRED_RESPONSES.items():
        props = responses[response_type]
        assert props.get("StatusCode") == (None if status is None else str(status)), response_type
        raw = props["ResponseTemplates"]["application/json"]
        body = json.loads(raw.replace("$context.error.messageString", '"gateway says why"'))
        assert body["success"] is False and body["data"] is None
        assert body["error"]["details"] == {"requestId": "$context.requestId"}
        if code is not None:
            assert body["error"]["code"] == code.value
        else:
            assert body["error"]["code"] in {c.value for c in ErrorCode} - {"VALIDATION_ERROR"}
        headers = props["ResponseParameters"]
        assert headers["gatewayresponse.header.Content-Type"] == f"'{JSON_CONTENT_TYPE}'"
        assert headers["gatewayresponse.header.X-Request-Id"] == "'$context.requestId'"
        if status == 401:
            assert headers["gatewayresponse.header.WWW-Authenticate"] == "'Bearer realm=\"kiln\"'"


def test_gateway_response_status_matches_the_catalog() -> None:
    for mapping in gateway_responses.MAPPINGS:
        if mapping.status is not None:
            assert mapping.status == mapping.code.status, mapping.response_type


# --- size and policy --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["main", "synthetic"])
def test_every_stack_stays_under_450_resources(name: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(name)
    assert synth.error is None, synth.error
    counts = {stack: len(t.get("Resources", {})) for stack, t in synth.templates.items()}
    assert all(count < MAX_RESOURCES for count in counts.values()), counts
    # Headroom: the root stack holds what does not grow with the route table (and one resource
    # per path segment and nested stack); the methods that do grow are in the Methods<Group> stacks.
    assert counts[synth.stack.stack_name] < ROOT_BUDGET, counts
    root_methods = [r for r in synth.root["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    routes_at_root = sum(1 for r in synth.routes if r.path == "/")
    assert len(root_methods) == (2 + routes_at_root if routes_at_root else 0)
    groups = {pascal(r.group) for r in synth.routes}
    stack = synth.stack.stack_name
    expected = {stack, f"{stack}/Events"} | {f"{stack}/{kind}{g}" for g in groups for kind in ("Routes", "Methods")}
    assert set(counts) == expected
    if name == "synthetic":
        assert len(synth.routes) >= 60


@pytest.mark.parametrize("name", ["main", "synthetic"])
def test_cdk_nag_reports_nothing(name: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(name)
    findings = [
        f"{report['pluginName']} {violation['severity']} {violation['ruleName']}: "
        f"{[c['constructPath'] for c in violation['violatingConstructs']]}"
        for report in synth.report.get("pluginReports", [])
        for violation in report.get("violations", [])
    ]
    assert findings == [] and synth.error is None, "\n".join(findings) or synth.error


def test_synthesis_is_environment_agnostic(main: Synth) -> None:
    text = json.dumps(main.templates)
    assert not re.search(r"\b\d{12}\b", text), "an account id is hard-coded"
    assert not re.search(r"\b(us|eu|ap|sa|ca|me|af)-(east|west|north|south|central|northeast|southeast)-\d\b", text)


def test_every_route_group_has_its_nested_stack(synthetic: Synth) -> None:
    groups = Counter(r.group for r in synthetic.routes)
    for group, count in groups.items():
        handlers = {function_key(r) for r in synthetic.routes if r.group == group}
        stacks = {stack for h, (stack, _, _) in functions(synthetic).items() if h in handlers}
        assert len(stacks) == 1, (group, stacks)
    methods = methods_by_route(synthetic)
    assert {(r.method, r.path) for r in synthetic.routes} <= set(methods)


def test_dev_mode_empties_buckets_on_destroy(synthetic: Synth) -> None:
    buckets = [v for v in synthetic.root["Resources"].values() if v["Type"] == "AWS::S3::Bucket"]
    assert buckets and all(b["DeletionPolicy"] == "Delete" for b in buckets)
    auto_delete = [v for v in synthetic.root["Resources"].values() if v["Type"] == "Custom::S3AutoDeleteObjects"]
    assert len(auto_delete) == len(buckets)


# --- construction-time checks (no synthesis) ---------------------------------------------------------


def test_context_values_are_parsed_and_checked() -> None:
    from aws_cdk import App

    from infra.settings import Settings

    settings = Settings.from_context(App(context={"dev": "true", "logRetentionDays": "14"}).node)
    assert settings.dev is True and settings.log_retention_days == 14
    assert Settings.from_context(App(context={"dev": "false"}).node).dev is False
    with pytest.raises(ValueError, match="logRetentionDays"):
        Settings.from_context(App(context={"logRetentionDays": "10"}).node)
    with pytest.raises(ValueError, match="apiTimeoutSeconds"):
        Settings.from_context(App(context={"apiTimeoutSeconds": "30"}).node)


def test_route_table_mistakes_fail_synthesis(layer_dir, tmp_path) -> None:
    from dataclasses import replace

    from .conftest import synthesize

    duplicate = replace(ROUTES[2], handler="projects_create_again")
    with pytest.raises(ValueError, match="duplicate route"):
        synthesize(tmp_path / "dup", layer_dir, routes=(*ROUTES, duplicate))
    unknown_grant = replace(ROUTES[2], method="PUT", handler="projects_replace", grants=("table:everything",))
    with pytest.raises(ValueError, match="unknown grant"):
        synthesize(tmp_path / "grant", layer_dir, routes=(*ROUTES, unknown_grant))

"""The GRANTS vocabulary of kiln.routes turned into the narrowest IAM statements.

A route or worker declares what its function may touch (`grants=("table:read", ...)`); this
module is the single translation to IAM. Resources are always the concrete ARNs of this
deployment; where IAM has no narrower form than a wildcard the statement carries the reason,
which becomes the cdk-nag acknowledgement on that function's role.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from kiln.adapters import schema
from kiln.routes import GRANTS

_TABLE_READ = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem")
# TransactWriteItems is authorized per item through these actions (ConditionCheckItem for the
# condition-only items of a transaction); there is no separate IAM action for transactions.
# BatchWriteItem (a plan's task items) writes no more than PutItem and DeleteItem already may.
_TABLE_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchWriteItem",
)

OBJECTS_REASON = (
    "S3 object actions are authorized per object key: the statement is limited to the objects of "
    "this deployment's own bucket (<bucket ARN>/*), the narrowest form for keys created at run time."
)
API_KEYS_REASON = (
    "API Gateway API key ids are created at run time (one per workspace): deleting one is authorized on "
    "/apikeys/* of this account and region, the narrowest form API Gateway's IAM model offers."
)
BEDROCK_PROFILE_REASON = (
    "A cross-Region inference profile routes each request to the same foundation model in one of its "
    "destination Regions, and Bedrock authorizes InvokeModel on the model in the Region that serves it, so "
    "the model ARN needs a wildcard Region (which also matches the Region-less ARN global profiles use). "
    "The statement names the one model id and holds only when invoked through this deployment's "
    "configured inference profile (condition bedrock:InferenceProfileArn)."
)
BUILD_EXECUTIONS_REASON = (
    "A build run's execution is named by its run id, chosen at run time: stopping it is authorized on "
    "the executions of this deployment's build state machine only (execution:<state machine name>:*), "
    "the narrowest form for execution names not known at deployment."
)
CONNECTIONS_REASON = (
    "WebSocket connection ids are made by API Gateway when a client connects: ManageConnections is allowed on "
    "<api>/<stage>/*/@connections/* of this deployment's WebSocket API and stage only, the narrowest form for "
    "ids not known at deployment."
)
XRAY_REASON = (
    "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; "
    "AWS requires Resource '*' for active tracing."
)
LIST_STREAMS_REASON = (
    "dynamodb:ListStreams is authorized on Resource '*' only (it lists the streams of every table); Lambda's "
    "event source mapping of the table's stream calls it with the stream worker's role. Reading records is "
    "limited to this table's stream."
)
NETWORK_INTERFACES_REASON = (
    "A Lambda function attached to a VPC needs these EC2 network-interface permissions on its execution role "
    "(Lambda checks them when it creates the function and manages its interfaces with them); "
    "DescribeNetworkInterfaces and DescribeSubnets only work on Resource '*'. Only the build sandbox is attached "
    "to a VPC, and its subnets route nowhere (no internet gateway, NAT or endpoint), so nothing running in "
    "it can reach the EC2 API to use them."
)


@dataclass(frozen=True)
class Targets:
    """ARNs of this deployment's resources as seen from the stack that builds the policy."""

    table_arn: str
    bucket_arn: str
    cursor_secret_arn: str
    # The access-token signing key set's secret, for signing-keys:read.
    signing_keys_secret_arn: str = ""
    state_machine_arns: Sequence[str] = field(default=())
    usage_plan_ids: Sequence[str] = field(default=())
    # The build workflow's state machine (ARN and name), for builds:control. Only route group
    # stacks know it: the state machine invokes the workers, so a worker (or anything else the
    # state machine depends on) granted builds:control would close a dependency cycle.
    build_state_machine_arn: str = ""
    build_state_machine_name: str = ""
    # The archive workflow's state machine, for archives:start; the same reasoning holds.
    archive_state_machine_arn: str = ""
    # The Bedrock model (or cross-Region inference profile) id generator:invoke may call; empty
    # when the built-in generator is configured, and then the grant translates to nothing.
    bedrock_model_id: str = ""
    # The secret holding the openai-compatible endpoint's key (a full secret ARN), which
    # generator:invoke may read; empty for the other generators or a keyless endpoint.
    generator_secret_arn: str = ""
    # The build sandbox function (kiln.routes.Worker.sandbox), for sandbox:invoke. Only the
    # workers built after it know it (infra/workflows.py builds the sandbox first).
    sandbox_function_arn: str = ""
    # Events (infra/events.py): the table's stream, the webhook delivery queue, and the queue
    # receiving stream batches that failed every retry (the stream mapping's on-failure destination).
    table_stream_arn: str = ""
    delivery_queue_arn: str = ""
    stream_failure_queue_arn: str = ""
    # Real time (infra/realtime.py): the connections' table, and ManageConnections on the
    # WebSocket API's stage (`<api>/<stage>/*/@connections/*`).
    connections_table_arn: str = ""
    websocket_connections_arn: str = ""
    # Deploy previews (infra/previews.py): the role every preview function runs under and the
    # prefix of their names, for previews:deploy (the preview workers); the preview state machine
    # (ARN and name), for previews:control (route functions only, as for builds:control).
    preview_role_arn: str = ""
    preview_function_prefix: str = ""
    preview_state_machine_arn: str = ""
    preview_state_machine_name: str = ""

    @property
    def index_arn(self) -> str:
        return f"{self.table_arn}/index/{schema.GSI1}"

    @property
    def objects_arn(self) -> str:
        return f"{self.bucket_arn}/*"


@dataclass(frozen=True)
class Permission:
    statement: iam.PolicyStatement
    # Resources containing '*' that IAM cannot narrow further, with why.
    wildcards: tuple[tuple[str, str], ...] = ()


# Every grant permissions_for translates. A grant added to kiln.routes.GRANTS without a
# translation here fails synthesis as soon as a function uses it, instead of granting nothing.
TRANSLATED = frozenset(
    {
        "table:read",
        "table:write",
        "bucket:read",
        "bucket:write",
        "cursor-secret:read",
        "signing-keys:read",
        "signing-keys:rotate",
        "health:check",
        "usage-keys:write",
        "generator:invoke",
        "builds:control",
        "archives:start",
        "table:touch",
        "limits:count",
        "sandbox:invoke",
        "table-stream:read",
        "deliveries:send",
        "deliveries:receive",
        "connections:write",
        "connections:post",
        "previews:control",
        "previews:deploy",
    }
)

# The workflow (kiln.routes.WORKFLOWS) builds:control starts and stops; the same name as
# kiln.adapters.stepfunctions.BUILD_WORKFLOW, the key the functions look up in KILN_STATE_MACHINES.
BUILD_WORKFLOW = "build"
# The workflow archives:start starts (kiln.adapters.stepfunctions.ARCHIVE_WORKFLOW).
ARCHIVE_WORKFLOW = "archive"
# Grants whose functions read KILN_STATE_MACHINES (workflow name -> state machine ARN).
STATE_MACHINE_GRANTS = frozenset({"health:check", "builds:control", "archives:start", "previews:control"})
# The workflow previews:control starts and stops (kiln.adapters.stepfunctions.PREVIEW_WORKFLOW).
PREVIEW_WORKFLOW = "preview"
# What kiln.adapters.preview_lambda calls, on functions named with the preview prefix only.
PREVIEW_FUNCTION_ACTIONS = (
    "lambda:CreateFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:CreateFunctionUrlConfig",
    "lambda:DeleteFunctionUrlConfig",
    "lambda:AddPermission",
    "lambda:TagResource",
    "lambda:GetFunction",
)
PREVIEW_FUNCTIONS_REASON = (
    "Deploy previews are functions created at run time, one per preview, named <prefix><deployment id>: the "
    "deployer may create, change and delete only functions whose name starts with this deployment's preview "
    "prefix (function:<prefix>*), the narrowest form for names not known at deployment. It can pass them only "
    "the preview role, which grants nothing."
)
PREVIEW_EXECUTIONS_REASON = (
    "A preview's execution is named by its deployment id, chosen at run time: stopping it is authorized on "
    "the executions of this deployment's preview state machine only (execution:<state machine name>:*)."
)

# What bucket:write allows on the bucket's objects. PutObject also authorizes the multipart
# calls (CreateMultipartUpload, UploadPart, CompleteMultipartUpload) and the presigned POST
# uploads the function signs; AbortMultipartUpload is its own action (kiln.adapters.s3_transfer
# aborts a streamed upload that fails). DeleteObjects is authorized per key by DeleteObject.
BUCKET_WRITE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")

# Leading segment of a cross-Region (system-defined) inference profile id, e.g.
# us.anthropic.claude-3-5-sonnet-20240620-v1:0; foundation model ids start with the provider.
INFERENCE_PROFILE_PREFIXES = frozenset({"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"})


def inference_profile_model(model_id: str) -> str | None:
    """The foundation model id behind a cross-Region inference profile id; None for a model id."""
    prefix, dot, rest = model_id.partition(".")
    return rest if dot and prefix in INFERENCE_PROFILE_PREFIXES and rest else None


def generator_permissions(model_id: str) -> list[Permission]:
    """bedrock:InvokeModel (which also authorizes Converse) on exactly the configured model.

    A foundation model id: that model in this Region. A cross-Region inference profile id: the
    profile in this account and Region, plus its foundation model in whichever Region the
    profile routes to, only through that profile (AWS: "Prerequisites for inference profiles").
    """
    bedrock = f"arn:{Aws.PARTITION}:bedrock"
    base = inference_profile_model(model_id)
    if base is None:
        return [
            Permission(
                iam.PolicyStatement(
                    sid="GeneratorInvokeModel",
                    actions=["bedrock:InvokeModel"],
                    resources=[f"{bedrock}:{Aws.REGION}::foundation-model/{model_id}"],
                )
            )
        ]
    profile_arn = f"{bedrock}:{Aws.REGION}:{Aws.ACCOUNT_ID}:inference-profile/{model_id}"
    routed_model = f"{bedrock}:*::foundation-model/{base}"
    return [
        Permission(
            iam.PolicyStatement(sid="GeneratorInvokeProfile", actions=["bedrock:InvokeModel"], resources=[profile_arn])
        ),
        Permission(
            iam.PolicyStatement(
                sid="GeneratorInvokeProfileModel",
                actions=["bedrock:InvokeModel"],
                resources=[routed_model],
                conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}},
            ),
            ((routed_model, BEDROCK_PROFILE_REASON),),
        ),
    ]


def validate(grants: Iterable[str], owner: str) -> None:
    unknown = sorted(set(grants) - set(GRANTS))
    if unknown:
        raise ValueError(f"{owner}: unknown grant(s) {unknown}; kiln.routes.GRANTS has {sorted(GRANTS)}")
    untranslated = sorted(set(grants) - TRANSLATED)
    if untranslated:
        raise ValueError(f"{owner}: grant(s) {untranslated} have no IAM translation in infra/grants.py yet")


def permissions_for(grants: Iterable[str], targets: Targets, owner: str) -> list[Permission]:
    """One statement per capability, deduplicated (table:write implies table:read)."""
    grants = tuple(dict.fromkeys(grants))
    validate(grants, owner)
    out: list[Permission] = []

    def allow(
        sid: str, actions: Sequence[str], resources: Sequence[str], wildcards: Sequence[tuple[str, str]] = ()
    ) -> None:
        out.append(
            Permission(iam.PolicyStatement(sid=sid, actions=list(actions), resources=list(resources)), tuple(wildcards))
        )

    if "table:read" in grants or "table:write" in grants:
        allow("TableRead", _TABLE_READ, [targets.table_arn, targets.index_arn])
    if "table:write" in grants:
        allow("TableWrite", _TABLE_WRITE, [targets.table_arn])
    elif "table:touch" in grants:
        allow("TableTouch", ("dynamodb:UpdateItem",), [targets.table_arn])
    if "limits:count" in grants:
        # kiln.adapters.dynamodb.limits: one conditional UpdateItem per check (GetItem when a
        # refusal must be confirmed), only in the counters' partitions.
        out.append(
            Permission(
                iam.PolicyStatement(
                    sid="LimitCounters",
                    actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                    resources=[targets.table_arn],
                    conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*", "USAGE#*"]}},
                )
            )
        )
    if "bucket:write" in grants:
        allow("BucketWrite", BUCKET_WRITE_ACTIONS, [targets.objects_arn], [(targets.objects_arn, OBJECTS_REASON)])
    elif "bucket:read" in grants:
        allow("BucketRead", ("s3:GetObject",), [targets.objects_arn], [(targets.objects_arn, OBJECTS_REASON)])
    if "bucket:write" in grants or "bucket:read" in grants:
        # Without ListBucket S3 answers a missing key with 403 instead of 404, and "not there"
        # (an unknown commit, a spec object) would be indistinguishable from "not allowed".
        allow("BucketList", ("s3:ListBucket",), [targets.bucket_arn])
    if "cursor-secret:read" in grants:
        allow("CursorSecretRead", ("secretsmanager:GetSecretValue",), [targets.cursor_secret_arn])
    if "signing-keys:rotate" in grants:
        allow(
            "SigningKeysRotate",
            ("secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"),
            [targets.signing_keys_secret_arn],
        )
    elif "signing-keys:read" in grants:
        allow("SigningKeysRead", ("secretsmanager:GetSecretValue",), [targets.signing_keys_secret_arn])
    if "usage-keys:write" in grants:
        # kiln.adapters.apigateway: CreateApiKey + CreateUsagePlanKey (and DeleteApiKey to undo).
        if not targets.usage_plan_ids:
            raise ValueError(f"{owner}: usage-keys:write is only available to route functions")
        apigateway = f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}::"
        allow(
            "UsageKeysCreate",
            ("apigateway:POST",),
            [f"{apigateway}/apikeys"] + [f"{apigateway}/usageplans/{plan}/keys" for plan in targets.usage_plan_ids],
        )
        allow(
            "UsageKeysDelete",
            ("apigateway:DELETE",),
            [f"{apigateway}/apikeys/*"],
            [(f"{apigateway}/apikeys/*", API_KEYS_REASON)],
        )
        # A tier change moves the workspace's key between plans: DELETE its membership of the
        # old plan (GET recognises a retried move). Key ids are created at run time.
        memberships = [f"{apigateway}/usageplans/{plan}/keys/*" for plan in targets.usage_plan_ids]
        allow(
            "UsagePlanKeysMove",
            ("apigateway:DELETE", "apigateway:GET"),
            memberships,
            [(arn, API_KEYS_REASON) for arn in memberships],
        )
    if "health:check" in grants:
        allow("HealthTable", ("dynamodb:DescribeTable",), [targets.table_arn])
        # HeadBucket is authorized by s3:ListBucket on the bucket itself (not its objects).
        allow("HealthBucket", ("s3:ListBucket",), [targets.bucket_arn])
        if targets.state_machine_arns:
            allow("HealthWorkflows", ("states:DescribeStateMachine",), list(targets.state_machine_arns))
    if "builds:control" in grants:
        out += build_control_permissions(targets, owner)
    if "archives:start" in grants:
        out += archive_start_permissions(targets, owner)
    if "generator:invoke" in grants and targets.bedrock_model_id:
        out += generator_permissions(targets.bedrock_model_id)
    if "sandbox:invoke" in grants:
        out += sandbox_invoke_permissions(targets, owner)
    if "connections:write" in grants:
        if not targets.connections_table_arn:
            raise ValueError(f"{owner}: connections:write needs the connections table (infra/realtime.py)")
        allow(
            "ConnectionsWrite",
            ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
            [targets.connections_table_arn],
        )
    if "connections:post" in grants:
        if not targets.websocket_connections_arn:
            raise ValueError(f"{owner}: connections:post needs the WebSocket API (infra/realtime.py)")
        allow(
            "ConnectionsPost",
            ("execute-api:ManageConnections",),
            [targets.websocket_connections_arn],
            [(targets.websocket_connections_arn, CONNECTIONS_REASON)],
        )
    if event_grants := sorted(set(grants) & {"table-stream:read", "deliveries:send", "deliveries:receive"}):
        out += event_permissions(event_grants, targets, owner)
    if "previews:deploy" in grants:
        out += preview_deploy_permissions(targets, owner)
    if "previews:control" in grants:
        out += preview_control_permissions(targets, owner)
    if "generator:invoke" in grants and targets.generator_secret_arn:
        # kiln.adapters.secrets.openai_api_key: one GetSecretValue per container, on that secret only.
        allow("GeneratorApiKeyRead", ("secretsmanager:GetSecretValue",), [targets.generator_secret_arn])
    return out


def event_permissions(grants: Sequence[str], targets: Targets, owner: str) -> list[Permission]:
    """The table's stream and the delivery queue (infra/events.py): what the stream and queue
    event source mappings read with the function's role, and what kiln.adapters.sqs sends."""
    out: list[Permission] = []
    if "table-stream:read" in grants:
        if not (targets.table_stream_arn and targets.stream_failure_queue_arn):
            raise ValueError(f"{owner}: table-stream:read needs the table's stream (workers of the root stack only)")
        out += [
            Permission(
                iam.PolicyStatement(
                    sid="TableStreamRead",
                    actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    resources=[targets.table_stream_arn],
                )
            ),
            Permission(
                iam.PolicyStatement(sid="TableStreamList", actions=["dynamodb:ListStreams"], resources=["*"]),
                (("*", LIST_STREAMS_REASON),),
            ),
            # The mapping sends a batch that failed every retry to its on-failure destination
            # with the function's role.
            Permission(
                iam.PolicyStatement(
                    sid="StreamFailuresSend", actions=["sqs:SendMessage"], resources=[targets.stream_failure_queue_arn]
                )
            ),
        ]
    queue_grants = sorted(set(grants) & {"deliveries:send", "deliveries:receive"})
    if queue_grants and not targets.delivery_queue_arn:
        raise ValueError(f"{owner}: {', '.join(queue_grants)} needs the webhook delivery queue")
    if "deliveries:send" in grants:
        out.append(
            Permission(
                iam.PolicyStatement(
                    sid="DeliveriesSend", actions=["sqs:SendMessage"], resources=[targets.delivery_queue_arn]
                )
            )
        )
    if "deliveries:receive" in grants:
        out.append(
            Permission(
                iam.PolicyStatement(
                    sid="DeliveriesReceive",
                    actions=[
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                    ],
                    resources=[targets.delivery_queue_arn],
                )
            )
        )
    return out


def build_executions_arn(state_machine_name: str) -> str:
    """Every execution of one state machine: `arn:<partition>:states:<region>:<account>:execution:<name>:*`."""
    return f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:execution:{state_machine_name}:*"


def build_control_permissions(targets: Targets, owner: str) -> list[Permission]:
    """StartExecution on the build state machine itself, StopExecution on its executions.

    kiln.adapters.stepfunctions.BuildWorkflow makes exactly these two calls: start_execution
    (an already existing execution name is the same run: no DescribeExecution needed) and
    stop_execution on the ARN derived from the machine's.
    """
    if not (targets.build_state_machine_arn and targets.build_state_machine_name):
        raise ValueError(
            f"{owner}: builds:control needs the {BUILD_WORKFLOW!r} state machine, which only route "
            "functions can reference (and only when kiln.routes.WORKFLOWS declares it)"
        )
    executions = build_executions_arn(targets.build_state_machine_name)
    return [
        Permission(
            iam.PolicyStatement(
                sid="BuildsStart", actions=["states:StartExecution"], resources=[targets.build_state_machine_arn]
            )
        ),
        Permission(
            iam.PolicyStatement(sid="BuildsStop", actions=["states:StopExecution"], resources=[executions]),
            ((executions, BUILD_EXECUTIONS_REASON),),
        ),
    ]


def archive_start_permissions(targets: Targets, owner: str) -> list[Permission]:
    """StartExecution on the archive state machine itself, nothing on its executions.

    kiln.adapters.stepfunctions.ArchiveWorkflow makes exactly this call: the execution is named
    by the operation id, and an already existing execution is the same operation (no
    DescribeExecution, no StopExecution). The state machine's ARN names no wildcard.
    """
    if not targets.archive_state_machine_arn:
        raise ValueError(
            f"{owner}: archives:start needs the {ARCHIVE_WORKFLOW!r} state machine, which only route "
            "functions can reference (and only when kiln.routes.WORKFLOWS declares it)"
        )
    return [
        Permission(
            iam.PolicyStatement(
                sid="ArchivesStart", actions=["states:StartExecution"], resources=[targets.archive_state_machine_arn]
            )
        )
    ]


def preview_functions_arn(prefix: str) -> str:
    return f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:{prefix}*"


def preview_deploy_permissions(targets: Targets, owner: str) -> list[Permission]:
    """The deployer's rights: functions with the preview prefix only, PassRole on the preview
    role only and only to Lambda. No CloudFormation, no IAM write: nothing a build's output
    does through the deployer can give anything more rights than the preview role (none)."""
    if not (targets.preview_role_arn and targets.preview_function_prefix):
        raise ValueError(f"{owner}: previews:deploy needs the preview role and function prefix (infra/previews.py)")
    functions = preview_functions_arn(targets.preview_function_prefix)
    return [
        Permission(
            iam.PolicyStatement(sid="PreviewFunctions", actions=list(PREVIEW_FUNCTION_ACTIONS), resources=[functions]),
            ((functions, PREVIEW_FUNCTIONS_REASON),),
        ),
        Permission(
            iam.PolicyStatement(
                sid="PreviewPassRole",
                actions=["iam:PassRole"],
                resources=[targets.preview_role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            )
        ),
    ]


def preview_control_permissions(targets: Targets, owner: str) -> list[Permission]:
    """StartExecution on the preview state machine, StopExecution on its executions
    (kiln.adapters.stepfunctions.PreviewWorkflow: a DELETE stops the waiting execution)."""
    if not (targets.preview_state_machine_arn and targets.preview_state_machine_name):
        raise ValueError(
            f"{owner}: previews:control needs the {PREVIEW_WORKFLOW!r} state machine, which only route "
            "functions can reference"
        )
    executions = build_executions_arn(targets.preview_state_machine_name)
    return [
        Permission(
            iam.PolicyStatement(
                sid="PreviewsStart", actions=["states:StartExecution"], resources=[targets.preview_state_machine_arn]
            )
        ),
        Permission(
            iam.PolicyStatement(sid="PreviewsStop", actions=["states:StopExecution"], resources=[executions]),
            ((executions, PREVIEW_EXECUTIONS_REASON),),
        ),
    ]


def sandbox_invoke_permissions(targets: Targets, owner: str) -> list[Permission]:
    """InvokeFunction on the sandbox function's unqualified ARN, the one kiln.adapters.lambda_invoke calls."""
    if not targets.sandbox_function_arn:
        raise ValueError(
            f"{owner}: sandbox:invoke needs the build sandbox function, which only workers built "
            "after it can reference (a worker with sandbox=True in kiln.routes.WORKERS)"
        )
    return [
        Permission(
            iam.PolicyStatement(
                sid="SandboxInvoke", actions=["lambda:InvokeFunction"], resources=[targets.sandbox_function_arn]
            )
        )
    ]


def network_interface_permissions() -> list[Permission]:
    """What Lambda needs on the role of a function attached to a VPC (AWSLambdaVPCAccessExecutionRole's EC2 part)."""
    return [
        Permission(
            iam.PolicyStatement(
                sid="VpcNetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            ),
            (("*", NETWORK_INTERFACES_REASON),),
        )
    ]


def baseline(log_group_arn: str, *, tracing: bool = True) -> list[Permission]:
    """What every function needs: write its own log group, send traces (when traced)."""
    logs = Permission(
        iam.PolicyStatement(
            sid="Logs", actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group_arn]
        )
    )  # the Arn attribute already ends in ':*'
    if not tracing:
        return [logs]
    return [
        logs,
        Permission(
            iam.PolicyStatement(
                sid="XRay", actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
            ),
            (("*", XRAY_REASON),),
        ),
    ]

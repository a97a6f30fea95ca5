"""One Lambda function with its own log group and its own least-privilege role.

Every Kiln function (routes, workers, the authorizer, the 405 responder) is built here so they
share runtime, architecture, layer, tracing and logging settings, and so each role holds only
what its `grants` declare (see grants.py).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import grants as grants_mod
from infra.nag import acknowledge, wildcard_finding
from infra.sandbox import IsolatedNetwork
from infra.settings import FUNCTIONS_DIR
from kiln import config

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
RUNTIME_REASON = (
    "Runtime pinned to python3.13 on purpose: the dependency layer (layers/build.py) is built for "
    "CPython 3.13 arm64 wheels; moving to a newer runtime is a deliberate change of both."
)
# No bytecode exclusion: the staged copy holds none but what `staged_functions` compiled for
# the runtime's interpreter (the source tree's own caches are left out when it is copied).
CODE_EXCLUDES = ["**/tests", "*.egg-info", "**/.pytest_cache"]
# Lambda's /tmp: 512 MB unless a function asks for more, at most 10240 MB.
DEFAULT_EPHEMERAL_STORAGE_MB = 512
MAX_EPHEMERAL_STORAGE_MB = 10_240
# The alias a SnapStart function is invoked through: SnapStart applies to published versions
# only, never to $LATEST, so callers must name the version; the alias follows each deploy's.
SNAP_START_ALIAS = "live"


Lazy = Callable[[], str]


def function_environment(
    grants: Iterable[str],
    *,
    table_name: str,
    bucket_name: str,
    usage_plans_json: str | None = None,
    cursor_secret_arn: Lazy | None = None,
    signing_keys_secret_arn: Lazy | None = None,
    state_machines_json: Lazy | None = None,
    generator_environment: Mapping[str, str] | None = None,
    build_task_concurrency: int | None = None,
    cors_allowed_origins: Sequence[str] = (),
    delivery_queue_url: Lazy | None = None,
) -> dict[str, str]:
    """The variables kiln.config reads, each only where the function's grants make it useful.

    `generator_environment` is Settings.generator_environment: KILN_GENERATOR and what the
    configured generator reads (model, endpoint, key secret); the built-in generator when
    absent. `state_machines_json` (workflow name -> ARN) reaches the health
    check and the functions that start workflows (builds, archive operations); those that start
    builds also get the build's task concurrency (Settings.build_task_concurrency), which they
    put in the execution input. Functions that answer HTTP get `cors_allowed_origins`
    (Settings.cors_allowed_origins, for kiln.http.cors) when there are any.
    """
    grants = set(grants)
    env = {
        # Read by kiln.config: "aws" refuses the literal secrets meant for the local cloud.
        config.ENVIRONMENT: "aws",
        config.TABLE_NAME: table_name,
        config.BUCKET_NAME: bucket_name,
        "POWERTOOLS_SERVICE_NAME": "kiln",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # Kiln installs no pydantic plugin: without this, the first model built in a container
        # scans every installed package's entry points for one (about 5 ms of each cold start).
        "PYDANTIC_DISABLE_PLUGINS": "__all__",
    }
    if usage_plans_json is not None:
        env[config.USAGE_PLANS] = usage_plans_json
    if "cursor-secret:read" in grants and cursor_secret_arn is not None:
        env[config.CURSOR_SECRET_ARN] = cursor_secret_arn()
    if grants & {"signing-keys:read", "signing-keys:rotate"} and signing_keys_secret_arn is not None:
        env[config.SIGNING_KEYS_SECRET_ARN] = signing_keys_secret_arn()
    if grants & grants_mod.STATE_MACHINE_GRANTS and state_machines_json is not None:
        env[config.STATE_MACHINES] = state_machines_json()
    if "builds:control" in grants and build_task_concurrency is not None:
        env[config.BUILD_TASK_CONCURRENCY] = str(build_task_concurrency)
    if cors_allowed_origins:
        env[config.CORS_ALLOWED_ORIGINS] = ",".join(cors_allowed_origins)
    if "deliveries:send" in grants and delivery_queue_url is not None:
        env[config.DELIVERY_QUEUE_URL] = delivery_queue_url()
    if "generator:invoke" in grants:
        env.update(generator_environment or {config.GENERATOR: "builtin"})
    return env


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between two Kiln functions."""

    handler: str
    description: str
    grants: tuple[str, ...] = ()
    timeout_seconds: int = 29
    memory_mb: int = 512
    ephemeral_storage_mb: int = DEFAULT_EPHEMERAL_STORAGE_MB  # /tmp
    environment: Mapping[str, str] = field(default_factory=dict)
    function_name: str | None = None  # fixed name, for functions invoked by name
    # Active X-Ray tracing. Off only for the build sandbox, which has no network to reach X-Ray
    # (and so no xray permissions either).
    tracing: bool = True
    # SnapStart on published versions, invoked through the alias SNAP_START_ALIAS (`invoked`).
    snap_start: bool = False

    def __post_init__(self) -> None:
        if not DEFAULT_EPHEMERAL_STORAGE_MB <= self.ephemeral_storage_mb <= MAX_EPHEMERAL_STORAGE_MB:
            raise ValueError(
                f"{self.handler}: ephemeral storage must be between {DEFAULT_EPHEMERAL_STORAGE_MB} and "
                f"{MAX_EPHEMERAL_STORAGE_MB} MB, got {self.ephemeral_storage_mb}"
            )


@dataclass
class Runtime:
    """Shared by the functions of one stack: code asset, dependency layer, grant targets, logging."""

    layer: lambda_.ILayerVersion
    targets: grants_mod.Targets
    log_retention: logs.RetentionDays
    log_removal_policy: RemovalPolicy
    _code: lambda_.Code | None = None

    @property
    def code(self) -> lambda_.Code:
        # One asset object per stack (an asset binds to a single stack); the staged directory
        # itself is shared by every function of the app.
        if self._code is None:
            self._code = lambda_.Code.from_asset(str(staged_functions()), exclude=CODE_EXCLUDES)
        return self._code


@functools.cache
def staged_functions() -> Path:
    """functions/ as it ships: the source tree plus what the build writes into it, the OpenAPI
    document `GET /v1/openapi.json` serves (derived from the endpoints' declarations, so it is
    committed once, as docs/openapi.json), and the bytecode of every module for the runtime's
    interpreter when one is found (layers/build.py: Lambda cannot write /var/task, so without
    it every cold start compiles what it imports). One copy per CDK process, removed when it
    ends: CDK has copied it into cdk.out by then."""
    from kiln import openapi
    from layers.build import compile_bytecode, target_python

    staging = Path(tempfile.mkdtemp(prefix="kiln-functions-"))
    atexit.register(shutil.rmtree, staging, True)
    target = staging / "functions"
    shutil.copytree(
        FUNCTIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info")
    )
    openapi.package(target)
    python = target_python()
    if python is not None:
        compile_bytecode(target, python)
    return target


class KilnFunction(Construct):
    """`targets` replaces the runtime's (a worker granted sandbox:invoke needs the sandbox's ARN);
    `network` attaches the function to the sandbox's isolated VPC (infra/sandbox.py)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: FunctionSpec,
        runtime: Runtime,
        targets: grants_mod.Targets | None = None,
        network: IsolatedNetwork | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=runtime.log_retention,
            removal_policy=runtime.log_removal_policy,
        )
        permissions = [
            *grants_mod.baseline(self.log_group.log_group_arn, tracing=spec.tracing),
            *(grants_mod.network_interface_permissions() if network is not None else ()),
            *grants_mod.permissions_for(spec.grants, targets or runtime.targets, owner=spec.handler),
        ]
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Kiln {spec.handler}: {', '.join(spec.grants) or 'no data access'}",
            inline_policies={"kiln": iam.PolicyDocument(statements=[p.statement for p in permissions])},
        )
        reasons: list[str] = []
        for permission in permissions:
            for resource, reason in permission.wildcards:
                acknowledge(self.role, wildcard_finding(self.role, resource), reason)
                reasons.append(reason)
        if reasons:
            acknowledge(self.role, "Serverless-LambdaStarPermissions", " ".join(dict.fromkeys(reasons)))

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=spec.function_name,
            description=spec.description[:256],
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=runtime.code,
            layers=[runtime.layer],
            memory_size=spec.memory_mb,
            # Left out at Lambda's default, so only the functions that need more /tmp declare it.
            ephemeral_storage_size=(
                Size.mebibytes(spec.ephemeral_storage_mb)
                if spec.ephemeral_storage_mb != DEFAULT_EPHEMERAL_STORAGE_MB
                else None
            ),
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE if spec.tracing else lambda_.Tracing.DISABLED,
            vpc=network.vpc if network is not None else None,
            vpc_subnets=network.subnets if network is not None else None,
            security_groups=[network.security_group] if network is not None else None,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            # The role is complete as declared: nothing (tracing, log groups) may widen it.
            role=self.role.without_policy_updates(),
            environment=dict(spec.environment),
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if spec.snap_start else None,
        )
        # `current_version` publishes a new version whenever the function's configuration or
        # code changes; the alias moves to it, and the snapshot is taken when it is published.
        self.alias = (
            lambda_.Alias(self, "Live", alias_name=SNAP_START_ALIAS, version=self.function.current_version)
            if spec.snap_start
            else None
        )
        acknowledge(self.function, "AwsSolutions-L1", RUNTIME_REASON)
        acknowledge(self.function, "Serverless-LambdaLatestVersion", RUNTIME_REASON)

    @property
    def function_arn(self) -> str:
        return self.function.function_arn

    @property
    def invoked(self) -> lambda_.IFunction:
        """What callers invoke: the SnapStart alias when there is one, else the function."""
        return self.alias if self.alias is not None else self.function

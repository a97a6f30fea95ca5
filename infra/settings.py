"""Deployment settings read from CDK context (cdk.json defaults, overridden with `-c key=value`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs

from kiln import config
from kiln.http.cors import check_origins

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
WORKFLOWS_DIR = FUNCTIONS_DIR / "kiln" / "workflows"
LAYER_DIR = REPO_ROOT / ".build" / "layer"
# The layer of the functions whose routes say layer="mcp" (layers/build.py: the above plus the
# MCP SDK and kiln_client).
MCP_LAYER_DIR = REPO_ROOT / ".build" / "layer-mcp"

# CloudWatch Logs only accepts these retention periods (days).
_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


GENERATORS = ("builtin", "bedrock", "openai-compatible")
# A Bedrock foundation model id (anthropic.claude-3-5-sonnet-20240620-v1:0) or a cross-Region
# inference profile id (us.anthropic...). ARNs (with '/') are not accepted: IAM is derived from the id.
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
# What an openai-compatible endpoint calls its models (gpt-4o, llama3.1:8b, org/Model-8B): no
# spaces or control characters.
_OPENAI_MODEL = re.compile(r"^[\x21-\x7e]{1,200}$")
# A full Secrets Manager secret ARN, with the six random characters its name ends with: the
# grant names it exactly (a partial ARN would need a wildcard).
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$")
# An inline Map state (the build workflow's per-wave task Map) runs at most 40 iterations at once.
MAX_BUILD_TASK_CONCURRENCY = 40
# Each repair attempt is a model call per blamed task and a verification: a handful is plenty.
MAX_BUILD_REPAIR_ATTEMPTS = 5


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _origins(value: Any) -> tuple[str, ...]:
    """corsAllowedOrigins: a JSON list (cdk.json), or the same list as text or comma-separated (-c)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError(f"context corsAllowedOrigins is not a JSON list: {value!r}") from None
        else:
            value = text.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"context corsAllowedOrigins must be a list of origins, got {value!r}")
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _int(name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"context {name} must be an integer, got {value!r}") from None


@dataclass(frozen=True)
class Settings:
    """Everything that may differ between two deployments of the same code."""

    stack_name: str = "Kiln"
    # dev=true: resources are destroyed with the stack (no deletion protection, no retained data).
    dev: bool = False
    log_retention_days: int = 30
    stage_name: str = "prod"
    # Stage-wide throttle protecting the account's concurrency; per-key limits are the usage plans.
    stage_rate_limit: int = 200
    stage_burst_limit: int = 400
    # A little under API Gateway's 29 s integration timeout, so a slow function hits its own
    # timeout (logged with its request id) before the gateway gives up on it.
    api_timeout_seconds: int = 28
    api_memory_mb: int = 512
    # Existing SNS topic ARN that alarms notify; alarms are created without actions when empty.
    alarm_topic_arn: str = ""
    # Who writes clarifying questions and specs: the offline built-in generator, or Amazon
    # Bedrock (then bedrock_model_id names the model or inference profile, see infra/grants.py).
    generator: str = "builtin"
    bedrock_model_id: str = ""
    # generator=openai-compatible: the chat-completions endpoint (https, up to before
    # /chat/completions), its model, the secret holding its key (empty: a keyless endpoint) and
    # how JSON is asked for (kiln.adapters.openai_compatible).
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key_secret_arn: str = ""
    openai_output: str = "tools"
    # How many tasks of one dependency wave a build runs at once (the build workflow's inner
    # Map reads it from the execution input, which runs_create/runs_retry fill from
    # KILN_BUILD_TASK_CONCURRENCY). Each running task is one concurrent build_task invocation.
    build_task_concurrency: int = 4
    # How many times a build whose model-written code fails verification is repaired (the
    # failures sent back to the tasks behind them) and verified again before the run fails
    # (KILN_BUILD_REPAIR_ATTEMPTS of build_decompose; the built-in generator never repairs).
    build_repair_attempts: int = 2
    # Browser origins allowed to call the API (preflights, the functions' and the gateway's
    # answers: kiln.http.cors, KILN_CORS_ALLOWED_ORIGINS), to POST presigned uploads to the bucket
    # and to GET its presigned downloads with fetch/XHR (S3 CORS). Empty: no CORS at all, so only
    # non-browser clients (and plain navigations, which need no CORS) use them. Entries are
    # origins, origins with one leading `*.` label, or "*" for every origin.
    cors_allowed_origins: tuple[str, ...] = field(default=())
    # Lambda SnapStart for the API functions (Python 3.12+; infra/lambdas.py, docs/performance.md
    # for what it costs): each deploy publishes a version per function, snapshotted after its
    # init, and API Gateway invokes that version through the alias `live`.
    snap_start: bool = False

    def __post_init__(self) -> None:
        if self.log_retention_days not in _RETENTION:
            raise ValueError(f"logRetentionDays must be one of {sorted(_RETENTION)}, got {self.log_retention_days}")
        if not 1 <= self.api_timeout_seconds <= 29:
            raise ValueError("apiTimeoutSeconds must be between 1 and 29 (API Gateway's integration limit)")
        if not self.stack_name.replace("-", "").isalnum():
            raise ValueError(f"stackName must be alphanumeric with dashes, got {self.stack_name!r}")
        if not 1 <= self.build_task_concurrency <= MAX_BUILD_TASK_CONCURRENCY:
            raise ValueError(
                f"buildTaskConcurrency must be between 1 and {MAX_BUILD_TASK_CONCURRENCY} (the most "
                f"iterations an inline Map state runs at once), got {self.build_task_concurrency}"
            )
        if not 0 <= self.build_repair_attempts <= MAX_BUILD_REPAIR_ATTEMPTS:
            raise ValueError(
                f"buildRepairAttempts must be between 0 and {MAX_BUILD_REPAIR_ATTEMPTS}, "
                f"got {self.build_repair_attempts}"
            )
        try:
            check_origins(self.cors_allowed_origins)
        except ValueError as error:
            raise ValueError(f"corsAllowedOrigins: {error}") from None
        if self.generator not in GENERATORS:
            raise ValueError(f"generator must be one of {list(GENERATORS)}, got {self.generator!r}")
        if self.generator == "bedrock":
            if not self.bedrock_model_id:
                raise ValueError(
                    "bedrockModelId is required when generator is bedrock: pass the Bedrock model or "
                    "inference profile id, e.g. -c generator=bedrock "
                    "-c bedrockModelId=us.anthropic.claude-3-5-sonnet-20240620-v1:0"
                )
            if self.bedrock_model_id.startswith("arn:") or not _MODEL_ID.match(self.bedrock_model_id):
                raise ValueError(
                    f"bedrockModelId must be a Bedrock model or inference profile id (not an ARN), "
                    f"got {self.bedrock_model_id!r}"
                )
        if self.generator == "openai-compatible":
            self._check_openai()

    def _check_openai(self) -> None:
        from kiln.adapters.openai_compatible import OUTPUT_MODES, parse_base_url

        if not self.openai_base_url or not self.openai_model:
            raise ValueError(
                "openaiBaseUrl and openaiModel are required when generator is openai-compatible, e.g. "
                "-c generator=openai-compatible -c openaiBaseUrl=https://api.openai.com/v1 -c openaiModel=gpt-4o "
                "-c openaiApiKeySecretArn=<secret ARN>"
            )
        try:
            parse_base_url(self.openai_base_url)
        except ValueError as error:
            raise ValueError(f"openaiBaseUrl: {error}") from None
        if not self.openai_base_url.startswith("https://"):
            # Deployed functions reach the endpoint over the internet, with the key.
            raise ValueError(f"openaiBaseUrl must be an https URL when deployed, got {self.openai_base_url!r}")
        if not _OPENAI_MODEL.match(self.openai_model):
            raise ValueError(f"openaiModel must be a model name without spaces, got {self.openai_model!r}")
        if self.openai_api_key_secret_arn and not _SECRET_ARN.match(self.openai_api_key_secret_arn):
            raise ValueError(
                "openaiApiKeySecretArn must be the full ARN of a Secrets Manager secret (ending in -XXXXXX, as "
                f"`aws secretsmanager describe-secret` prints it), got {self.openai_api_key_secret_arn!r}"
            )
        if self.openai_output not in OUTPUT_MODES:
            raise ValueError(f"openaiOutput must be one of {list(OUTPUT_MODES)}, got {self.openai_output!r}")

    @classmethod
    def from_context(cls, node: Any) -> Settings:
        """Read settings from a construct node's context (the App's, normally)."""

        def get(key: str, default: Any) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        defaults = cls()
        return cls(
            stack_name=str(get("stackName", defaults.stack_name)),
            dev=_bool(get("dev", defaults.dev)),
            log_retention_days=_int("logRetentionDays", get("logRetentionDays", defaults.log_retention_days)),
            stage_name=str(get("stageName", defaults.stage_name)),
            stage_rate_limit=_int("stageRateLimit", get("stageRateLimit", defaults.stage_rate_limit)),
            stage_burst_limit=_int("stageBurstLimit", get("stageBurstLimit", defaults.stage_burst_limit)),
            api_timeout_seconds=_int("apiTimeoutSeconds", get("apiTimeoutSeconds", defaults.api_timeout_seconds)),
            api_memory_mb=_int("apiMemoryMb", get("apiMemoryMb", defaults.api_memory_mb)),
            alarm_topic_arn=str(get("alarmTopicArn", defaults.alarm_topic_arn)),
            generator=str(get("generator", defaults.generator)).strip().lower() or defaults.generator,
            bedrock_model_id=str(get("bedrockModelId", defaults.bedrock_model_id)).strip(),
            openai_base_url=str(get("openaiBaseUrl", defaults.openai_base_url)).strip(),
            openai_model=str(get("openaiModel", defaults.openai_model)).strip(),
            openai_api_key_secret_arn=str(get("openaiApiKeySecretArn", defaults.openai_api_key_secret_arn)).strip(),
            openai_output=str(get("openaiOutput", defaults.openai_output)).strip().lower() or defaults.openai_output,
            build_task_concurrency=_int(
                "buildTaskConcurrency", get("buildTaskConcurrency", defaults.build_task_concurrency)
            ),
            build_repair_attempts=_int(
                "buildRepairAttempts", get("buildRepairAttempts", defaults.build_repair_attempts)
            ),
            cors_allowed_origins=_origins(get("corsAllowedOrigins", defaults.cors_allowed_origins)),
            snap_start=_bool(get("snapStart", defaults.snap_start)),
        )

    @property
    def invoked_model_id(self) -> str:
        """The Bedrock model generator:invoke functions call; empty with the built-in generator."""
        return self.bedrock_model_id if self.generator == "bedrock" else ""

    @property
    def generator_environment(self) -> dict[str, str]:
        """What the functions granted generator:invoke read to build the configured generator."""
        if self.generator == "bedrock":
            return {config.GENERATOR: "bedrock", config.BEDROCK_MODEL_ID: self.bedrock_model_id}
        if self.generator == "openai-compatible":
            env = {
                config.GENERATOR: "openai-compatible",
                config.OPENAI_BASE_URL: self.openai_base_url,
                config.OPENAI_MODEL: self.openai_model,
                config.OPENAI_OUTPUT: self.openai_output,
            }
            if self.openai_api_key_secret_arn:
                env[config.OPENAI_API_KEY_SECRET_ARN] = self.openai_api_key_secret_arn
            return env
        return {config.GENERATOR: "builtin"}

    @property
    def generator_secret_arn(self) -> str:
        """The secret generator:invoke may read (the endpoint's key); empty unless openai-compatible."""
        return self.openai_api_key_secret_arn if self.generator == "openai-compatible" else ""

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]

    @property
    def log_removal_policy(self) -> RemovalPolicy:
        """Log groups outlive a deleted stack (until their retention ends), unless dev."""
        return RemovalPolicy.DESTROY if self.dev else RemovalPolicy.RETAIN

    @property
    def removal_policy(self) -> RemovalPolicy:
        """For stateful resources: kept when the stack is deleted, unless dev."""
        return RemovalPolicy.DESTROY if self.dev else RemovalPolicy.RETAIN

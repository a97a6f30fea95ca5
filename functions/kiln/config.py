"""The settings a Kiln function runs with: environment variables set by CDK, the local cloud or tests.

Each variable's name is declared once, here; infra/ and local/ import the names to build the
functions' environments. Each kind of function has a frozen settings class listing what it reads
(AuthorizerSettings, ApiSettings, WorkerSettings). A function's module loads its kind when the
module is imported, which is the Lambda cold start: a missing or malformed variable stops the
function there, every missing or malformed variable named in one message, instead of failing a
request later.

The accessors below (`table_name()`, ...) answer from the settings this process loaded. Outside a
function (a script, a test after `reset()`, the local cloud before it imports any handler) nothing
is loaded, and an accessor reads its one variable, with the same rules, each time it is called;
that is what lets tests and the local cloud set variables after import.

Neither pydantic models nor dataclasses, on purpose: the authorizer and /health import no pydantic,
whose import alone adds tens of milliseconds to a cold start, and @dataclass spends 4-6 ms writing
the methods of these five classes. A settings class is its annotated fields, each naming its
variable; the small base below reads them, and instances cannot be changed.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, NoReturn, TypeVar, cast

# --- variable names -------------------------------------------------------------------------------

ENVIRONMENT = "KILN_ENVIRONMENT"  # aws (set by CDK) or local (the local cloud and tests)
TABLE_NAME = "KILN_TABLE_NAME"
BUCKET_NAME = "KILN_BUCKET_NAME"
STATE_MACHINES = "KILN_STATE_MACHINES"  # JSON: workflow name -> state machine ARN
CURSOR_SECRET_ARN = "KILN_CURSOR_SECRET_ARN"
CURSOR_SECRET = "KILN_CURSOR_SECRET"  # a literal signing secret: local only
# The access-token signing key set (kiln.domain.tokens) and, optionally, the issuer URL.
SIGNING_KEYS_SECRET_ARN = "KILN_SIGNING_KEYS_SECRET_ARN"
OAUTH_ISSUER = "KILN_OAUTH_ISSUER"
AUTHORIZER_CACHE_SECONDS = "KILN_AUTHORIZER_CACHE_SECONDS"
# The longest a revoked key or access token keeps working in a warm authorizer.
AUTHORIZER_CACHE_DEFAULT_SECONDS = 60.0
USAGE_PLANS = "KILN_USAGE_PLANS"  # JSON: tier -> API Gateway usage plan id
DOCS_URL = "KILN_DOCS_URL"
CORS_ALLOWED_ORIGINS = "KILN_CORS_ALLOWED_ORIGINS"
GENERATOR = "KILN_GENERATOR"
BEDROCK_MODEL_ID = "KILN_BEDROCK_MODEL_ID"
# The openai-compatible generator's variables (CDK sets them from infra.settings).
OPENAI_BASE_URL = "KILN_OPENAI_BASE_URL"
OPENAI_MODEL = "KILN_OPENAI_MODEL"
OPENAI_OUTPUT = "KILN_OPENAI_OUTPUT"
OPENAI_API_KEY_SECRET_ARN = "KILN_OPENAI_API_KEY_SECRET_ARN"
OPENAI_API_KEY = "KILN_OPENAI_API_KEY"  # a literal key: local only
BUILD_TASK_CONCURRENCY = "KILN_BUILD_TASK_CONCURRENCY"
BUILD_REPAIR_ATTEMPTS = "KILN_BUILD_REPAIR_ATTEMPTS"
VERIFY_TIMEOUT_SECONDS = "KILN_VERIFY_TIMEOUT_SECONDS"
SANDBOX_FUNCTION = "KILN_SANDBOX_FUNCTION"
SSE_HOLD_SECONDS = "KILN_SSE_HOLD_SECONDS"
KEY_ROTATION_GRACE_SECONDS = "KILN_KEY_ROTATION_GRACE_SECONDS"
# Real time (kiln.domain.live): the WebSocket connections' table and the management API endpoint
# of the WebSocket API (https://<api>.execute-api.<region>.amazonaws.com/<stage>; locally the gateway).
CONNECTIONS_TABLE = "KILN_CONNECTIONS_TABLE"
WEBSOCKET_ENDPOINT = "KILN_WEBSOCKET_ENDPOINT"
# The REST API's public URL, which access tokens name as issuer and audience: a WebSocket
# message carries a token but not the REST request it would be checked against.
API_URL = "KILN_API_URL"
# Browser sessions (kiln.domain.sessions): absolute lifetime and idle timeout, in seconds.
SESSION_TTL_SECONDS = "KILN_SESSION_TTL_SECONDS"
SESSION_IDLE_SECONDS = "KILN_SESSION_IDLE_SECONDS"
# OAuth (kiln.domain.oauth): how long a grant (a refresh-token family) lasts, from its code, in seconds.
OAUTH_REFRESH_LIFETIME_SECONDS = "KILN_OAUTH_REFRESH_LIFETIME_SECONDS"
# Webhooks: whether http://127.0.0.1 / localhost targets are allowed (the local cloud only), and how
# long a rotated webhook secret keeps signing next to the new one.
WEBHOOK_ALLOW_LOOPBACK = "KILN_WEBHOOK_ALLOW_LOOPBACK"
WEBHOOK_SECRET_OVERLAP_SECONDS = "KILN_WEBHOOK_SECRET_OVERLAP_SECONDS"
# Webhook deliveries (kiln.domain.deliveries): the delivery queue's URL, and the factor every
# retry wait is multiplied by (the local cloud's 0.01 makes 5 s and 5 min come after 0.05 s and 3 s).
DELIVERY_QUEUE_URL = "KILN_DELIVERY_QUEUE_URL"
WEBHOOK_RETRY_SCALE = "KILN_LOCAL_WEBHOOK_RETRY_SCALE"
# Deploy previews (kiln.domain.previews): how long a preview lives (24 h unless set; the local
# cloud's tests shorten it), the role every preview function runs under and the prefix of their
# names (CDK sets both for the preview workers), and the local cloud's preview process manager.
PREVIEW_TTL_SECONDS = "KILN_PREVIEW_TTL_SECONDS"
PREVIEW_ROLE_ARN = "KILN_PREVIEW_ROLE_ARN"
PREVIEW_FUNCTION_PREFIX = "KILN_PREVIEW_FUNCTION_PREFIX"
LOCAL_PREVIEWS_URL = "KILN_LOCAL_PREVIEWS_URL"

Environment = Literal["aws", "local"]
GeneratorName = Literal["builtin", "bedrock", "openai-compatible"]
OpenAIOutput = Literal["tools", "json_schema"]


class SettingsError(RuntimeError, ValueError):
    """A variable is missing or malformed. A RuntimeError (the function cannot run as deployed)
    and a ValueError (a value is wrong), so callers catching either keep working."""


# --- parsing one variable -------------------------------------------------------------------------

Parse = Callable[[str], Any]


def _text(raw: str) -> str:
    return raw


def _choice(*allowed: str) -> Parse:
    def parse(raw: str) -> str:
        value = raw.lower()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _json_map(raw: str) -> Mapping[str, str]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise ValueError("must be a JSON object of names to strings") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("must be a JSON object of names to strings")
    return MappingProxyType(value)


def _list(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))


def _flag(raw: str) -> bool:
    value = raw.lower()
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


def _whole(minimum: int) -> Parse:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"must be a whole number >= {minimum}") from None
        if value < minimum:
            raise ValueError(f"must be a whole number >= {minimum}")
        return value

    return parse


def _seconds(*, positive: bool) -> Parse:
    bound = "> 0" if positive else ">= 0"

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"must be a number of seconds {bound}") from None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise ValueError(f"must be a number of seconds {bound}")
        return value

    return parse


_REQUIRED: Any = object()
_NO_MAP: Mapping[str, str] = MappingProxyType({})


class _Variable:
    """A settings field: the variable it is read from, how, and its default (_REQUIRED: none)."""

    __slots__ = ("default", "name", "parse")

    def __init__(self, name: str, parse: Parse, default: Any) -> None:
        self.name, self.parse, self.default = name, parse, default

    def read(self, environ: Mapping[str, str], problems: list[str]) -> Any:
        """The field's value; on a problem, appends it and returns None."""
        raw = environ.get(self.name, "").strip()  # empty counts as unset, as CloudFormation writes it
        if not raw:
            if self.default is _REQUIRED:
                problems.append(f"{self.name} is not set")
            return None if self.default is _REQUIRED else self.default
        try:
            return self.parse(raw)
        except ValueError as error:
            problems.append(f"{self.name} {error}, got {raw!r}")
            return None


def _variable(name: str, parse: Parse = _text, default: Any = _REQUIRED) -> Any:
    """A settings field read from variable `name`; required unless it has a default (immutable)."""
    return _Variable(name, parse, default)


S = TypeVar("S", bound="Settings")


# --- the settings of each kind of function --------------------------------------------------------


class Settings:
    """What every Kiln function reads: where it runs, and the table."""

    environment: Environment = _variable(ENVIRONMENT, _choice("aws", "local"))
    table_name: str = _variable(TABLE_NAME)
    # The access-token signing key set (the authorizer verifies with it, routes sign, a worker rotates it).
    signing_keys_secret_arn: str | None = _variable(SIGNING_KEYS_SECRET_ARN, default=None)
    # The OAuth issuer (a custom domain's URL); None: derived from each request's Host and stage.
    # Here because the token routes (which sign) and the authorizer (which verifies) must agree.
    oauth_issuer: str | None = _variable(OAUTH_ISSUER, default=None)
    # Sessions: the authorizer resolves cookies and the session routes create them, so both read these.
    session_ttl_seconds: float = _variable(SESSION_TTL_SECONDS, _seconds(positive=True), default=12 * 60 * 60.0)
    session_idle_seconds: float = _variable(SESSION_IDLE_SECONDS, _seconds(positive=True), default=30 * 60.0)
    # OAuth grants: the token route issues them, the authorizer reads them (kiln.services builds one service).
    oauth_refresh_lifetime_seconds: float = _variable(
        OAUTH_REFRESH_LIFETIME_SECONDS, _seconds(positive=True), default=30 * 24 * 60 * 60.0
    )

    def __init__(self, **values: Any) -> None:
        for name in self.fields():
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self.fields())})"

    @classmethod
    def fields(cls) -> dict[str, _Variable]:
        """Field name -> its variable, base classes' fields first."""
        found: dict[str, _Variable] = {}
        for klass in reversed(cls.__mro__):
            found.update((name, value) for name, value in vars(klass).items() if isinstance(value, _Variable))
        return found

    @classmethod
    def from_environ(cls: type[S], environ: Mapping[str, str]) -> S:
        """Every field of this kind from `environ`; SettingsError lists every problem at once."""
        problems: list[str] = []
        values = {name: variable.read(environ, problems) for name, variable in cls.fields().items()}
        if not problems:
            settings = cls(**values)
            problems = settings.problems()
            if not problems:
                return settings
        raise SettingsError(f"invalid {cls.__name__}: {'; '.join(problems)}")

    def problems(self) -> list[str]:
        """What is wrong across fields (each field alone has been checked)."""
        return []


class AuthorizerSettings(Settings):
    """The REQUEST authorizer: keys, people and sessions are read from the table, the token key
    set from Secrets Manager."""

    # How long a warm authorizer reuses its answer for the same Authorization header (see
    # kiln.domain.authentication); 0 checks every request against the table.
    authorizer_cache_seconds: float = _variable(
        AUTHORIZER_CACHE_SECONDS, _seconds(positive=False), default=AUTHORIZER_CACHE_DEFAULT_SECONDS
    )


class ServiceSettings(Settings):
    """What route functions and workers both read: the bucket, the workflows, the generator."""

    bucket_name: str = _variable(BUCKET_NAME)
    state_machines: Mapping[str, str] = _variable(STATE_MACHINES, _json_map, default=_NO_MAP)
    generator: GeneratorName = _variable(
        GENERATOR, _choice("builtin", "bedrock", "openai-compatible"), default="builtin"
    )
    bedrock_model_id: str | None = _variable(BEDROCK_MODEL_ID, default=None)
    openai_base_url: str | None = _variable(OPENAI_BASE_URL, default=None)
    openai_model: str | None = _variable(OPENAI_MODEL, default=None)
    openai_output: OpenAIOutput = _variable(OPENAI_OUTPUT, _choice("tools", "json_schema"), default="tools")
    openai_api_key_secret_arn: str | None = _variable(OPENAI_API_KEY_SECRET_ARN, default=None)
    openai_api_key: str | None = _variable(OPENAI_API_KEY, default=None)
    # Webhook targets on this machine's loopback (checked at registration and at delivery).
    webhook_allow_loopback: bool = _variable(WEBHOOK_ALLOW_LOOPBACK, _flag, default=False)
    # Webhook deliveries: the queue the delivery worker reads (functions granted deliveries:send),
    # and the retry schedule's scale (1 when deployed; the local cloud shortens it).
    delivery_queue_url: str | None = _variable(DELIVERY_QUEUE_URL, default=None)
    webhook_retry_scale: float = _variable(WEBHOOK_RETRY_SCALE, _seconds(positive=True), default=1.0)
    # Deploy previews: the API fixes each preview's expiry from it, the workers read the rest.
    preview_ttl_seconds: float = _variable(PREVIEW_TTL_SECONDS, _seconds(positive=True), default=24 * 60 * 60.0)
    preview_role_arn: str | None = _variable(PREVIEW_ROLE_ARN, default=None)
    preview_function_prefix: str | None = _variable(PREVIEW_FUNCTION_PREFIX, default=None)
    local_previews_url: str | None = _variable(LOCAL_PREVIEWS_URL, default=None)

    def problems(self) -> list[str]:
        problems = super().problems()
        if self.environment == "aws" and self.local_previews_url:
            problems.append(f"{LOCAL_PREVIEWS_URL} is for the local cloud; deployed previews run on Lambda")
        if self.environment == "aws" and self.webhook_allow_loopback:
            problems.append(
                f"{WEBHOOK_ALLOW_LOOPBACK}=true is for the local cloud; deployed webhooks reach public addresses only"
            )
        if self.environment == "aws" and self.webhook_retry_scale != 1.0:
            problems.append(f"{WEBHOOK_RETRY_SCALE} is for the local cloud; deployed retries follow the schedule")
        if self.generator == "bedrock" and not self.bedrock_model_id:
            problems.append(f"{GENERATOR}=bedrock needs {BEDROCK_MODEL_ID}")
        if self.generator == "openai-compatible" and not (self.openai_base_url and self.openai_model):
            problems.append(f"{GENERATOR}=openai-compatible needs {OPENAI_BASE_URL} and {OPENAI_MODEL}")
        if self.environment == "aws" and self.openai_api_key:
            problems.append(
                f"{OPENAI_API_KEY} (a literal key) is for the local cloud; in AWS the key comes "
                f"from Secrets Manager ({OPENAI_API_KEY_SECRET_ARN})"
            )
        return problems


class ApiSettings(ServiceSettings):
    """Route functions: everything services read, plus what the HTTP side of the API needs."""

    usage_plans: Mapping[str, str] = _variable(USAGE_PLANS, _json_map, default=_NO_MAP)
    cursor_secret_arn: str | None = _variable(CURSOR_SECRET_ARN, default=None)
    cursor_secret: str | None = _variable(CURSOR_SECRET, default=None)
    docs_url: str = _variable(DOCS_URL, default="/docs")
    # kiln.http.cors checks each origin's syntax.
    cors_allowed_origins: tuple[str, ...] = _variable(CORS_ALLOWED_ORIGINS, _list, default=())
    # How many tasks of one dependency wave run at once (the build workflow's inner Map).
    build_task_concurrency: int = _variable(BUILD_TASK_CONCURRENCY, _whole(1), default=4)
    # How long one event-stream response waits for new events (under API Gateway's 29 s).
    sse_hold_seconds: float = _variable(SSE_HOLD_SECONDS, _seconds(positive=False), default=20.0)
    # How long a rotated key's previous secret keeps working; None: kiln.domain.access's default.
    key_rotation_grace_seconds: float | None = _variable(
        KEY_ROTATION_GRACE_SECONDS, _seconds(positive=False), default=None
    )
    # How long a rotated webhook secret keeps signing; None: kiln.domain.webhooks's default (24 h).
    webhook_secret_overlap_seconds: float | None = _variable(
        WEBHOOK_SECRET_OVERLAP_SECONDS, _seconds(positive=False), default=None
    )

    def problems(self) -> list[str]:
        problems = super().problems()
        if self.environment == "aws" and self.cursor_secret:
            problems.append(
                f"{CURSOR_SECRET} (a literal secret) is for the local cloud; in AWS cursors are "
                f"signed with the Secrets Manager secret ({CURSOR_SECRET_ARN})"
            )
        return problems


class WorkerSettings(ServiceSettings):
    """Step Functions workers."""

    # How long the generated project's own test suite may run during verification.
    verify_timeout_seconds: float = _variable(VERIFY_TIMEOUT_SECONDS, _seconds(positive=True), default=240.0)
    # The build sandbox function (name or ARN) build_verify invokes to run generated code.
    sandbox_function: str | None = _variable(SANDBOX_FUNCTION, default=None)
    # How many times a model-written build whose verification fails is repaired and verified
    # again before the run fails (read by build_decompose, which fixes each run's allowance).
    build_repair_attempts: int = _variable(BUILD_REPAIR_ATTEMPTS, _whole(0), default=2)


class LiveSettings(Settings):
    """The WebSocket API's functions ($connect, $disconnect, $default); the table stream's
    real-time consumer reads the same two variables."""

    connections_table: str = _variable(CONNECTIONS_TABLE)
    websocket_endpoint: str = _variable(WEBSOCKET_ENDPOINT)
    api_url: str | None = _variable(API_URL, default=None)


# --- loading --------------------------------------------------------------------------------------

_loaded: dict[type[Settings], Settings] = {}


def load(kind: type[S]) -> S:
    """The settings of `kind`, validated from the environment on first use, then kept for the life
    of the process. Function modules call it when imported, so problems stop the cold start."""
    settings = _loaded.get(kind)
    if settings is None:
        settings = _loaded[kind] = kind.from_environ(os.environ)
    return cast(S, settings)


def loaded(kind: type[S]) -> S | None:
    """The loaded settings that include `kind`'s fields, if this process loaded any."""
    for settings in _loaded.values():
        if isinstance(settings, kind):
            return settings
    return None


def reset() -> None:
    """Forget what was loaded, so the next use reads the environment again (tests, the local cloud)."""
    _loaded.clear()


def _get(kind: type[Settings], name: str) -> Any:
    settings = loaded(kind)
    if settings is not None:
        return getattr(settings, name)
    # Outside a function: this one variable, by the same rules, each call (see the module docstring).
    problems: list[str] = []
    value = kind.fields()[name].read(os.environ, problems)
    if problems:
        raise SettingsError(problems[0])
    return value


def _needed(kind: type[Settings], name: str, variable: str) -> str:
    """A field that may be absent, read by code that cannot work without it."""
    value: str | None = _get(kind, name)
    if not value:
        raise SettingsError(f"{variable} is not set")
    return value


# --- accessors ------------------------------------------------------------------------------------


def table_name() -> str:
    return _get(Settings, "table_name")


def bucket_name() -> str:
    return _get(ServiceSettings, "bucket_name")


def state_machine_arns() -> Mapping[str, str]:
    """Workflow name -> state machine ARN."""
    return _get(ServiceSettings, "state_machines")


def generator_name() -> GeneratorName:
    """Which generator writes questions, specs and code: builtin (offline), bedrock or openai-compatible."""
    return _get(ServiceSettings, "generator")


def bedrock_model_id() -> str:
    """The Bedrock model (or inference profile) id the bedrock generator calls."""
    return _needed(ServiceSettings, "bedrock_model_id", BEDROCK_MODEL_ID)


def openai_base_url() -> str:
    """The openai-compatible generator's endpoint, up to before /chat/completions
    (for example http://localhost:11434/v1 for a local Ollama)."""
    return _needed(ServiceSettings, "openai_base_url", OPENAI_BASE_URL)


def openai_model() -> str:
    """The model the openai-compatible generator asks for."""
    return _needed(ServiceSettings, "openai_model", OPENAI_MODEL)


def openai_output() -> OpenAIOutput:
    """How the openai-compatible generator asks for JSON: `tools` (default) or `json_schema`."""
    return _get(ServiceSettings, "openai_output")


def openai_api_key_secret_arn() -> str | None:
    """The Secrets Manager secret holding the openai-compatible endpoint's key (deployed)."""
    return _get(ServiceSettings, "openai_api_key_secret_arn")


def openai_api_key_literal() -> str | None:
    """The openai-compatible endpoint's key as a literal (local cloud and tests only)."""
    return _get(ServiceSettings, "openai_api_key")


def usage_plan_ids() -> Mapping[str, str]:
    """Tier name -> API Gateway usage plan id."""
    return _get(ApiSettings, "usage_plans")


def cursor_secret_arn() -> str | None:
    return _get(ApiSettings, "cursor_secret_arn")


def cursor_secret_literal() -> str | None:
    """A literal cursor-signing secret (local cloud and tests only; AWS uses Secrets Manager)."""
    return _get(ApiSettings, "cursor_secret")


def signing_keys_secret_arn() -> str | None:
    """The access-token key set's secret: read by the authorizer, the token routes and the
    scheduled rotation worker alike."""
    return _get(Settings, "signing_keys_secret_arn")


def session_ttl_seconds() -> float:
    """A session's absolute lifetime (12 h unless KILN_SESSION_TTL_SECONDS says otherwise)."""
    return _get(Settings, "session_ttl_seconds")


def session_idle_seconds() -> float:
    """How long a session may go unused (30 min unless KILN_SESSION_IDLE_SECONDS says otherwise)."""
    return _get(Settings, "session_idle_seconds")


def oauth_refresh_lifetime_seconds() -> int:
    """A grant's absolute lifetime: no refresh after it (30 days unless KILN_OAUTH_REFRESH_LIFETIME_SECONDS)."""
    return int(_get(Settings, "oauth_refresh_lifetime_seconds"))


def oauth_issuer() -> str | None:
    return _get(Settings, "oauth_issuer")


def authorizer_cache_seconds() -> float:
    return _get(AuthorizerSettings, "authorizer_cache_seconds")


def docs_url() -> str:
    return _get(ApiSettings, "docs_url")


def cors_allowed_origins() -> tuple[str, ...]:
    """Browser origins allowed to read API answers (comma-separated, set by CDK from
    `corsAllowedOrigins`); empty: no CORS. kiln.http.cors checks the syntax."""
    return _get(ApiSettings, "cors_allowed_origins")


def build_task_concurrency() -> int:
    return _get(ApiSettings, "build_task_concurrency")


def delivery_queue_url() -> str:
    return _needed(ServiceSettings, "delivery_queue_url", DELIVERY_QUEUE_URL)


def webhook_retry_scale() -> float:
    return _get(ServiceSettings, "webhook_retry_scale")


def sse_hold_seconds() -> float:
    return _get(ApiSettings, "sse_hold_seconds")


def key_rotation_grace_seconds() -> float | None:
    """None when unset: kiln.domain.access's default, 24 hours. Tests and the local cloud shorten it."""
    return _get(ApiSettings, "key_rotation_grace_seconds")


def webhook_allow_loopback() -> bool:
    """Whether webhooks may target 127.0.0.1 / localhost over http (the local cloud; never in aws)."""
    return _get(ServiceSettings, "webhook_allow_loopback")


def webhook_secret_overlap_seconds() -> float | None:
    """None when unset: kiln.domain.webhooks's default, 24 hours. Tests and the local cloud shorten it."""
    return _get(ApiSettings, "webhook_secret_overlap_seconds")


def preview_ttl_seconds() -> float:
    """How long a deploy preview lives before it tears itself down (24 h unless set)."""
    return _get(ServiceSettings, "preview_ttl_seconds")


def preview_providers() -> tuple[str, ...]:
    """The preview providers this deployment offers, the default first: Lambda when deployed,
    a process on 127.0.0.1 in the local cloud (which has no Lambda to run generated code on)."""
    return ("aws-lambda",) if _get(Settings, "environment") == "aws" else ("local",)


def preview_role_arn() -> str:
    """The role every preview function runs under (it grants nothing; set by CDK for the deployer)."""
    return _needed(ServiceSettings, "preview_role_arn", PREVIEW_ROLE_ARN)


def preview_function_prefix() -> str:
    """The prefix of every preview function's name, the only functions the deployer may touch."""
    return _needed(ServiceSettings, "preview_function_prefix", PREVIEW_FUNCTION_PREFIX)


def local_previews_url() -> str:
    """The local cloud's preview process manager (local.previews)."""
    return _needed(ServiceSettings, "local_previews_url", LOCAL_PREVIEWS_URL)


def verify_timeout_seconds() -> float:
    return _get(WorkerSettings, "verify_timeout_seconds")


def build_repair_attempts() -> int:
    """Repairs of a failed verification per run (model generators only; 0: none)."""
    return _get(WorkerSettings, "build_repair_attempts")


def sandbox_function() -> str:
    """The build sandbox function (name or ARN) build_verify invokes to run generated code
    (set by CDK where the `sandbox:invoke` grant is, and by the local cloud)."""
    return _needed(WorkerSettings, "sandbox_function", SANDBOX_FUNCTION)


def connections_table() -> str:
    """The table of WebSocket connections and subscriptions (kiln.adapters.dynamodb.connections)."""
    return _get(LiveSettings, "connections_table")


def websocket_endpoint() -> str:
    """Where PostToConnection goes: the WebSocket API's management endpoint."""
    return _get(LiveSettings, "websocket_endpoint")


def live_token_audience() -> str:
    """The issuer and audience a token sent over a WebSocket must name: KILN_OAUTH_ISSUER when
    set (a custom domain), else the REST API's URL (KILN_API_URL); empty: no token is accepted."""
    issuer = os.environ.get(OAUTH_ISSUER, "").strip() or (_get(LiveSettings, "api_url") or "")
    return issuer.rstrip("/")

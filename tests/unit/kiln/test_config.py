"""kiln.config: each kind of function's settings, checked when its module is imported."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from kiln import config
from kiln.config import ApiSettings, AuthorizerSettings, Settings, SettingsError, WorkerSettings
from kiln.routes import AUTHORIZER_HANDLER, ROUTES, WORKERS

REPO = pathlib.Path(__file__).resolve().parents[3]
BASE = {config.ENVIRONMENT: "aws", config.TABLE_NAME: "kiln-table", config.BUCKET_NAME: "kiln-bucket"}
# Route functions that read no settings of their own (at most the CORS origins, per call): the
# OpenAPI document, the Swagger UI page and its assets, whose cold start loads nothing else.
READ_NO_SETTINGS = {"kiln.handlers.docs_openapi", "kiln.handlers.docs_ui", "kiln.handlers.docs_assets"}


def test_api_settings_are_typed_from_the_environment():
    settings = ApiSettings.from_environ(
        {
            **BASE,
            config.STATE_MACHINES: json.dumps({"build": "arn:build"}),
            config.USAGE_PLANS: '{"free": "p1", "pro": "p2"}',
            config.CURSOR_SECRET_ARN: "arn:secret",
            config.GENERATOR: " Bedrock ",
            config.BEDROCK_MODEL_ID: "us.amazon.nova-pro-v1:0",
            config.BUILD_TASK_CONCURRENCY: "8",
            config.SSE_HOLD_SECONDS: "0.5",
            config.KEY_ROTATION_GRACE_SECONDS: "5",
            config.CORS_ALLOWED_ORIGINS: "https://a.example, https://b.example,,https://a.example",
        }
    )
    assert settings.environment == "aws" and settings.table_name == "kiln-table"
    assert dict(settings.state_machines) == {"build": "arn:build"}
    assert dict(settings.usage_plans) == {"free": "p1", "pro": "p2"}
    assert settings.generator == "bedrock" and settings.bedrock_model_id == "us.amazon.nova-pro-v1:0"
    assert settings.build_task_concurrency == 8 and settings.sse_hold_seconds == 0.5
    assert settings.key_rotation_grace_seconds == 5.0
    assert settings.cors_allowed_origins == ("https://a.example", "https://b.example")
    with pytest.raises(TypeError):
        settings.usage_plans["free"] = "changed"  # type: ignore[index]
    with pytest.raises(AttributeError, match="ApiSettings is read-only"):
        settings.table_name = "another"
    assert repr(settings).startswith("ApiSettings(environment='aws', table_name='kiln-table', ")


def test_defaults_apply_to_unset_and_empty_variables():
    settings = ApiSettings.from_environ({**BASE, config.SSE_HOLD_SECONDS: "", config.DOCS_URL: "  "})
    assert settings.generator == "builtin" and settings.docs_url == "/docs"
    assert settings.sse_hold_seconds == 20.0 and settings.build_task_concurrency == 4
    assert settings.key_rotation_grace_seconds is None and dict(settings.state_machines) == {}
    assert WorkerSettings.from_environ(BASE).verify_timeout_seconds == 240.0


def test_every_missing_or_malformed_variable_is_named_at_once():
    with pytest.raises(SettingsError) as failure:
        ApiSettings.from_environ(
            {
                config.ENVIRONMENT: "staging",
                config.BUCKET_NAME: "b",
                config.STATE_MACHINES: "[1, 2]",
                config.BUILD_TASK_CONCURRENCY: "0",
                config.SSE_HOLD_SECONDS: "soon",
                config.KEY_ROTATION_GRACE_SECONDS: "-1",
                config.GENERATOR: "gpt",
            }
        )
    message = str(failure.value)
    assert message.startswith("invalid ApiSettings: ")
    for expected in (
        "KILN_ENVIRONMENT must be one of aws, local, got 'staging'",
        "KILN_TABLE_NAME is not set",
        "KILN_STATE_MACHINES must be a JSON object of names to strings, got '[1, 2]'",
        "KILN_BUILD_TASK_CONCURRENCY must be a whole number >= 1, got '0'",
        "KILN_SSE_HOLD_SECONDS must be a number of seconds >= 0, got 'soon'",
        "KILN_KEY_ROTATION_GRACE_SECONDS must be a number of seconds >= 0, got '-1'",
        "KILN_GENERATOR must be one of builtin, bedrock, openai-compatible, got 'gpt'",
    ):
        assert expected in message
    # Callers treating a misconfiguration as either kind of error keep catching it.
    assert isinstance(failure.value, RuntimeError) and isinstance(failure.value, ValueError)


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({config.GENERATOR: "bedrock"}, "KILN_GENERATOR=bedrock needs KILN_BEDROCK_MODEL_ID"),
        (
            {config.GENERATOR: "openai-compatible", config.OPENAI_BASE_URL: "http://localhost:11434/v1"},
            "KILN_GENERATOR=openai-compatible needs KILN_OPENAI_BASE_URL and KILN_OPENAI_MODEL",
        ),
        ({config.OPENAI_OUTPUT: "yaml"}, "KILN_OPENAI_OUTPUT must be one of tools, json_schema, got 'yaml'"),
        ({config.VERIFY_TIMEOUT_SECONDS: "0"}, "KILN_VERIFY_TIMEOUT_SECONDS must be a number of seconds > 0"),
    ],
)
def test_a_generator_or_worker_setting_that_cannot_work_is_refused(environ, problem):
    with pytest.raises(SettingsError, match=problem):
        WorkerSettings.from_environ({**BASE, **environ})


def test_literal_secrets_are_for_the_local_cloud_only():
    literals = {config.CURSOR_SECRET: "s" * 32, config.OPENAI_API_KEY: "sk-local"}
    local = ApiSettings.from_environ({**BASE, config.ENVIRONMENT: "local", **literals})
    assert local.cursor_secret == "s" * 32 and local.openai_api_key == "sk-local"
    with pytest.raises(SettingsError) as failure:
        ApiSettings.from_environ({**BASE, **literals})
    assert "KILN_CURSOR_SECRET (a literal secret) is for the local cloud" in str(failure.value)
    assert "KILN_OPENAI_API_KEY (a literal key) is for the local cloud" in str(failure.value)


def test_webhook_loopback_targets_are_for_the_local_cloud_only():
    allowed = {config.WEBHOOK_ALLOW_LOOPBACK: "true"}
    assert ApiSettings.from_environ({**BASE, config.ENVIRONMENT: "local", **allowed}).webhook_allow_loopback is True
    assert WorkerSettings.from_environ(BASE).webhook_allow_loopback is False
    for kind in (ApiSettings, WorkerSettings):
        with pytest.raises(SettingsError, match="KILN_WEBHOOK_ALLOW_LOOPBACK=true is for the local cloud"):
            kind.from_environ({**BASE, **allowed})
    with pytest.raises(SettingsError, match="must be true or false"):
        ApiSettings.from_environ({**BASE, config.WEBHOOK_ALLOW_LOOPBACK: "yes"})
    overlap = ApiSettings.from_environ({**BASE, config.WEBHOOK_SECRET_OVERLAP_SECONDS: "2.5"})
    assert overlap.webhook_secret_overlap_seconds == 2.5


def test_each_kind_reads_only_its_own_variables():
    # The authorizer runs whatever generator or stream settings the API has: it reads neither.
    environ = {**BASE, config.GENERATOR: "bedrock", config.SSE_HOLD_SECONDS: "never"}
    assert AuthorizerSettings.from_environ(environ).table_name == "kiln-table"
    for kind in (ApiSettings, WorkerSettings):
        with pytest.raises(SettingsError):
            kind.from_environ(environ)


def test_every_declared_variable_is_read_by_some_kind_of_function():
    declared = {
        value
        for name, value in vars(config).items()
        if name.isupper() and isinstance(value, str) and value.startswith("KILN_")
    }
    read = {
        variable.name
        for kind in (AuthorizerSettings, ApiSettings, WorkerSettings, config.LiveSettings)
        for variable in kind.fields().values()
    }
    assert declared == read


def test_loaded_settings_are_kept_until_reset(monkeypatch):
    monkeypatch.setenv(config.SSE_HOLD_SECONDS, "3")
    loaded = config.load(ApiSettings)
    assert config.load(ApiSettings) is loaded and config.sse_hold_seconds() == 3.0
    monkeypatch.setenv(config.SSE_HOLD_SECONDS, "7")
    assert config.sse_hold_seconds() == 3.0  # a warm container reads its environment once
    assert config.loaded(Settings) is loaded  # the table name comes from the same object
    config.reset()
    assert config.loaded(Settings) is None
    assert config.sse_hold_seconds() == 7.0


def test_session_lifetimes_have_defaults_and_are_read_by_the_authorizer_too(monkeypatch):
    assert config.session_ttl_seconds() == 12 * 3600 and config.session_idle_seconds() == 30 * 60
    settings = AuthorizerSettings.from_environ(
        {**BASE, config.SESSION_TTL_SECONDS: "3600", config.SESSION_IDLE_SECONDS: "90.5"}
    )
    assert settings.session_ttl_seconds == 3600.0 and settings.session_idle_seconds == 90.5
    with pytest.raises(SettingsError, match="KILN_SESSION_IDLE_SECONDS must be a number of seconds > 0, got '0'"):
        AuthorizerSettings.from_environ({**BASE, config.SESSION_IDLE_SECONDS: "0"})
    monkeypatch.setenv(config.SESSION_TTL_SECONDS, "soon")
    with pytest.raises(SettingsError, match="KILN_SESSION_TTL_SECONDS must be a number"):
        config.session_ttl_seconds()


def test_without_loaded_settings_an_accessor_reads_its_one_variable(monkeypatch):
    monkeypatch.delenv(config.BUCKET_NAME)
    monkeypatch.setenv(config.KEY_ROTATION_GRACE_SECONDS, "2.5")
    assert config.key_rotation_grace_seconds() == 2.5
    monkeypatch.setenv(config.KEY_ROTATION_GRACE_SECONDS, "later")
    with pytest.raises(SettingsError, match="KILN_KEY_ROTATION_GRACE_SECONDS must be a number"):
        config.key_rotation_grace_seconds()
    with pytest.raises(SettingsError, match="KILN_BUCKET_NAME is not set"):
        config.bucket_name()
    with pytest.raises(SettingsError, match="KILN_BEDROCK_MODEL_ID is not set"):
        config.bedrock_model_id()


# --- the cold start -----------------------------------------------------------------------------

_IMPORT_EACH = """
import importlib, json, sys
outcome = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        outcome[name] = None
    except Exception as error:
        outcome[name] = f"{type(error).__name__}: {error}"
print(json.dumps(outcome))
"""


def _import_each(modules: list[str], environ: dict[str, str]) -> dict[str, str | None]:
    """Import each module in a fresh process, as the Lambda runtime does at a cold start."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, *modules],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "functions"), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environ},
    )
    return json.loads(done.stdout)


def _module(handler_ref: str) -> str:
    return handler_ref.rpartition(".")[0]


ROUTE_MODULES = sorted({_module(route.handler_ref) for route in ROUTES} - READ_NO_SETTINGS)
WORKER_MODULES = sorted({_module(worker.handler_ref) for worker in WORKERS if not worker.sandbox})
# The build sandbox runs generated code with no Kiln variable at all (infra/workflows.py).
SANDBOX_MODULES = sorted({_module(worker.handler_ref) for worker in WORKERS if worker.sandbox})
AUTHORIZER_MODULE = _module(AUTHORIZER_HANDLER)


def test_every_function_refuses_to_start_without_its_settings():
    outcome = _import_each(
        [*ROUTE_MODULES, *WORKER_MODULES, AUTHORIZER_MODULE, *READ_NO_SETTINGS],
        {config.ENVIRONMENT: "aws", config.BUCKET_NAME: "kiln-bucket"},
    )
    kinds = {
        **dict.fromkeys(ROUTE_MODULES, "ApiSettings"),
        **dict.fromkeys(WORKER_MODULES, "WorkerSettings"),
        AUTHORIZER_MODULE: "AuthorizerSettings",
    }
    for module, kind in kinds.items():
        assert outcome[module] == f"SettingsError: invalid {kind}: KILN_TABLE_NAME is not set", module
    assert all(outcome[module] is None for module in READ_NO_SETTINGS)


def test_the_build_sandbox_starts_with_no_kiln_variable():
    assert SANDBOX_MODULES
    assert _import_each(SANDBOX_MODULES, {}) == dict.fromkeys(SANDBOX_MODULES)


def test_a_function_starts_only_when_what_it_reads_is_well_formed():
    environ = {**BASE, config.TABLE_NAME: "kiln-table", config.GENERATOR: "bedrock"}
    outcome = _import_each(["kiln.handlers.specs_clarify", "kiln.workers.build_task", AUTHORIZER_MODULE], environ)
    assert outcome["kiln.handlers.specs_clarify"] == (
        "SettingsError: invalid ApiSettings: KILN_GENERATOR=bedrock needs KILN_BEDROCK_MODEL_ID"
    )
    assert outcome["kiln.workers.build_task"] == (
        "SettingsError: invalid WorkerSettings: KILN_GENERATOR=bedrock needs KILN_BEDROCK_MODEL_ID"
    )
    assert outcome[AUTHORIZER_MODULE] is None
    fixed = _import_each(
        ["kiln.handlers.specs_clarify", "kiln.workers.build_task"],
        {**environ, config.BEDROCK_MODEL_ID: "us.amazon.nova-pro-v1:0"},
    )
    assert fixed == {"kiln.handlers.specs_clarify": None, "kiln.workers.build_task": None}


def test_build_repair_attempts_default_to_two_and_may_be_zero():
    assert WorkerSettings.from_environ(BASE).build_repair_attempts == 2
    assert WorkerSettings.from_environ({**BASE, config.BUILD_REPAIR_ATTEMPTS: "0"}).build_repair_attempts == 0
    with pytest.raises(SettingsError, match="KILN_BUILD_REPAIR_ATTEMPTS must be a whole number >= 0, got '-1'"):
        WorkerSettings.from_environ({**BASE, config.BUILD_REPAIR_ATTEMPTS: "-1"})

"""The generator:invoke grant with the openai-compatible generator: the generating functions get
the endpoint's settings and GetSecretValue on the key's secret, nothing else and nobody else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import grants
from kiln.routes import ROUTES, WORKERS

from .conftest import Synth, synthesize
from .test_stack import actions, functions, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

BASE_URL = "https://api.example.com/v1"
MODEL = "gpt-4o-mini"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kiln/openai-key-AbC123"
CONTEXT = {
    "generator": "openai-compatible",
    "openaiBaseUrl": BASE_URL,
    "openaiModel": MODEL,
    "openaiApiKeySecretArn": SECRET_ARN,
}
INVOKERS = {r.handler_ref for r in ROUTES if "generator:invoke" in r.grants} | {
    w.handler_ref for w in WORKERS if "generator:invoke" in w.grants
}
OPENAI_VARIABLES = {"KILN_OPENAI_BASE_URL", "KILN_OPENAI_MODEL", "KILN_OPENAI_OUTPUT", "KILN_OPENAI_API_KEY_SECRET_ARN"}


@pytest.fixture(scope="module")
def openai(tmp_path_factory: pytest.TempPathFactory, layer_dir: Path) -> Synth:
    return synthesize(tmp_path_factory.mktemp("cdk-openai"), layer_dir, context=CONTEXT)


def reads_the_key(statement: dict) -> bool:
    return "secretsmanager:GetSecretValue" in actions([statement]) and statement["Resource"] == SECRET_ARN


def test_generating_functions_get_the_endpoint_and_only_they_read_its_key(openai: Synth) -> None:
    assert openai.error is None, openai.error
    fns = functions(openai)
    assert set(fns) >= INVOKERS
    for handler, (stack, _, props) in fns.items():
        statements = role_statements(openai, stack, props)
        env = props["Environment"]["Variables"]
        if handler not in INVOKERS:
            assert not any(reads_the_key(s) for s in statements), handler
            assert not OPENAI_VARIABLES & set(env) and "KILN_GENERATOR" not in env, handler
            continue
        assert env["KILN_GENERATOR"] == "openai-compatible"
        assert env["KILN_OPENAI_BASE_URL"] == BASE_URL and env["KILN_OPENAI_MODEL"] == MODEL
        assert env["KILN_OPENAI_OUTPUT"] == "tools" and env["KILN_OPENAI_API_KEY_SECRET_ARN"] == SECRET_ARN
        [key] = [s for s in statements if s.get("Sid") == "GeneratorApiKeyRead"]
        assert key["Action"] == "secretsmanager:GetSecretValue" and key["Resource"] == SECRET_ARN, handler
        assert not any(a.startswith("bedrock:") for a in actions(statements)), handler


def test_the_key_never_appears_in_a_template(openai: Synth) -> None:
    # Only the secret's ARN is deployed; the key itself is read at run time.
    text = json.dumps(openai.templates)
    assert SECRET_ARN in text and 'KILN_OPENAI_API_KEY"' not in text


def test_cdk_nag_accepts_the_openai_generator(openai: Synth) -> None:
    findings = [
        f"{report['pluginName']} {violation['severity']} {violation['ruleName']}"
        for report in openai.report.get("pluginReports", [])
        for violation in report.get("violations", [])
    ]
    assert findings == [] and openai.error is None, "\n".join(findings) or openai.error


# --- construction-time checks (no synthesis) ---------------------------------------------------------


def settings(**context: str):  # -> Settings
    from aws_cdk import App

    from infra.settings import Settings

    return Settings.from_context(App(context=context).node)


def test_the_grant_reads_only_the_configured_secret() -> None:
    from aws_cdk import App, Stack

    targets = grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s", generator_secret_arn=SECRET_ARN)
    [permission] = grants.permissions_for(("generator:invoke",), targets, owner="probe")
    statement = Stack(App(), "Probe").resolve(permission.statement.to_statement_json())
    assert statement == {
        "Sid": "GeneratorApiKeyRead",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": SECRET_ARN,
    }
    assert permission.wildcards == ()


def test_a_keyless_endpoint_gets_no_grant_and_no_secret_variable() -> None:
    keyless = settings(
        generator="openai-compatible", openaiBaseUrl=BASE_URL, openaiModel=MODEL, openaiOutput="JSON_SCHEMA"
    )
    assert keyless.generator_secret_arn == ""
    assert keyless.generator_environment == {
        "KILN_GENERATOR": "openai-compatible",
        "KILN_OPENAI_BASE_URL": BASE_URL,
        "KILN_OPENAI_MODEL": MODEL,
        "KILN_OPENAI_OUTPUT": "json_schema",
    }
    targets = grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s")
    assert grants.permissions_for(("generator:invoke",), targets, owner="probe") == []


def test_openai_settings_only_apply_to_the_openai_generator() -> None:
    other = settings(openaiBaseUrl=BASE_URL, openaiModel=MODEL, openaiApiKeySecretArn=SECRET_ARN)
    assert other.generator == "builtin" and other.generator_secret_arn == ""
    assert other.generator_environment == {"KILN_GENERATOR": "builtin"}


@pytest.mark.parametrize(
    "context,message",
    [
        ({}, "openaiBaseUrl and openaiModel are required"),
        ({"openaiBaseUrl": BASE_URL}, "openaiBaseUrl and openaiModel are required"),
        ({"openaiModel": MODEL}, "openaiBaseUrl and openaiModel are required"),
        ({"openaiBaseUrl": "file:///etc/passwd", "openaiModel": MODEL}, "openaiBaseUrl: .*http or https"),
        ({"openaiBaseUrl": "http://api.example.com/v1", "openaiModel": MODEL}, "must be an https URL when deployed"),
        ({"openaiBaseUrl": "https://user:pw@api.example.com/v1", "openaiModel": MODEL}, "credentials"),
        ({"openaiBaseUrl": BASE_URL, "openaiModel": "gpt 4o"}, "openaiModel must be a model name"),
        (
            {"openaiBaseUrl": BASE_URL, "openaiModel": MODEL, "openaiApiKeySecretArn": "kiln/openai-key"},
            "full ARN of a Secrets Manager secret",
        ),
        (
            {
                "openaiBaseUrl": BASE_URL,
                "openaiModel": MODEL,
                "openaiApiKeySecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:kiln/openai-key",
            },
            "full ARN of a Secrets Manager secret",
        ),
        ({"openaiBaseUrl": BASE_URL, "openaiModel": MODEL, "openaiOutput": "xml"}, "openaiOutput must be one of"),
    ],
)
def test_openai_settings_are_checked(context: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings(generator="openai-compatible", **context)

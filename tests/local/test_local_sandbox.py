"""Generated code sees nothing of the local cloud: the build sandbox through the local Invoke path.

build_verify's adapter (kiln.adapters.lambda_invoke) calls Lambda's Invoke API on the emulated
AWS endpoint; the middleware runs the sandbox worker in a process of its own
(local.lambda_runtime.invoke_isolated). A generated project whose tests look for credentials,
settings and the endpoint, in their own environment and in their parent's, passes there only
because nothing leaks; the controls run the same probe where something does leak and see it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiln import config
from kiln.adapters import aws
from kiln.adapters.lambda_invoke import LambdaSandbox
from kiln.domain.builds import SuiteCounts, TaskDefinition, TaskPlan
from kiln.domain.verification import run_suite, verify
from local.aws import AwsEmulator, worker_functions

REPO = Path(__file__).resolve().parents[2]
# What the local cloud's own environment holds, as it would: fake credentials, the endpoint,
# Kiln's settings and the admin key.
CANARIES = {
    "AWS_ACCESS_KEY_ID": "AKIACANARYACCESSKEY1",
    "AWS_SECRET_ACCESS_KEY": "canary-secret-access-key",
    "AWS_SESSION_TOKEN": "canary-session-token",
    "KILN_TABLE_NAME": "canary-table",
    "KILN_BUCKET_NAME": "canary-bucket",
    "KILN_LOCAL_ADMIN_KEY": "kiln_canaryadminkeycanaryadminkeycanaryadmin",
}

PROBE = '''import os
import unittest

CANARIES = {canaries!r}
ENDPOINT = {endpoint!r}
FORBIDDEN = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
             "AWS_LAMBDA_RUNTIME_API", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "MOTO_PORT", "KILN_")


def environ_of(pid):
    """Another process's environment as /proc shows it, or None when it cannot be read."""
    try:
        with open(f"/proc/{{pid}}/environ", "rb") as handle:
            raw = handle.read()
    except OSError as error:
        print(f"probe: /proc/{{pid}}/environ unreadable ({{type(error).__name__}})")
        return None
    print(f"probe: /proc/{{pid}}/environ read, {{raw.count(b'=')}} variables")
    return dict(item.split("=", 1) for item in raw.decode("utf-8", "replace").split("\\0") if "=" in item)


def leaks(environ):
    names = sorted(name for name in environ if name.startswith(FORBIDDEN))
    values = sorted(name for name, value in environ.items()
                    if any(canary in value for canary in CANARIES.values()) or ENDPOINT in value)
    return names + values


class Probe(unittest.TestCase):
    def test_no_credential_setting_or_endpoint_in_my_environment(self):
        self.assertEqual(leaks(os.environ), [])

    def test_none_in_my_parents_environment_either(self):
        parent = environ_of(os.getppid())
        self.assertEqual(leaks(parent or {{}}), [])

    def test_no_credentials_file_to_fall_back_on(self):
        self.assertFalse(os.path.exists(os.path.expanduser("~/.aws")))
        self.assertFalse(os.path.exists(os.path.join(os.environ.get("HOME", "/nonexistent"), ".aws")))
'''


def probe_tree(endpoint: str) -> dict[str, bytes]:
    return {
        "tests/__init__.py": b"",
        "tests/test_probe.py": PROBE.format(canaries=CANARIES, endpoint=endpoint).encode(),
    }


PLAN = TaskPlan(
    tasks=[
        TaskDefinition(
            id="task-001",
            slug="probe",
            description="Probe.",
            instructions="Probe.",
            pathScope=["tests/**"],
            expectedOutputs=["tests/test_probe.py"],
        )
    ],
    mergeOrder=["task-001"],
)


@pytest.fixture(scope="module")
def local_lambda():
    """The emulated AWS endpoint answering Invoke for the sandbox worker, as the local cloud has it,
    and this process's environment holding what the local cloud's holds."""
    functions = {name: fn for name, fn in worker_functions().items() if fn.isolated}
    assert len(functions) == 1
    [(name, function)] = functions.items()
    aws_emulator = AwsEmulator(functions=functions)
    aws_emulator.start()
    patch = pytest.MonkeyPatch()
    for variable, value in CANARIES.items():
        patch.setenv(variable, value)
    patch.setenv("AWS_ENDPOINT_URL", aws_emulator.url)
    patch.setenv("MOTO_PORT", str(aws_emulator.port))
    patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    patch.setenv("KILN_SANDBOX_FUNCTION", name)
    # Settings a worker module of an earlier test loaded would hide the variables set here.
    config.reset()
    aws.reset()
    yield aws_emulator, function
    patch.undo()
    config.reset()
    aws.reset()
    aws_emulator.stop()


def test_the_sandbox_is_an_isolated_local_function(local_lambda):
    _, function = local_lambda
    assert function.handler_ref == "kiln.workers.build_sandbox.handler"
    assert function.isolated


def test_generated_tests_find_nothing_through_the_verification_path(local_lambda):
    aws_emulator, _ = local_lambda
    result = verify(probe_tree(aws_emulator.url), PLAN, timeout_seconds=60, sandbox=LambdaSandbox())
    unittest_check = next(c for c in result.checks if c.name == "unittest")
    assert result.passed, unittest_check.output
    assert [c.name for c in result.checks] == ["paths", "expected-outputs", "compile", "unittest"]
    assert unittest_check.tests == SuiteCounts(run=3)
    # The probe did look at its parent (the sandbox's process): readable or not, nothing was there.
    assert "probe: /proc/" in unittest_check.output


def test_control_the_probe_fails_when_its_own_environment_leaks(local_lambda):
    aws_emulator, _ = local_lambda
    leaking = {**os.environ}  # the local cloud's environment, handed over as it is
    compile_check, unittest_check = run_suite(probe_tree(aws_emulator.url), 60, environment=leaking)
    assert compile_check.passed and not unittest_check.passed
    # At least the probe of its own environment fails; whether its parent's (this test process,
    # whose environment at exec time depends on how pytest was started) also leaks varies.
    assert unittest_check.tests.run == 3 and unittest_check.tests.failures >= 1
    assert "test_no_credential_setting_or_endpoint_in_my_environment" in unittest_check.output
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "KILN_LOCAL_ADMIN_KEY", "KILN_TABLE_NAME", "MOTO_PORT"):
        assert f"'{name}'" in unittest_check.output, name


_RUN_IN_PARENT = """
import json, os, sys
from kiln.domain.verification import run_suite
files = {path: content.encode() for path, content in json.loads(sys.stdin.read()).items()}
checks = run_suite(files, 60, environment={"PATH": os.environ["PATH"]})
print(json.dumps([check.model_dump(mode="json") for check in checks]))
"""


def test_control_the_probe_fails_when_its_parent_holds_the_secrets(local_lambda):
    """The tests get a clean environment, but run under a process started with the canaries
    (as an in-process sandbox would run under the local cloud): /proc gives them away."""
    aws_emulator, _ = local_lambda
    tree = {path: content.decode() for path, content in probe_tree(aws_emulator.url).items()}
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)]), **CANARIES}
    done = subprocess.run(
        [sys.executable, "-c", _RUN_IN_PARENT],
        input=json.dumps(tree),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    compile_check, unittest_check = json.loads(done.stdout)
    assert compile_check["passed"] and not unittest_check["passed"]
    if "unreadable (PermissionError)" in unittest_check["output"]:
        pytest.skip("this system hides a parent's /proc/<pid>/environ from its children (hardened /proc)")
    assert "test_none_in_my_parents_environment_either" in unittest_check["output"]
    assert "'AWS_SECRET_ACCESS_KEY'" in unittest_check["output"]
    assert "'KILN_LOCAL_ADMIN_KEY'" in unittest_check["output"]

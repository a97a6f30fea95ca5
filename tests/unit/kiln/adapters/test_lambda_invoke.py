"""The sandbox adapter against a stubbed Lambda client (botocore Stubber, no network).

The same adapter against the local cloud's Invoke path, running the real sandbox, is
tests/local/test_local_sandbox.py.
"""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from kiln.adapters import aws, lambda_invoke
from kiln.adapters.lambda_invoke import LambdaSandbox
from kiln.domain import sandbox
from kiln.domain.builds import SuiteCounts, VerificationCheck
from kiln.domain.verification import SandboxRefused, SandboxUnavailable

TREE = {"app/__init__.py": b"", "tests/test_app.py": b"import unittest\n"}
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:Kiln-BuildSandboxWorker"
REPORT = [
    VerificationCheck(name="compile", passed=True, output="2 Python file(s) compiled"),
    VerificationCheck(name="unittest", passed=True, output="passed in 0.1 s", tests=SuiteCounts(run=1)),
]


def _body(document) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def lambda_client(monkeypatch):
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("KILN_SANDBOX_FUNCTION", FUNCTION),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = boto3.client("lambda", region_name="us-east-1")
    monkeypatch.setattr(lambda_invoke, "client", lambda service: client)
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def test_the_tree_goes_to_the_configured_function_and_its_report_comes_back(lambda_client):
    client, stub = lambda_client
    sent = {}

    def capture(params, **_):
        sent.update(params)

    client.meta.events.register("before-parameter-build.lambda.Invoke", capture)
    stub.add_response("invoke", {"StatusCode": 200, "Payload": _body(sandbox.encode_report(REPORT))})
    assert LambdaSandbox().run(TREE, 120) == REPORT
    assert sent["FunctionName"] == FUNCTION and sent["InvocationType"] == "RequestResponse"
    assert sandbox.decode_request(json.loads(sent["Payload"])) == (TREE, 120.0)


def test_a_sandbox_that_stopped_fails_verification_with_its_error(lambda_client):
    _, stub = lambda_client
    error = {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 480.00 seconds"}
    stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _body(error)})
    [check] = LambdaSandbox().run(TREE, 120)
    assert check.name == "sandbox" and not check.passed
    assert check.output == "the sandbox stopped with Sandbox.Timedout: Task timed out after 480.00 seconds"


@pytest.mark.parametrize(
    "code",
    [
        "TooManyRequestsException",
        "ServiceException",
        "ENILimitReachedException",
        "ResourceNotReadyException",
        "EC2ThrottledException",
    ],
)
def test_throttling_and_unready_networks_are_worth_a_retry(lambda_client, code):
    _, stub = lambda_client
    stub.add_client_error("invoke", service_error_code=code, http_status_code=429)
    with pytest.raises(SandboxUnavailable, match=code):
        LambdaSandbox().run(TREE, 120)


def test_a_refused_payload_fails_verification_and_a_deployment_fault_raises(lambda_client):
    _, stub = lambda_client
    stub.add_client_error("invoke", service_error_code="RequestTooLargeException", http_status_code=413)
    with pytest.raises(SandboxRefused, match="too large"):
        LambdaSandbox().run(TREE, 120)
    stub.add_client_error("invoke", service_error_code="AccessDeniedException", http_status_code=403)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        LambdaSandbox().run(TREE, 120)


def test_a_lost_connection_is_worth_a_retry(lambda_client, monkeypatch):
    client, _ = lambda_client

    def times_out(**_):
        raise ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "invoke", times_out)
    with pytest.raises(SandboxUnavailable, match="Read timeout"):
        LambdaSandbox().run(TREE, 120)


def test_a_tree_too_large_is_never_sent(lambda_client):
    with pytest.raises(SandboxRefused, match="of files"):
        LambdaSandbox().run({"big.bin": b"\0" * (sandbox.MAX_TREE_BYTES + 1)}, 120)


def test_the_invoke_waits_as_long_as_a_function_may_run():
    aws.reset()
    config = aws._SERVICE_CONFIG["lambda"]
    assert config.read_timeout == 900 and config.retries == {"mode": "standard", "total_max_attempts": 1}

"""Lambda adapter: the build sandbox (kiln.domain.verification.Sandbox) behind a synchronous Invoke.

build_verify holds the only `lambda:InvokeFunction` on the sandbox function (grant
`sandbox:invoke`); the local cloud answers the same Invoke call by running the sandbox in a
process of its own (local.lambda_runtime.invoke_isolated).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from kiln import config
from kiln.adapters.aws import client
from kiln.domain import sandbox
from kiln.domain.builds import VerificationCheck
from kiln.domain.verification import SandboxRefused, SandboxUnavailable

# Invoke errors that say "not now" (throttling, the VPC's network interfaces being set up or
# scarce), worth a retry of the verify step; any other error is a deployment fault and raises.
_TRANSIENT = frozenset(
    {
        "TooManyRequestsException",
        "ServiceException",
        "ResourceNotReadyException",
        "ResourceConflictException",
        "EC2ThrottledException",
        "EC2UnexpectedException",
        "ENILimitReachedException",
        "SubnetIPAddressLimitReachedException",
    }
)


class LambdaSandbox:
    """Runs compile and unittest in the sandbox function (KILN_SANDBOX_FUNCTION by default)."""

    def __init__(self, function_name: str | None = None) -> None:
        self._function_name = function_name

    def run(self, files: dict[str, bytes], timeout_seconds: float) -> list[VerificationCheck]:
        request = sandbox.encode_request(files, timeout_seconds)  # SandboxRefused when too large
        function = self._function_name or config.sandbox_function()
        try:
            response = client("lambda").invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(request).encode("ascii")
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "RequestTooLargeException":
                raise SandboxRefused(f"the sandbox refused the tree as too large: {error}") from None
            if code in _TRANSIENT:
                raise SandboxUnavailable(f"{code}: {error}") from None
            raise
        except BotoCoreError as error:  # connection lost, read timeout
            raise SandboxUnavailable(f"invoking the sandbox failed: {error}") from None
        document = _json(response["Payload"].read())
        if response.get("FunctionError"):
            return [_stopped(document)]
        return sandbox.decode_report(document)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return {"errorType": "Unreadable", "errorMessage": body[:500].decode("utf-8", "replace")}


def _stopped(document: Any) -> VerificationCheck:
    """The sandbox ended with an error (out of memory, timed out, killed by the code it ran):
    the tree did not pass there, and the error says why."""
    error = document if isinstance(document, dict) else {}
    kind = str(error.get("errorType") or "Unhandled")
    message = str(error.get("errorMessage") or "")[:2000]
    return VerificationCheck(name="sandbox", passed=False, output=f"the sandbox stopped with {kind}: {message}".strip())

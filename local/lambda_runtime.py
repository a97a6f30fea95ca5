"""Runs a Lambda handler in-process the way the Python runtime would.

The handler is imported by its dotted reference (the same string CDK deploys), gets a context
object with the attributes the runtime provides, and sees its event and result round-tripped
through JSON, so anything that would not survive the real runtime's serialization fails here
too. Unhandled exceptions become the runtime's error document, which Step Functions reads.

`invoke_isolated` runs a function in a Python process of its own instead, started with a clean
environment, as a Lambda function runs in an execution environment of its own: the build
sandbox (kiln.routes.Worker.sandbox) runs generated code, which must see nothing of the local
cloud (its KILN_* settings, its fake AWS credentials, the moto endpoint, the admin key), not in
its environment and not in its parent's /proc/<pid>/environ.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.constants import ACCOUNT_ID, REGION

Handler = Callable[[Any, Any], Any]

_handlers: dict[str, Handler] = {}
_handlers_lock = threading.Lock()


class HandlerImportError(Exception):
    """The handler reference does not resolve (the runtime's Runtime.ImportModuleError)."""

    error_type = "Runtime.ImportModuleError"


class MarshalError(Exception):
    """The handler's result is not JSON serializable (the runtime's Runtime.MarshalError)."""

    error_type = "Runtime.MarshalError"


def load_handler(handler_ref: str) -> Handler:
    """Import `package.module.function` once and keep it, as a warm Lambda container does."""
    handler = _handlers.get(handler_ref)
    if handler is not None:
        return handler
    module_name, _, attribute = handler_ref.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, attribute)
    except (ImportError, AttributeError) as exc:
        raise HandlerImportError(f"Unable to import module '{module_name}': {exc}") from exc
    with _handlers_lock:
        _handlers[handler_ref] = handler
    return handler


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that code and libraries read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class InvocationResult:
    """What the runtime reports: the JSON payload, and whether it is an error document."""

    payload: Any
    function_error: str | None = None  # "Unhandled" when the handler raised
    exception: BaseException | None = None  # kept for the caller's log, never serialized

    @property
    def ok(self) -> bool:
        return self.function_error is None


def error_document(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The runtime's JSON for an unhandled exception; `errorType` drives Retry/Catch matching."""
    error_type = getattr(exc, "error_type", None) or type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_list(frames)],
    }


def invoke(
    handler_ref: str,
    event: Any,
    function_name: str,
    *,
    timeout_seconds: int = 30,
    memory_mb: int = 512,
) -> InvocationResult:
    """Call a handler like the runtime: JSON in, JSON out, exceptions as error documents."""
    context = LambdaContext(function_name, memory_limit_in_mb=memory_mb, timeout_seconds=timeout_seconds)
    try:
        handler = load_handler(handler_ref)
        # A fresh copy per call: the runtime deserializes the event, so the handler can never
        # share (or mutate) the caller's objects.
        result = handler(json.loads(json.dumps(event)), context)
        try:
            payload = json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            raise MarshalError(f"Unable to marshal response: {exc}") from exc
        return InvocationResult(payload)
    except Exception as exc:  # noqa: BLE001 - the runtime catches everything the handler lets escape
        return InvocationResult(error_document(exc, context.aws_request_id), function_error="Unhandled", exception=exc)


def log_failure(function_name: str, result: InvocationResult) -> None:
    """Print an unhandled error as the runtime would write it to the function's log."""
    if result.exception is not None:
        print(f"[{function_name}] unhandled error:", file=sys.stderr)
        traceback.print_exception(result.exception, file=sys.stderr)


# --- a function in a process of its own ------------------------------------------------------

# What an isolated function's process inherits from the local cloud: the locale and PATH only.
_ISOLATED_INHERITED = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ")
# Lambda times a function's handler, not its start; the process gets this much more to import.
INIT_SECONDS = 10


def _code_roots() -> list[str]:
    """The directories Kiln's code (and the local cloud's, and tests' stand-in handlers) import from."""
    import kiln

    roots = [str(Path(kiln.__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent)]
    return list(dict.fromkeys(roots))


def isolated_environment(function_name: str, memory_mb: int, scratch: str) -> dict[str, str]:
    """The environment an isolated function starts with: what Lambda sets for any function and
    the interpreter needs to find Kiln's code; `scratch` is its /tmp. Nothing of the local cloud."""
    env = {name: os.environ[name] for name in _ISOLATED_INHERITED if name in os.environ}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(_code_roots()),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": scratch,
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
    )
    return env


def invoke_isolated(
    handler_ref: str,
    event: Any,
    function_name: str,
    *,
    timeout_seconds: int = 30,
    memory_mb: int = 512,
) -> InvocationResult:
    """Like `invoke`, in a new Python process (`python -m local.lambda_runtime`) with a clean
    environment and a /tmp of its own, stopped with everything it started when it times out."""
    request_id = str(uuid.uuid4())
    scratch = tempfile.mkdtemp(prefix=f"{function_name}-tmp-")
    command = [
        sys.executable,
        "-m",
        "local.lambda_runtime",
        handler_ref,
        function_name,
        str(timeout_seconds),
        str(memory_mb),
    ]
    process = subprocess.Popen(
        command,
        cwd=scratch,
        env=isolated_environment(function_name, memory_mb, scratch),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        answer, _ = process.communicate(json.dumps(event).encode("utf-8"), timeout=timeout_seconds + INIT_SECONDS)
    except subprocess.TimeoutExpired:
        return InvocationResult(
            {
                "errorType": "Sandbox.Timedout",
                "requestId": request_id,
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout_seconds:.2f} seconds",
            },
            function_error="Unhandled",
        )
    finally:
        _stop_group(process)
        shutil.rmtree(scratch, ignore_errors=True)
    try:
        document = json.loads(answer)
        return InvocationResult(document["payload"], function_error=document.get("functionError"))
    except (ValueError, TypeError, KeyError):  # it died before answering (killed, os._exit, out of memory)
        return InvocationResult(
            {
                "errorType": "Runtime.ExitError",
                "requestId": request_id,
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                f"exit status {process.returncode}",
            },
            function_error="Unhandled",
        )


def _stop_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):  # the group is empty: everything ended
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _serve_isolated(argv: list[str]) -> int:
    """The isolated process: one event on stdin, the InvocationResult as JSON on stdout. What
    the handler prints goes to stderr, the function's log (the local cloud's own stderr)."""
    handler_ref, function_name, timeout_seconds, memory_mb = argv
    event = json.loads(sys.stdin.buffer.read() or b"null")
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    result = invoke(handler_ref, event, function_name, timeout_seconds=int(timeout_seconds), memory_mb=int(memory_mb))
    log_failure(function_name, result)
    with answer:
        json.dump({"payload": result.payload, "functionError": result.function_error}, answer)
    return 0


if __name__ == "__main__":
    sys.exit(_serve_isolated(sys.argv[1:]))

"""Emulated AWS: moto's server app, with Lambda's Invoke API answered by our own handlers.

moto can only run Lambda functions inside Docker. Kiln's workers are plain Python, so the
Invoke API is served here instead: a WSGI middleware in front of moto imports the worker and
calls it in-process. Step Functions' Task states (moto's interpreter calls Lambda through boto3
at http://localhost:$MOTO_PORT) therefore reach the real worker code and see its errors as
`X-Amz-Function-Error` documents, exactly what their Retry and Catch rules match on in AWS.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from werkzeug.serving import make_server

from local import atomic, lambda_runtime
from local.constants import ACCOUNT_ID, REGION, function_name
from local.server import BackgroundServer

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Everything the Invoke API accepts as FunctionName: a name, a partial ARN or a full ARN,
# each optionally qualified with a version or alias.
_FUNCTION_REF = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?"
    r"(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9$_-]+))?$"
)
_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<ref>[^/]+)/invocations/?$")


@dataclass(frozen=True)
class LocalFunction:
    name: str
    handler_ref: str
    timeout_seconds: int = 60
    memory_mb: int = 512
    # Runs in a process of its own with a clean environment (lambda_runtime.invoke_isolated):
    # the build sandbox, whose generated code must see nothing of this process.
    isolated: bool = False


def worker_functions() -> dict[str, LocalFunction]:
    """The functions Lambda's Invoke API answers: one per worker of the route table."""
    from kiln.routes import WORKERS

    return {
        function_name(w.name): LocalFunction(
            function_name(w.name), w.handler_ref, w.timeout_seconds, w.memory_mb, isolated=w.sandbox
        )
        for w in WORKERS
    }


class LambdaInvokeMiddleware:
    """Answers POST /2015-03-31/functions/{name}/invocations; passes everything else to moto."""

    def __init__(self, app: WSGIApp, functions: dict[str, LocalFunction]) -> None:
        self.app = app
        self.functions = functions

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        match = _INVOKE_PATH.match(path)
        if environ.get("REQUEST_METHOD") != "POST" or not match:
            return self.app(environ, start_response)
        status, headers, body = self.invoke(match.group("ref"), environ)
        start_response(status, list(headers.items()) + [("Content-Length", str(len(body)))])
        return [body]

    def invoke(self, ref: str, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        qualifier = parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier", [None])[0]
        function = self._resolve(ref, qualifier)
        if function is None:
            arn = ref if ref.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{ref}"
            return _error(404, "ResourceNotFoundException", f"Function not found: {arn}", request_id)

        raw = _read_body(environ)
        try:
            event = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body into json", request_id)

        invocation_type = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        if invocation_type == "DryRun":
            return "204 No Content", {"x-amzn-RequestId": request_id}, b""
        if invocation_type == "Event":
            # Asynchronous invocation: accepted now, run later; failures only reach the log,
            # as they would reach CloudWatch (there is no retry or DLQ locally).
            threading.Thread(target=self._run, args=(function, event), daemon=True).start()
            return "202 Accepted", {"x-amzn-RequestId": request_id}, b""
        if invocation_type != "RequestResponse":
            return _error(
                400, "InvalidParameterValueException", f"Unsupported invocation type {invocation_type}", request_id
            )

        result = self._run(function, event)
        headers = {
            "Content-Type": "application/json",
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-RequestId": request_id,
        }
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        # A function error is still HTTP 200: the Invoke call itself succeeded.
        return "200 OK", headers, json.dumps(result.payload).encode()

    def _resolve(self, ref: str, qualifier: str | None) -> LocalFunction | None:
        match = _FUNCTION_REF.match(ref)
        if not match:
            return None
        qualifier = match.group("qualifier") or qualifier
        if qualifier not in (None, "$LATEST"):
            return None  # no versions or aliases are published locally
        return self.functions.get(match.group("name"))

    @staticmethod
    def _run(function: LocalFunction, event: Any) -> lambda_runtime.InvocationResult:
        invoke = lambda_runtime.invoke_isolated if function.isolated else lambda_runtime.invoke
        result = invoke(
            function.handler_ref,
            event,
            function.name,
            timeout_seconds=function.timeout_seconds,
            memory_mb=function.memory_mb,
        )
        lambda_runtime.log_failure(function.name, result)
        return result


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    if length > 0:
        return stream.read(length)
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _error(status: int, error_type: str, message: str, request_id: str) -> tuple[str, dict[str, str], bytes]:
    reasons = {400: "Bad Request", 404: "Not Found"}
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": error_type,
        "x-amzn-RequestId": request_id,
    }
    body = json.dumps({"Type": "User", "message": message}).encode()
    return f"{status} {reasons.get(status, 'Error')}", headers, body


class AwsEmulator(BackgroundServer):
    """moto's multi-service server app plus the Invoke middleware, on a background thread."""

    thread_name = "moto"

    def __init__(self, port: int = 0, functions: dict[str, LocalFunction] | None = None) -> None:
        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        # Without this moto only records executions; with it, state machines really run.
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        # Conditional writes must be atomic across the server's threads, as in DynamoDB.
        atomic.install()
        app = LambdaInvokeMiddleware(
            DomainDispatcherApplication(create_backend_app),
            functions if functions is not None else worker_functions(),
        )
        super().__init__(make_server("127.0.0.1", port, app, threaded=True, request_handler=_quiet_moto_handler()))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _quiet_moto_handler() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietMotoRequestHandler(MotoRequestHandler):
        """moto's handler without the per-request access log (SDK chatter, not user traffic)."""

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            pass

        def log_error(self, format: str, *args: Any) -> None:
            print(f"[aws] {format % args}", file=sys.stderr)

    return QuietMotoRequestHandler

"""Runs a Lambda handler in-process the way the Python runtime would.

The handler is imported by its dotted reference (the same string CDK deploys), gets a context
object with the attributes the runtime provides, and sees its event and result round-tripped
through JSON, so anything that would not survive the real runtime's serialization fails here
too. Unhandled exceptions become the runtime's error document, which Step Functions reads.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

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
    except Exception as exc:  # the runtime catches everything the handler lets escape
        return InvocationResult(
            error_document(exc, context.aws_request_id), function_error="Unhandled", exception=exc
        )


def log_failure(function_name: str, result: InvocationResult) -> None:
    """Print an unhandled error as the runtime would write it to the function's log."""
    if result.exception is not None:
        print(f"[{function_name}] unhandled error:", file=sys.stderr)
        traceback.print_exception(result.exception, file=sys.stderr)

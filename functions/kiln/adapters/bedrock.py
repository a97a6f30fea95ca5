"""The Amazon Bedrock generator: clarifying questions, specifications, build plans and task
implementations through the Converse API.

The prompts, the tool schemas, the checks of an answer and the retry-once discipline are
provider-neutral (kiln.domain.model_generation); this module is the transport. Structured
output comes from tool use: each call offers exactly one tool whose input schema is the model's
JSON schema and forces the model to call it (`toolChoice: {"tool": ...}`, supported by
Anthropic Claude 3+ and Amazon Nova models). A retry sends the problems back as an error
`toolResult` answering the unusable call.

The client's read timeout defaults to the API functions' (kiln.adapters.aws, 24 s). Build
steps run in workers with longer timeouts and pass `read_timeout` to the constructor.

Errors, as GenerationFailed reasons:

* `malformed_output`: two unusable answers in a row (or the input exceeds the model's context).
* `refused`: a guardrail or the model's content filter stopped the answer (never retried).
* `unavailable`: Bedrock is throttling, busy, timing out or not ready. These are raised as
  GenerationFailed rather than left as ClientError, because the API pipeline's 503 mapping
  (kiln.http.api._THROTTLING_CODES) does not know Bedrock's error codes; the caller turns
  `unavailable` into a 503 with Retry-After.
* `misconfigured`: Bedrock rejects the call itself (no model access, unknown model id, a
  model without forced tool use). The message tells the operator what to check; the AWS
  error code and message go to the log only.

Only imported when KILN_GENERATOR=bedrock.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pydantic import BaseModel

from kiln import config
from kiln.adapters import aws
from kiln.domain.generation import GenerationFailed
from kiln.domain.model_generation import (
    TEMPERATURE,
    UNAVAILABLE_MESSAGE,
    Call,
    ModelGenerator,
    Reply,
    generate,
)

logger = logging.getLogger("kiln")

T = TypeVar("T", bound=BaseModel)

# Bedrock error codes (Error.Code of a ClientError) by what they mean for the caller.
UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "InternalServerException",
        "ModelErrorException",
    }
)
MISCONFIGURED_CODES = frozenset({"AccessDeniedException", "ValidationException", "ResourceNotFoundException"})
REFUSED_STOPS = frozenset({"guardrail_intervened", "content_filtered"})

MISCONFIGURED_MESSAGE = (
    "The specification generator is not configured correctly. Operators: check that access to the "
    "configured model is enabled in the Amazon Bedrock console for this account and region, and that "
    "KILN_BEDROCK_MODEL_ID names a model or inference profile that supports forced tool use."
)

# A client with a longer read timeout (build steps in workers): one attempt, because the
# generator does its own single retry and a retried slow call would double the wait. (In
# botocore's `retries`, `max_attempts` counts retries; `total_max_attempts` counts attempts.)
_CONNECT_TIMEOUT = 3
_RETRIES = {"mode": "standard", "total_max_attempts": 1}


def _tool_config(call: Call[Any]) -> dict[str, Any]:
    """Converse's toolConfig offering the call's one tool, and forcing it."""
    return {
        "tools": [
            {
                "toolSpec": {
                    "name": call.tool,
                    "description": call.description,
                    "inputSchema": {"json": call.schema()},
                }
            }
        ],
        "toolChoice": {"tool": {"name": call.tool}},
    }


@cache
def _client_with_read_timeout(seconds: float) -> Any:
    """A bedrock-runtime client with the given read timeout, built once per container and timeout."""
    return boto3.client(
        "bedrock-runtime", config=Config(retries=dict(_RETRIES), connect_timeout=_CONNECT_TIMEOUT, read_timeout=seconds)
    )


class BedrockGenerator(ModelGenerator):
    """Generator (kiln.domain.generation.Generator) backed by a Bedrock model via Converse.

    `read_timeout` (seconds) replaces the default client's (kiln.adapters.aws) for callers with
    more time than an API function, such as build workers; an explicit `client` wins over both.
    """

    def __init__(self, model_id: str | None = None, *, client: Any = None, read_timeout: float | None = None) -> None:
        if read_timeout is not None and read_timeout <= 0:
            raise ValueError("read_timeout must be positive")
        self.model_id = model_id or config.bedrock_model_id()
        self.read_timeout = read_timeout
        self._client = client

    @property
    def name(self) -> str:
        return f"bedrock:{self.model_id}"

    @property
    def client(self) -> Any:
        # Built on first use (kiln.adapters.aws caches it per container).
        if self._client is None:
            if self.read_timeout is None:
                self._client = aws.client("bedrock-runtime")
            else:
                self._client = _client_with_read_timeout(float(self.read_timeout))
        return self._client

    def _generate(self, call: Call[T]) -> T:
        return generate(call, _Conversation(self.client, self.model_id, call), provider="bedrock", model=self.model_id)


class _Conversation:
    """One Converse conversation about a call (kiln.domain.model_generation.Exchange)."""

    def __init__(self, client: Any, model_id: str, call: Call[Any]) -> None:
        self._client = client
        self._model_id = model_id
        self._tool = call.tool
        self._request: dict[str, Any] = {
            "modelId": model_id,
            "system": [{"text": call.system}],
            "inferenceConfig": {"maxTokens": call.max_tokens, "temperature": TEMPERATURE},
            "toolConfig": _tool_config(call),
        }
        self._messages: list[dict[str, Any]] = [{"role": "user", "content": [{"text": call.text}]}]
        self._answer: dict[str, Any] = {}

    def send(self, attempt: int) -> Reply:
        response = self._converse(attempt)
        stop = response.get("stopReason", "")
        self._answer = response.get("output", {}).get("message") or {"role": "assistant", "content": []}
        uses = [block["toolUse"] for block in self._answer.get("content", []) if "toolUse" in block]
        use = next((u for u in uses if u.get("name") == self._tool), None)
        return Reply(
            answered=use is not None,
            payload=use.get("input") if use is not None else None,
            cut_off=stop == "max_tokens",
            refused=stop in REFUSED_STOPS,
            overflow=stop == "model_context_window_exceeded",
            log={"stopReason": stop},
        )

    def add_feedback(self, problem: str) -> None:
        self._messages = _with_feedback(self._messages, self._answer, problem)

    def _converse(self, attempt: int) -> dict[str, Any]:
        log = {"model": self._model_id, "tool": self._tool, "attempt": attempt}
        try:
            response: dict[str, Any] = self._client.converse(**self._request, messages=self._messages)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            logger.warning(
                "bedrock call failed",
                extra={
                    **log,
                    "errorCode": code,
                    "errorMessage": error.response.get("Error", {}).get("Message", "")[:500],
                },
            )
            if code in UNAVAILABLE_CODES:
                raise GenerationFailed(UNAVAILABLE_MESSAGE, reason="unavailable") from error
            if code in MISCONFIGURED_CODES:
                raise GenerationFailed(MISCONFIGURED_MESSAGE, reason="misconfigured") from error
            raise
        except (ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError) as error:
            logger.warning("bedrock unreachable", extra={**log, "error": type(error).__name__})
            raise GenerationFailed(UNAVAILABLE_MESSAGE, reason="unavailable") from error
        usage = response.get("usage", {})
        logger.info(
            "bedrock converse",
            extra={
                **log,
                "stopReason": response.get("stopReason"),
                "inputTokens": usage.get("inputTokens"),
                "outputTokens": usage.get("outputTokens"),
                "totalTokens": usage.get("totalTokens"),
                "latencyMs": response.get("metrics", {}).get("latencyMs"),
            },
        )
        return response


def _with_feedback(messages: list[dict[str, Any]], answer: dict[str, Any], problem: str) -> list[dict[str, Any]]:
    """The conversation for the retry: the unusable answer, then what was wrong with it.

    Converse requires every toolUse of an assistant turn to be answered by a toolResult in the
    next user turn, and roles to alternate; an empty answer (cut off before any content) is
    dropped and the problem is added to the original request instead.
    """
    content = [block for block in answer.get("content", []) if block]
    if not content:
        first = messages[0]
        return [{"role": "user", "content": [*first["content"], {"text": f"Note: {problem}"}]}]
    results: list[dict[str, Any]] = [
        {"toolResult": {"toolUseId": block["toolUse"]["toolUseId"], "content": [{"text": problem}], "status": "error"}}
        for block in content
        if "toolUse" in block
    ]
    reply = results or [{"text": problem}]
    return [*messages, {"role": "assistant", "content": content}, {"role": "user", "content": reply}]

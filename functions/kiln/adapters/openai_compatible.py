"""The OpenAI-compatible generator: clarifying questions, specifications, build plans and task
implementations from any endpoint that speaks the chat-completions API (`POST
<base URL>/chat/completions`): a local Ollama or vLLM, a llama.cpp server, or a hosted provider.

Configuration (kiln.config): KILN_OPENAI_BASE_URL (for example http://localhost:11434/v1),
KILN_OPENAI_MODEL, and the key from Secrets Manager (KILN_OPENAI_API_KEY_SECRET_ARN, deployed)
or KILN_OPENAI_API_KEY (local); with neither, requests carry no Authorization header.

Structured output, chosen by KILN_OPENAI_OUTPUT:

* `tools` (default): each call offers exactly one function tool whose parameters are the JSON
  schema of the pydantic model Kiln expects (QuestionSet, SpecContent, TaskPlan or
  Implementation, which a repair answers too), forced with a `tool_choice` naming it.
* `json_schema`: `response_format: {type: json_schema, ...}` with the same schema, for servers
  whose tool calling is weak but which constrain decoding to a schema; the answer is the
  message content.

The prompts, the tool names, the checks of an answer and the retry-once discipline are the
provider-neutral ones every model generator shares (kiln.domain.model_generation); this module
is the transport. A retry sends the problems back as a `tool` message answering the call, or as
a user message when there was no call.

Time is bounded per generation, not per request: `timeout` (24 s by default, inside the API
functions' 28 s) covers both attempts, so a slow first answer leaves the retry only what
remains and the API answers 503 before API Gateway's 29 s rather than timing out. Build
workers pass a longer timeout.

Errors, as GenerationFailed reasons:

* `unavailable`: 429, 408 or 5xx from the endpoint, a refused connection, a timeout. The
  endpoint's Retry-After is passed on (`retry_after`), so the client waits as long as the
  provider asked.
* `refused`: `finish_reason: content_filter` or a `refusal` in the answer (never retried).
* `malformed_output`: two unusable answers, or a request over the model's context length.
* `misconfigured`: the endpoint rejects the call itself (401/403: the key; 404: the base URL
  or model; other 4xx: a server without tool or schema support; a redirect; an answer that is
  not a chat completion; no quota left). Details go to the log only.

The base URL is operator configuration, not user input; still, only http and https are
accepted, redirects are not followed and the URL may not carry credentials.

Only imported when KILN_GENERATOR=openai-compatible.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from kiln import config
from kiln.adapters import secrets
from kiln.domain.generation import GenerationFailed
from kiln.domain.model_generation import (
    MALFORMED_MESSAGE,
    TEMPERATURE,
    UNAVAILABLE_MESSAGE,
    AnswerForm,
    Call,
    Deadline,
    ModelGenerator,
    Reply,
    generate,
)

logger = logging.getLogger("kiln")

T = TypeVar("T", bound=BaseModel)

OUTPUT_MODES = ("tools", "json_schema")
# One generation (both attempts) inside an API function: the same 24 s the Bedrock client
# gets (kiln.adapters.aws), under the functions' 28 s and API Gateway's 29 s.
API_TIMEOUT = 24.0
# Besides 5xx, the statuses that mean "not now" rather than "not like this".
UNAVAILABLE_STATUSES = frozenset({408, 429})
RETRY_AFTER_MAX = 3_600
# A chat completion of 8,192 tokens is tens of kilobytes; anything near this is not one.
RESPONSE_MAX_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024
_ERROR_BODY_MAX = 64 * 1024
_MIN_WAIT = 0.001  # seconds: a socket timeout must be positive

MISCONFIGURED_MESSAGE = (
    "The specification generator is not configured correctly. Operators: check that KILN_OPENAI_BASE_URL "
    "is the endpoint's base URL (the part before /chat/completions), that KILN_OPENAI_MODEL names a model it "
    "serves with tool calling (or set KILN_OPENAI_OUTPUT=json_schema), and that the API key is valid."
)

# Secrets Manager error codes that are worth retrying later; any other means the role or ARN is wrong.
_SECRET_UNAVAILABLE_CODES = frozenset({"ThrottlingException", "InternalServiceError", "RequestLimitExceeded"})


def parse_base_url(base_url: str) -> str:
    """The chat-completions URL under `base_url`; ValueError for anything but plain http(s)."""
    text = base_url.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"KILN_OPENAI_BASE_URL must be an http or https URL, got {base_url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("KILN_OPENAI_BASE_URL must not carry credentials; the key comes from the API key setting")
    if parts.query or parts.fragment:
        raise ValueError(f"KILN_OPENAI_BASE_URL must not have a query or fragment, got {base_url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/chat/completions"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> int | None:
    """Retry-After (delta seconds or an HTTP date) as whole seconds from 1 to RETRY_AFTER_MAX."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return int(min(max(math.ceil(seconds), 1), RETRY_AFTER_MAX))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect surfaces as the 3xx HTTPError: the operator should configure the final URL,
    # and a POST with the key must not follow a Location anywhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def _read(response: Any, deadline: Deadline) -> bytes:
    """The body, in chunks, giving up at the deadline or past RESPONSE_MAX_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > RESPONSE_MAX_BYTES:
            raise _TooLarge(size)
        if deadline.passed():
            raise TimeoutError("the answer did not arrive before the deadline")
        chunks.append(chunk)
    return b"".join(chunks)


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"answer larger than {size} bytes")


def _object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one: endpoints differ in what they leave out."""
    return value if isinstance(value, dict) else {}


def _tool_calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's function calls as {id, name, arguments}; ids made up where a server sends none."""
    calls = []
    for index, call in enumerate(message.get("tool_calls") or []):
        if not isinstance(call, dict):
            continue
        function = _object(call.get("function"))
        calls.append(
            {
                "id": str(call.get("id") or f"call_{index}"),
                "name": function.get("name"),
                "arguments": function.get("arguments"),
            }
        )
    return calls


def _error_fields(error: urllib.error.HTTPError) -> tuple[str, str]:
    """(code, message) of an OpenAI-style error body, for the log and a few decisions."""
    try:
        body = json.loads(error.read(_ERROR_BODY_MAX) or b"{}")
    except (ValueError, OSError, http.client.HTTPException):
        return "", ""
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("code") or detail.get("type") or ""), str(detail.get("message") or "")
    if isinstance(detail, str):  # some servers answer {"error": "message"}
        return "", detail
    return "", ""


class OpenAICompatibleGenerator(ModelGenerator):
    """Generator (kiln.domain.generation.Generator) backed by a chat-completions endpoint.

    Every argument defaults to kiln.config; `api_key` is called once per request (kiln.services
    passes one that fetches the secret once per container), `timeout` bounds one whole
    generation, `clock` is for tests.
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        *,
        api_key: Callable[[], str | None] | None = None,
        output: str | None = None,
        timeout: float = API_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.endpoint = parse_base_url(base_url or config.openai_base_url())
        self.model = (model or config.openai_model()).strip()
        if not self.model:
            raise ValueError("KILN_OPENAI_MODEL must name a model")
        self.output = output or config.openai_output()
        if self.output not in OUTPUT_MODES:
            raise ValueError(f"KILN_OPENAI_OUTPUT must be one of {list(OUTPUT_MODES)}, got {self.output!r}")
        self.timeout = timeout
        self._api_key = api_key or secrets.openai_api_key
        self._clock = clock

    @property
    def name(self) -> str:
        return f"openai-compatible:{self.model}"

    @property
    def form(self) -> AnswerForm:
        return AnswerForm.TOOL_CALL if self.output == "tools" else AnswerForm.JSON_CONTENT

    def request_body(self, call: Call[Any]) -> dict[str, Any]:
        """Everything of one call but the messages."""
        schema = call.schema()
        body: dict[str, Any] = {"model": self.model, "temperature": TEMPERATURE, "max_tokens": call.max_tokens}
        if self.output == "tools":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": call.tool, "description": call.description, "parameters": schema},
                }
            ]
            body["tool_choice"] = {"type": "function", "function": {"name": call.tool}}
        else:
            # strict: false because OpenAI's strict mode wants every property required and no
            # pattern or length keywords, which Kiln's models use; pydantic validates anyway.
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": call.tool, "schema": schema, "strict": False},
            }
        return body

    def _generate(self, call: Call[T]) -> T:
        # One deadline for both attempts: a slow first answer leaves the retry only what remains.
        deadline = Deadline.after(self.timeout, self._clock)

        def complete(payload: dict[str, Any], attempt: int) -> dict[str, Any]:
            return self._complete(payload, deadline, tool=call.tool, attempt=attempt)

        conversation = _Conversation(call, self.form, self.request_body(call), complete)
        return generate(
            call, conversation, provider="openai-compatible", model=self.model, form=self.form, deadline=deadline
        )

    def _key(self) -> str | None:
        try:
            key = self._api_key()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            logger.warning("openai-compatible api key unreadable", extra={"model": self.model, "errorCode": code})
            if code in _SECRET_UNAVAILABLE_CODES:
                raise GenerationFailed(UNAVAILABLE_MESSAGE, reason="unavailable") from error
            raise GenerationFailed(MISCONFIGURED_MESSAGE, reason="misconfigured") from error
        return key.strip() if key else None

    def _complete(self, payload: dict[str, Any], deadline: Deadline, *, tool: str, attempt: int) -> dict[str, Any]:
        """One chat completion, or GenerationFailed."""
        log = {"model": self.model, "tool": tool, "attempt": attempt}
        # generate() refuses to start an attempt past the deadline; a sliver may have passed since.
        remaining = max(deadline.remaining(), _MIN_WAIT)
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "kiln"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(
            self.endpoint, data=json.dumps(payload).encode(), headers=headers, method="POST"
        )
        started = self._clock()
        try:
            with _OPENER.open(request, timeout=remaining) as response:
                raw = _read(response, deadline)
        except urllib.error.HTTPError as error:
            raise self._refusal_of(error, log) from None
        except _TooLarge as error:
            logger.warning("openai-compatible answer too large", extra={**log, "error": str(error)})
            raise GenerationFailed(MISCONFIGURED_MESSAGE, reason="misconfigured") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # Refused connections, DNS, TLS, timeouts (TimeoutError is an OSError), cut answers.
            logger.warning(
                "openai-compatible unreachable",
                extra={**log, "error": type(error).__name__, "detail": str(error)[:300]},
            )
            raise GenerationFailed(UNAVAILABLE_MESSAGE, reason="unavailable") from None
        try:
            completion = json.loads(raw)
        except ValueError:
            completion = None
        if not isinstance(completion, dict) or not isinstance(completion.get("choices"), list):
            logger.warning(
                "openai-compatible answer is not a chat completion",
                extra={**log, "body": raw[:300].decode(errors="replace")},
            )
            raise GenerationFailed(MISCONFIGURED_MESSAGE, reason="misconfigured")
        usage = _object(completion.get("usage"))
        logger.info(
            "openai-compatible completion",
            extra={
                **log,
                "inputTokens": usage.get("prompt_tokens"),
                "outputTokens": usage.get("completion_tokens"),
                "totalTokens": usage.get("total_tokens"),
                "latencyMs": round((self._clock() - started) * 1000),
            },
        )
        return completion

    def _refusal_of(self, error: urllib.error.HTTPError, log: dict[str, Any]) -> GenerationFailed:
        """What an HTTP error status from the endpoint means for the caller."""
        status = error.code
        code, message = _error_fields(error)
        logger.warning(
            "openai-compatible call failed",
            extra={**log, "status": status, "errorCode": code, "errorMessage": message[:500]},
        )
        if code == "insufficient_quota":  # OpenAI's 429 for an exhausted balance: waiting will not help
            return GenerationFailed(MISCONFIGURED_MESSAGE, reason="misconfigured")
        if status in UNAVAILABLE_STATUSES or status >= 500:
            return GenerationFailed(
                UNAVAILABLE_MESSAGE,
                reason="unavailable",
                retry_after=retry_after_seconds(error.headers.get("Retry-After")),
            )
        if status == 400 and (code == "context_length_exceeded" or "context length" in message.lower()):
            # A retry would only add to the conversation.
            return GenerationFailed(MALFORMED_MESSAGE, reason="malformed_output")
        return GenerationFailed(MISCONFIGURED_MESSAGE, reason="misconfigured")


class _Conversation:
    """One chat-completions conversation about a call (kiln.domain.model_generation.Exchange)."""

    def __init__(
        self,
        call: Call[Any],
        form: AnswerForm,
        body: dict[str, Any],
        complete: Callable[[dict[str, Any], int], dict[str, Any]],
    ) -> None:
        self._tool = call.tool
        self._form = form
        self._body = body
        self._complete = complete
        self._messages: list[dict[str, Any]] = [
            {"role": "system", "content": form.system(call)},
            {"role": "user", "content": call.text},
        ]
        self._answer: dict[str, Any] = {}

    def send(self, attempt: int) -> Reply:
        completion = self._complete({**self._body, "messages": self._messages}, attempt)
        choice = _object(completion["choices"][0] if completion["choices"] else None)
        finish = str(choice.get("finish_reason") or "")
        message = self._answer = _object(choice.get("message"))
        if self._form is AnswerForm.TOOL_CALL:
            call = next((c for c in _tool_calls(message) if c["name"] == self._tool), None)
            answered, payload = call is not None, call["arguments"] if call is not None else None
        else:
            payload = message.get("content")
            answered = isinstance(payload, str) and bool(payload.strip())
        return Reply(
            answered=answered,
            payload=payload,
            cut_off=finish == "length",
            refused=finish == "content_filter" or bool(message.get("refusal")),
            log={"finishReason": finish},
        )

    def add_feedback(self, problem: str) -> None:
        self._messages = _with_feedback(self._messages, self._answer, problem)


def _with_feedback(messages: list[dict[str, Any]], answer: dict[str, Any], problem: str) -> list[dict[str, Any]]:
    """The conversation for the retry: the unusable answer, then what was wrong with it.

    Every tool call of an assistant message must be answered by a `tool` message with its id;
    an answer without calls gets the problem as the next user message; an empty answer (cut
    off before any output) is dropped and the problem is added to the original request.
    """
    calls = _tool_calls(answer)
    content = answer.get("content") if isinstance(answer.get("content"), str) else None
    if not calls and not (content and content.strip()):
        system, user = messages[0], messages[1]
        return [system, {"role": "user", "content": f"{user['content']}\n\nNote: {problem}"}]
    echo: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        echo["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call["arguments"]
                    if isinstance(call["arguments"], str)
                    else json.dumps(call["arguments"]),
                },
            }
            for call in calls
        ]
    replies = [{"role": "tool", "tool_call_id": call["id"], "content": problem} for call in calls]
    return [*messages, echo, *(replies or [{"role": "user", "content": problem}])]

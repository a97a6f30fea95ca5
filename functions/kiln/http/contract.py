"""What an endpoint reads and answers, declared once, next to its handler function.

A handler module says `handler = endpoint(function, Contract(body=..., query=..., answers=...))`.
From that one declaration the pipeline (kiln.http.api) validates the request and hands the
function typed values, serializes what it returns, and kiln.openapi documents the operation:
parameters, request body, every success answer and, from the route's properties, every error.

Nothing here imports pydantic: the models are classes the handler module already imported, so
a route's cold start pays for them once, where it validates with them anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from kiln.envelope import ErrorCode

# How an answer's body is laid out: "envelope" ({success, data}), "list" ({success, data: [...],
# pagination}), "raw" (the model is the whole body), "sse" (text/event-stream), "html",
# "asset" (the media types of the documentation page's files), "empty" (no body).
Shape = Literal["envelope", "list", "raw", "sse", "html", "asset", "empty"]
# A list's pagination: "modes" (page or cursor), "page", "cursor", "events" (after an event id).
Pagination = Literal["modes", "page", "cursor", "events"]


@dataclass(frozen=True)
class Answer:
    """One success answer: its status, its body's model and layout, the headers it carries."""

    status: int
    description: str = "OK."
    # A pydantic model class (documented with its serialization schema), or its "module:Class"
    # name where importing it would load pydantic into a function that otherwise never does
    # (the public service routes); kiln.openapi resolves the name.
    model: Any = None
    shape: Shape = "envelope"
    pagination: Pagination | None = None  # list shape only
    headers: tuple[str, ...] = ()  # response headers beyond what the route's properties imply


@dataclass(frozen=True)
class Contract:
    """An endpoint's inputs and outputs. The route row (kiln.routes) says who may call it and
    how it is metered; this says what goes in and what comes out."""

    answers: tuple[Answer, ...]
    # pydantic model of the JSON body; the function receives it as `body=`. Its "module:Class"
    # name with a `body_check`: the model documents the body and defines what is valid, the check
    # validates it without loading pydantic (kiln.domain.project_bodies: held to the same answers).
    body: Any = None
    body_check: Callable[[dict[str, Any]], Any] | None = None  # a JSON object -> the function's `body=`
    body_optional: bool = False  # an absent body means `{}` (every field's default)
    query: Any = None  # pydantic model of the query string; the function receives it as `query=`
    # Its "module:Class" name with a `query_check`, as for the body (kiln.http.list_query: held
    # to the model's answers by a test): the values arrive as strings, as in the query string.
    query_check: Callable[[dict[str, str]], Any] | None = None  # the query -> the function's `query=`
    # The body may instead be an archive (projects_import): which form it is decides what applies,
    # so that function validates `body` (the JSON form) and `query` (the archive form) itself.
    archive_body: bool = False
    # Error statuses and codes the function itself answers, beyond what the route's shape implies.
    errors: Mapping[int, tuple[ErrorCode, ...]] = field(default_factory=dict)
    headers: tuple[str, ...] = ()  # request header parameters it reads (kiln.openapi PARAMETERS)
    # Path parameters' id kinds beyond PATH_IDS (below): validated by the pipeline, documented.
    path: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: str = ""  # said in the operation's description

    def answer(self, status: int) -> Answer | None:
        return next((answer for answer in self.answers if answer.status == status), None)


def contract_of(handler: Any) -> Contract:
    """The contract a handler module's `handler` was declared with."""
    declared = getattr(handler, "contract", None)
    if not isinstance(declared, Contract):
        raise LookupError(f"{getattr(handler, '__module__', handler)} declares no Contract")
    return declared


def described(contract: Contract) -> Any:
    """Attach a contract to a handler that does not run through the pipeline (health, the
    documentation routes): they answer before, or without, everything the pipeline does."""

    def attach(function: Any) -> Any:
        function.contract = contract
        return function

    return attach


# The id format of each path parameter that names a resource (kiln.ids kinds); a contract's
# `path` adds or overrides (callbackId names a conversion on one route, any operation on another).
PATH_IDS: dict[str, tuple[str, ...]] = {
    "projectId": ("project",),
    "runId": ("run",),
    "exportId": ("export",),
    "workspaceId": ("workspace",),
    "keyId": ("api_key",),
    "webhookId": ("webhook",),
    "deliveryId": ("delivery",),
    "deploymentId": ("deployment",),
}


def path_kinds(contract: Contract, name: str) -> tuple[str, ...]:
    return tuple(contract.path.get(name, PATH_IDS.get(name, ())))

"""The OpenAPI 3.1 document of Kiln, generated offline from the route table and the models.

    python -m kiln.openapi                 # print the document
    python -m kiln.openapi --write         # write docs/openapi.json (committed)
    python -m kiln.openapi --package DIR   # write DIR/kiln/openapi.json (a build's copy of functions/)

docs/openapi.json is committed; tests/unit/kiln/test_openapi.py fails when it drifts from what
this module generates. The copy inside the functions package, which `GET /v1/openapi.json`
serves, is written by the build into the CDK asset's staging copy (infra/lambdas.py), never
committed: kiln.handlers.docs_openapi reads it, and only where no build wrote it (the local
cloud and tests, running from the source tree) generates the document itself.

The document is for clients, Swagger UI and contract tests: API Gateway is built from the
route table, never from this document (it cannot import OpenAPI 3.1).

Where each part comes from (nothing is written twice):

- paths, methods, operationId, summary, tags, security scopes, success status, rate-limit
  category, quota, deprecation: `kiln.routes.ROUTES`, one operation per route;
- path parameters, query parameters, request body, every success answer (status, model,
  layout, headers) and the errors the function itself answers: the `Contract` its handler
  module declares (`handler = endpoint(function, Contract(...))`, kiln.http.contract), the
  same declaration the pipeline validates the request with. Models are documented with
  pydantic's schemas (validation schema for bodies, serialization schema for answers);
- error responses: what the shared pipeline (kiln.http.api, request parsing, limits,
  idempotency), the handler and API Gateway can answer for the route, derived from the
  route's properties and its contract, each with the error envelope narrowed to the catalog
  codes possible at that status (`error_responses`);
- the envelope's parts (pagination, the error envelope and its codes): written here, once;
- path parameter formats: the id formats of kiln.ids (`<prefix>_` + 26 Crockford base32 characters).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from kiln import VERSION, config
from kiln.console_files import FILES as CONSOLE_FILES
from kiln.domain.builds import EventType
from kiln.domain.views import id_pattern
from kiln.envelope import CATALOG, ErrorCode
from kiln.handlers.docs_assets import ASSETS
from kiln.http.contract import Answer, Contract, contract_of, path_kinds
from kiln.routes import BINARY_MEDIA_TYPES, ROUTES, Route

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
SSE = "text/event-stream"
HTML = "text/html"
COMPONENT_REF = "#/components/schemas/{model}"
EC = ErrorCode
# Error type URIs: identifiers of the catalog codes, documented in docs/errors.md under the
# same slug. Clients compare them as strings; they are not fetched.
ERROR_TYPE_BASE = "https://kiln.dev/errors/"

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "openapi.json"
# Where the functions package carries its copy (what GET /v1/openapi.json serves), relative to
# the directory of the package: written at build time by `package`, never committed.
PACKAGED = Path("kiln") / "openapi.json"

MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def error_slug(code: ErrorCode) -> str:
    return code.value.lower().replace("_", "-")


def error_type(code: ErrorCode) -> str:
    return ERROR_TYPE_BASE + error_slug(code)


# --- what each handler reads and answers ------------------------------------------------------

# --- schemas written here (the envelope's parts) -------------------------------------------------


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": COMPONENT_REF.format(model=name)}


def _obj(
    properties: dict[str, Any],
    required: list[str] | None = None,
    *,
    description: str | None = None,
    closed: bool = True,
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    schema["required"] = list(properties) if required is None else required
    schema["properties"] = properties
    if closed:
        schema["additionalProperties"] = False
    return schema


def _str(description: str | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **extra}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    nullable = dict(schema)
    kind: Any = nullable.get("type")
    nullable["type"] = [kind, "null"] if isinstance(kind, str) else [*kind, "null"]
    return nullable


def _id(*kinds: str, nullable: bool = False) -> dict[str, Any]:
    names = " or ".join(kinds)
    schema = _str(f"A {names} id.", pattern=id_pattern(*kinds))
    return _nullable(schema) if nullable else schema


# The envelope's own parts: what every answer is wrapped in, whatever its model.
ENVELOPE_SCHEMAS: dict[str, dict[str, Any]] = {}
ENVELOPE_SCHEMAS["PagePagination"] = _obj(
    {
        "page": {"type": "integer", "minimum": 1},
        "pageSize": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0},
        "totalPages": {"type": "integer", "minimum": 0},
    },
    description="Page mode (the default): `?page=&pageSize=`.",
)
ENVELOPE_SCHEMAS["CursorPagination"] = _obj(
    {
        "limit": {"type": "integer", "minimum": 1},
        "nextCursor": _nullable(_str("Pass as `cursor` for the next page; null on the last page.")),
        "hasMore": {"type": "boolean"},
    },
    description="Cursor mode (opt-in with `limit` or `cursor`): opaque signed cursors.",
)
ENVELOPE_SCHEMAS["EventPagination"] = _obj(
    {
        "limit": {"type": "integer", "minimum": 1},
        "nextCursor": _nullable(
            _str("The last event's id: pass it as `after` for the next page; null on the last.", pattern="^[0-9]+$")
        ),
        "hasMore": {"type": "boolean"},
    }
)
ENVELOPE_SCHEMAS["ErrorCode"] = {
    "type": "string",
    "enum": [code.value for code in ErrorCode],
    "description": "The stable error codes (docs/errors.md):\n\n| code | status | type URI |\n|---|---|---|\n"
    + "\n".join(f"| `{code.value}` | {CATALOG[code].status} | {error_type(code)} |" for code in ErrorCode),
    "x-error-types": {code.value: error_type(code) for code in ErrorCode},
}
ENVELOPE_SCHEMAS["ErrorEnvelope"] = _obj(
    {
        "success": {"const": False},
        "data": {"type": "null"},
        "error": _obj(
            {
                "code": _ref("ErrorCode"),
                "message": _str("For people; may change. Dispatch on `code`."),
                "details": {
                    "type": "object",
                    "description": "Machine-readable specifics; their shape per code is in docs/errors.md.",
                },
            }
        ),
    },
    description="Every error, from every layer (handler, pipeline, API Gateway).",
)

_PAGINATION = {
    "modes": {"oneOf": [_ref("PagePagination"), _ref("CursorPagination")]},
    "page": _ref("PagePagination"),
    "cursor": _ref("CursorPagination"),
    "events": _ref("EventPagination"),
}


# --- headers and parameters ----------------------------------------------------------------------


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


_INT = {"type": "integer", "minimum": 0}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": _header(
        "The request id: the client's own `X-Request-Id` when it is sane "
        "(1-128 of `A-Za-z0-9._:-`), else API Gateway's. Quote it when reporting a problem."
    ),
    "X-RateLimit-Limit": _header("Limit of the tightest applicable policy (authenticated responses).", _INT),
    "X-RateLimit-Remaining": _header("Requests left under the tightest applicable policy.", _INT),
    "X-RateLimit-Reset": _header("Epoch seconds when that policy next admits a request.", _INT),
    "RateLimit-Policy": _header(
        "Every applicable policy, IETF draft structured-field list: "
        '`"<policy>";q=<limit>;w=<window seconds>` (policies: read, write, ai, day, '
        "builds, exports)."
    ),
    "RateLimit": _header('Each policy\'s state: `"<policy>";r=<remaining>;t=<seconds to reset>`.'),
    "Retry-After": _header(
        "Seconds to wait before retrying; never earlier than the limit really reopens.",
        {"type": "integer", "minimum": 1},
    ),
    "Location": _header("Where the created resource, the operation's status or the download is."),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer to an earlier request with the same Idempotency-Key.",
        {"type": "string", "enum": ["true"]},
    ),
    "Deprecation": _header("RFC 9745: `@<epoch seconds>` when this route was deprecated."),
    "Sunset": _header("RFC 8594 HTTP-date no earlier than which the route could stop answering."),
    "Link": _header('The successor: `<path>; rel="successor-version"`.'),
    "WWW-Authenticate": _header('RFC 6750 Bearer challenge (`error="insufficient_scope"` and the scope on 403).'),
    "Cache-Control": _header("Caching directives (`no-store` on secrets and presigned redirects)."),
    "Content-Security-Policy": _header(
        "What the page may load and where its forms may post: this origin only (the documentation's scripts "
        "and stylesheet are Kiln's own, `/docs/{asset}`; the OAuth pages have no script, and their forms may also "
        "lead to the client's redirect URI); never framed."
    ),
    "ETag": _header("The content's tag, for `If-None-Match`."),
    "Set-Cookie": _header(
        "The session cookie: `__Host-kiln_session=<token>; Path=/; HttpOnly; Secure; SameSite=Lax; "
        "Max-Age=<seconds>` on sign-in, the same with an empty value and `Max-Age=0` on sign-out."
    ),
}
_RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit")
_DEPRECATION_HEADERS = ("Deprecation", "Sunset", "Link")

PARAMETERS: dict[str, dict[str, Any]] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes a retry safe: for 24 hours, the same key on the same route (per API key) answers "
        "the first request's status and body with `Idempotent-Replayed: true`; a different body or "
        "query is 422 IDEMPOTENCY_KEY_REUSED, a first request still running 409 "
        "IDEMPOTENCY_KEY_IN_USE. 1-255 printable ASCII characters, bare or in double quotes.",
        "schema": {"type": "string", "pattern": '^(?:[!#-~](?:[ -~]{0,253}[!-~])?|"[ -~]{1,255}")$'},
    },
    "CsrfToken": {
        "name": "X-CSRF-Token",
        "in": "header",
        "required": False,
        "description": "Required when the request is authenticated by the session cookie: the session's "
        "`csrfToken` (from sign-in or GET /v1/sessions/current). Without it, or with another, a change made "
        'with the cookie is 403 FORBIDDEN with `details.reason: "csrf"`. API keys and access tokens need none.',
        "schema": {"type": "string"},
    },
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags of copies the client holds: 304 when one is current.",
        "schema": {"type": "string"},
    },
    "LastEventId": {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "Resume after this event id (what EventSource resends on reconnection); wins over `after`.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}

# Path parameters: name -> (schema, description). callbackId depends on the route.
_PATH_PARAMETERS: dict[str, tuple[dict[str, Any], str]] = {
    "projectId": (_id("project"), "The project's id."),
    "runId": (_id("run"), "The run's id."),
    "exportId": (_id("export"), "The export's id."),
    "workspaceId": (_id("workspace"), "The workspace's id."),
    "keyId": (_id("api_key"), "The API key's id."),
    "userId": (_id("user"), "The person's id."),
    "clientId": (_id("oauth_client"), "The OAuth client's id."),
    "webhookId": (_id("webhook"), "The webhook's id."),
    "deliveryId": (_id("delivery"), "The delivery's id."),
    "deploymentId": (_id("deployment"), "The deploy preview's id."),
    "taskId": (_str(pattern="^task-[0-9]{3}$"), "The task's id within its run (`task-001`)."),
    "path": (_str(minLength=1), "A repository file path, slashes included (`src/app.py`)."),
    "asset": (
        _str(enum=sorted(ASSETS)),
        "A file of the documentation page (Swagger UI's distribution, pinned, with its licences).",
    ),
    "file": (_str(enum=sorted(CONSOLE_FILES)), "A file of the web console, slashes included (`views/build.js`)."),
}
QUERY_DESCRIPTIONS = {
    "page": "Page mode: the 1-based page (default 1).",
    "pageSize": "Page mode: items per page (default 20, at most 100).",
    "limit": "Cursor mode: items per page (default 20, at most 100). Not with `page`/`pageSize`.",
    "cursor": "Cursor mode: `pagination.nextCursor` of the previous page (opaque, signed, bound to this list).",
    "status": "Only items in this status.",
    "search": "Case-insensitive substring of the name or description.",
    "ref": "A branch name or a full commit sha (default `main`).",
    "path": "The directory to list (default `/`, the root).",
    "version": "A spec version (default: the latest).",
    "after": "Only events strictly after this: an event id (`42`, events with a greater id) or an ISO-8601 "
    "timestamp with a timezone (`2025-11-25T10:00:00Z`, events created later). Default: from the start.",
    "type": "Only these event types, comma-separated (`TASK_FAILED,RUN_FAILED`).",
    "taskId": "Only the events of this task (`task-001`).",
    "workspaceId": "Admin only: another workspace.",
    "name": "Archive body only: the imported project's name (default: from the archive).",
    "filename": "Archive body only: the archive's file name, which tells its format when the type does not.",
    "EventQuery.limit": "At most this many events (default 100).",
}
_EVENT_TYPE = "(" + "|".join(EventType.__members__) + ")"
# What the query models check in validators, which their JSON schemas cannot say.
QUERY_SCHEMA_EXTRAS: dict[str, dict[str, Any]] = {
    "EventQuery.type": {"pattern": f"^{_EVENT_TYPE}(,{_EVENT_TYPE})*$"},
    "EventQuery.taskId": {"pattern": "^task-[0-9]{3}$"},
    "EventQuery.after": {"anyOf": [{"pattern": "^[0-9]{1,10}$"}, {"format": "date-time"}]},
}

# --- pydantic models ---------------------------------------------------------------------------


def _resolve(reference: str) -> Any:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def contract_of_route(route: Route) -> Contract:
    """The contract the route's handler module declares (importing it, as Lambda would)."""
    contract = contract_of(_resolve(f"kiln.handlers.{route.handler}:handler"))
    if isinstance(contract.body, str):  # named beside its `body_check` (kiln.http.contract)
        contract = replace(contract, body=_resolve(contract.body))
    if isinstance(contract.query, str):  # named beside its `query_check`
        contract = replace(contract, query=_resolve(contract.query))
    return contract


def _model(model: Any) -> Any:
    """A model class, or its "module:Class" name (kiln.http.contract.Answer) resolved."""
    return _resolve(model) if isinstance(model, str) else model


def _unique(models: Any) -> list[Any]:
    """Each model once, in a stable order (by module and name)."""
    return sorted(set(models), key=lambda model: (model.__module__, model.__qualname__))


class _Schemas:
    """The pydantic schemas of every model the table names, as components."""

    def __init__(self) -> None:
        from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

        class Generator(GenerateJsonSchema):
            def field_title_should_be_set(self, schema: Any) -> bool:
                return False  # property names say it; titles only add noise

        self._generator = Generator
        contracts = [contract_of_route(route) for route in ROUTES]
        bodies = _unique(contract.body for contract in contracts if contract.body is not None)
        answers = _unique(
            _model(answer.model) for contract in contracts for answer in contract.answers if answer.model is not None
        )
        pairs: list[tuple[Any, JsonSchemaMode]] = [(model, "validation") for model in bodies]
        pairs += [(model, "serialization") for model in answers]
        keys, top = models_json_schema(
            pairs, ref_template=COMPONENT_REF, union_format="primitive_type_array", schema_generator=Generator
        )
        self.components: dict[str, Any] = dict(top.get("$defs", {}))
        self._keys = keys

    def body(self, model: Any) -> dict[str, Any]:
        return self._keys[(model, "validation")]

    def data(self, model: Any) -> dict[str, Any]:
        return self._keys[(_model(model), "serialization")]

    def query_parameters(self, model: Any) -> list[dict[str, Any]]:
        """One parameter per field of a query model (enums become components)."""
        schema = model.model_json_schema(
            ref_template=COMPONENT_REF, union_format="primitive_type_array", schema_generator=self._generator
        )
        for name, definition in schema.get("$defs", {}).items():
            if self.components.setdefault(name, definition) != definition:
                raise ValueError(f"two different schemas are named {name}")
        required = set(schema.get("required", []))
        parameters = []
        for name, prop in schema.get("properties", {}).items():
            prop = _without_null(prop)
            key = f"{model.__name__}.{name}"
            description = prop.pop("description", None) or QUERY_DESCRIPTIONS.get(key) or QUERY_DESCRIPTIONS.get(name)
            prop.update(QUERY_SCHEMA_EXTRAS.get(key, {}))
            parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            if description:
                parameter["description"] = description
            parameter["schema"] = prop
            parameters.append(parameter)
        return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null alternative and default."""
    schema = copy.deepcopy(schema)
    if schema.get("default", 0) is None:
        del schema["default"]
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        schema["type"] = rest[0] if len(rest) == 1 else rest
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [option for option in schema[key] if option != {"type": "null"}]
            if len(options) == 1:
                del schema[key]
                schema.update(options[0])
            else:
                schema[key] = options
    return schema


# --- operations ---------------------------------------------------------------------------------


def _scopes_text(route: Route) -> str:
    if not route.authorized:
        return "Public: no credentials."
    if not route.scopes:
        return (
            "Any valid API key; it manages its own workspace's keys within its own scopes, allow-list and "
            "lifetime (`admin` reaches other workspaces through `workspaceId`)."
        )
    return "Required scopes: " + ", ".join(f"`{scope}`" for scope in route.scopes) + " (all of them)."


def _description(route: Route, contract: Contract) -> str:
    lines = [route.summary + ".", "", _scopes_text(route)]
    if route.category != "none":
        lines.append(f"Rate-limit category: `{route.category}`.")
    if route.quota:
        lines.append(f"A success consumes one unit of the workspace's annual `{route.quota}` quota.")
    if route.method in MUTATING and route.authorized:
        lines.append("Accepts `Idempotency-Key`.")
    if route.deprecated is not None:
        lines.append(
            f"Deprecated: use `{route.deprecated.successor}`. Every answer, errors included, carries "
            "`Deprecation`, `Sunset` and a `Link` to the successor route; it keeps working."
        )
    if contract.query and {"page", "cursor"} <= _field_names(contract.query):
        lines.append("Page mode (`page`, `pageSize`) by default, or cursor mode (`limit`, `cursor`); never both (400).")
    if contract.notes:
        lines.append(contract.notes)
    return "\n".join(lines)


def error_responses(route: Route, contract: Contract) -> dict[int, list[ErrorCode]]:
    """Every error status the route can answer, with the catalog codes possible at each."""
    errors: dict[int, list[ErrorCode]] = {}

    def add(*codes: ErrorCode) -> None:
        for code in codes:
            listed = errors.setdefault(code.status, [])
            if code not in listed:
                listed.append(code)

    if route.authorized:
        add(
            EC.VALIDATION_ERROR,
            EC.UNAUTHORIZED,
            EC.FORBIDDEN,
            EC.ENDPOINT_NOT_FOUND,
            EC.TOO_MANY_REQUESTS,
            EC.RATE_LIMIT_EXCEEDED,
            EC.USAGE_LIMIT_EXCEEDED,
        )
        if (
            route.path_params
            or (contract.query and "workspaceId" in _field_names(contract.query))
            or (contract.body and "workspaceId" in _field_names(contract.body))
        ):
            add(EC.NOT_FOUND)
        if route.method in MUTATING:
            add(EC.IDEMPOTENCY_KEY_IN_USE, EC.IDEMPOTENCY_KEY_REUSED)
    if contract.body or contract.archive_body:
        add(EC.PAYLOAD_TOO_LARGE, EC.UNSUPPORTED_MEDIA_TYPE)
    for codes in contract.errors.values():
        add(*codes)
    add(EC.INTERNAL_ERROR, EC.SERVICE_UNAVAILABLE)
    return dict(sorted(errors.items()))


def _field_names(model: Any) -> set[str]:
    return set(model.model_fields)


def _headers_of(names: tuple[str, ...]) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}}
    for name in names:
        headers[name] = {"$ref": f"#/components/headers/{name}"}
    return headers


def _success_response(route: Route, success: Answer, schemas: _Schemas) -> dict[str, Any]:
    names = list(success.headers)
    if route.authorized and route.category != "none":
        names += _RATE_HEADERS
    if route.authorized and route.method in MUTATING:
        names.append("Idempotent-Replayed")
    if route.deprecated is not None:
        names += _DEPRECATION_HEADERS
    response: dict[str, Any] = {"description": success.description, "headers": _headers_of(tuple(names))}
    if success.shape == "envelope":
        body = _envelope(schemas.data(success.model))
    elif success.shape == "list":
        body = _envelope(
            {"type": "array", "items": schemas.data(success.model)}, _PAGINATION[success.pagination or "modes"]
        )
    elif success.shape == "raw":
        body = schemas.data(success.model)
    elif success.shape == "sse":
        response["content"] = {
            SSE: {
                "schema": {"type": "string"},
                "example": (
                    'retry: 1000\n\nid: 1\nevent: RUN_STARTED\ndata: {"id":1,"runId":"run_...","taskId":null,'
                    '"eventType":"RUN_STARTED","payload":{},"createdAt":"2025-11-25T10:00:00.000Z"}\n\n'
                ),
            }
        }
        return response
    elif success.shape == "html":
        response["content"] = {HTML: {"schema": {"type": "string"}}}
        return response
    elif success.shape == "asset":
        response["content"] = {
            media: {"schema": {"type": "string"}} for media in sorted({asset.media_type for asset in ASSETS.values()})
        }
        return response
    else:
        return response
    response["content"] = {JSON: {"schema": body}}
    return response


def _envelope(data: dict[str, Any], pagination: dict[str, Any] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"success": {"const": True}, "data": data}
    if pagination is not None:
        properties["pagination"] = pagination
    return _obj(properties)


def _error_response_name(route: Route, status: int, codes: list[ErrorCode]) -> str:
    codes = sorted(codes, key=list(ErrorCode).index)
    metered = route.authorized and route.category != "none" and status not in (401, 500, 503)
    # API Gateway's own 401 (and its throttle's 429, 5xx) come before any function runs and
    # cannot carry a route's headers; everything the function answers says it is deprecated.
    deprecated = route.deprecated is not None and status != 401
    return (
        f"Error{status}."
        + ".".join(code.value for code in codes)
        + (".metered" if metered else "")
        + (".deprecated" if deprecated else "")
    )


def _error_response(name: str, status: int, codes: list[ErrorCode]) -> dict[str, Any]:
    """A response component: the error envelope narrowed to `codes`, one example per code."""
    codes = sorted(codes, key=list(ErrorCode).index)
    lines = [f"`{code.value}`: {CATALOG[code].description}." for code in codes]
    names: list[str] = []
    if status in (401, 403):
        names.append("WWW-Authenticate")
    if status in (409, 429, 503):
        names.append("Retry-After")
    if ".metered" in name:
        names += _RATE_HEADERS
    if name.endswith(".deprecated"):
        names += _DEPRECATION_HEADERS
    schema: dict[str, Any] = {
        "allOf": [
            _ref("ErrorEnvelope"),
            {"properties": {"error": {"properties": {"code": {"enum": [code.value for code in codes]}}}}},
        ]
    }
    examples = {code.value: {"$ref": f"#/components/examples/{code.value}"} for code in codes}
    return {
        "description": " ".join(lines),
        "headers": _headers_of(tuple(names)),
        "content": {JSON: {"schema": schema, "examples": examples}},
    }


def _error_examples() -> dict[str, Any]:
    return {
        code.value: {
            "summary": CATALOG[code].title,
            "value": {
                "success": False,
                "data": None,
                "error": {"code": code.value, "message": CATALOG[code].title, "details": _example_details(code)},
            },
        }
        for code in ErrorCode
    }


def _example_details(code: ErrorCode) -> dict[str, Any]:
    details: dict[ErrorCode, dict[str, Any]] = {
        EC.VALIDATION_ERROR: {
            "fields": [{"field": "name", "location": "body", "message": "Field required", "type": "missing"}]
        },
        EC.FORBIDDEN: {"requiredScopes": ["project:write"], "missingScopes": ["project:write"]},
        EC.NOT_FOUND: {"resource": "project", "id": "proj_01m885m8rskqxxjknrtpgbxm1p"},
        EC.ENDPOINT_NOT_FOUND: {"path": "/v1/nope"},
        EC.CONFLICT: {"currentStatus": "draft", "allowedFrom": ["spec_review"]},
        EC.IDEMPOTENCY_KEY_IN_USE: {"retryAfterSeconds": 1},
        EC.IDEMPOTENCY_KEY_REUSED: {"header": "Idempotency-Key"},
        EC.PAYLOAD_TOO_LARGE: {"limitBytes": 1048576, "receivedBytes": 2000000},
        EC.UNSUPPORTED_MEDIA_TYPE: {"contentType": "text/plain", "supported": ["application/json"]},
        EC.INVALID_ARCHIVE: {"reason": "path_traversal", "entry": "../etc/passwd"},
        EC.RATE_LIMIT_EXCEEDED: {"policy": "write", "limit": 20, "window": 60, "retryAfterSeconds": 12},
        EC.USAGE_LIMIT_EXCEEDED: {"policy": "day", "limit": 1000, "window": 86400, "retryAfterSeconds": 3600},
        EC.CONCURRENCY_LIMIT_EXCEEDED: {"limit": 1, "retryAfterSeconds": 30},
        EC.INTERNAL_ERROR: {"requestId": "c0ffee00-1234-5678-9abc-def012345678"},
        EC.SERVICE_UNAVAILABLE: {"retryAfterSeconds": 1},
        EC.TOO_MANY_REQUESTS: {"requestId": "c0ffee00-1234-5678-9abc-def012345678"},
        EC.UNAUTHORIZED: {},
    }
    return details.get(code, {})


def _parameters(route: Route, contract: Contract, schemas: _Schemas) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in route.path_params:
        if name == "callbackId":
            kinds = path_kinds(contract, name)
            schema, description = _id(*kinds), "The operation's callbackId (the id of the " + " or ".join(kinds) + ")."
        else:
            schema, description = _PATH_PARAMETERS[name]
        parameters.append({"name": name, "in": "path", "required": True, "description": description, "schema": schema})
    if contract.query:
        parameters += schemas.query_parameters(contract.query)
    for name in contract.headers:
        parameters.append({"$ref": f"#/components/parameters/{name}"})
    if route.authorized and route.method in MUTATING:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
        parameters.append({"$ref": "#/components/parameters/CsrfToken"})
    return parameters


def _request_body(contract: Contract, schemas: _Schemas) -> dict[str, Any] | None:
    if not contract.body:
        return None
    content: dict[str, Any] = {JSON: {"schema": schemas.body(contract.body)}}
    if contract.archive_body:
        archive_types = _resolve("kiln.handlers.projects_import:ARCHIVE_TYPES")  # what the function accepts
        for media in archive_types:
            if media not in BINARY_MEDIA_TYPES:
                raise ValueError(f"{media} is accepted by the import but API Gateway would not pass it as binary")
            content[media] = {
                "schema": {
                    "type": "string",
                    "contentMediaType": media,
                    "description": "The archive itself, at most 4 MiB.",
                }
            }
        description = (
            "Either the archive itself (at most 4 MiB; imported now, 201) or JSON `{uploadId, name?}` "
            "naming an upload made with `POST /v1/uploads` (any size up to 1 GiB; imported "
            "asynchronously, 202)."
        )
    elif contract.body_optional:
        description = "Optional: an absent body means `{}`."
    else:
        description = None
    body: dict[str, Any] = {"required": not contract.body_optional}
    if description:
        body["description"] = description
    body["content"] = content
    return body


def _operation(route: Route, schemas: _Schemas, shared: dict[str, Any]) -> dict[str, Any]:
    """The route's operation; error responses are added to `shared` (components/responses)."""
    contract = contract_of_route(route)
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": _description(route, contract),
        "tags": list(route.tags) or ["service"],
    }
    if route.deprecated is not None:
        operation["deprecated"] = True
    operation["security"] = [{"bearer": list(route.scopes)}] if route.authorized else []
    parameters = _parameters(route, contract, schemas)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(contract, schemas)
    if body:
        operation["requestBody"] = body
    responses: dict[str, Any] = {}
    for success in contract.answers:
        responses[str(success.status)] = _success_response(route, success, schemas)
    for status, codes in error_responses(route, contract).items():
        key = str(status)
        name = _error_response_name(route, status, codes)
        error = shared.setdefault(name, _error_response(name, status, codes))
        if key in responses:  # health's 503 is its own body; the gateway's 503 is the envelope
            existing = responses[key]["content"][JSON]["schema"]
            responses[key]["content"][JSON]["schema"] = {"oneOf": [existing, error["content"][JSON]["schema"]]}
            responses[key]["description"] += " Or, from the gateway: " + error["description"]
            continue
        responses[key] = {"$ref": f"#/components/responses/{name}"}
    operation["responses"] = dict(sorted(responses.items()))
    operation["x-kiln-rate-category"] = route.category
    return operation


# --- the document --------------------------------------------------------------------------------

_TAGS = {
    "service": "Health, service description and this documentation.",
    "projects": "Projects: create, list, read, edit, archive.",
    "specification": "The specification workflow: clarify, answer, regenerate, approve, read.",
    "files": "The project's repository, read-only.",
    "runs": "Build runs, their tasks and their events.",
    "archives": "Exports, uploads, imports and conversions (asynchronous operations).",
    "operations": "The strict status of any asynchronous operation.",
    "workspaces": "Workspaces (admin).",
    "admin": "Deployment-wide counters (admin).",
    "api-keys": "API keys.",
    "users": "The people of a workspace (admin); passwords are never returned.",
    "webhooks": "Webhooks (signed, SSRF-safe deliveries of workspace events), their delivery log, custom events.",
    "oauth": "OAuth 2.1 authorization server discovery: metadata and signing keys.",
}

_INTRO = f"""Kiln turns a plain-language project description into an approved specification, then into a \
generated, verified codebase through auditable build runs, and moves projects in and out as archives.

**Envelope.** JSON in, JSON out (`application/json; charset=utf-8`), except downloads, Server-Sent \
Events and archive bodies. Success: `{{"success": true, "data": ...}}`; lists add `pagination`. \
Every error, from every layer: `{{"success": false, "data": null, "error": {{"code", "message", \
"details"}}}}`. Unknown request fields are rejected with `VALIDATION_ERROR`. Every response carries \
`X-Request-Id`.

**Authentication.** `Authorization: Bearer kiln_...` (an API key), `Authorization: Bearer <access token>` \
(OAuth 2.1, on behalf of a person) or the `__Host-kiln_session` cookie (a signed-in browser). A present \
`Authorization` header decides alone: a bad one answers 401 whatever the cookie. Each operation lists \
the scopes it requires in its security requirement and description. A key may carry a path allow-list: \
outside it every route answers 404 `ENDPOINT_NOT_FOUND`. A revoked key or token stops working within \
{config.AUTHORIZER_CACHE_DEFAULT_SECONDS:g} s; signing out ends a session at once.

**Limits.** Every authenticated response carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`, \
`X-RateLimit-Reset` (the tightest policy) and the IETF draft `RateLimit-Policy` / `RateLimit` headers; \
every 429 carries `Retry-After`.

**Idempotency.** POST, PATCH and DELETE accept `Idempotency-Key` (24 hours; replays carry \
`Idempotent-Replayed: true`).

**Pagination.** Page mode by default (`page`, `pageSize` up to 100) or cursor mode (`limit`, \
`cursor`), never both.

**Asynchronous work** answers 202 with `{{id, status, callbackId}}` and `Location`; the strict status \
is `GET /v2/operations/{{callbackId}}` (202 while running, 200 when done, the failure's own code).

**Errors.** Codes, statuses, `details` shapes and what to do: docs/errors.md; each code's type URI is \
`{ERROR_TYPE_BASE}<code in lowercase with dashes>`. A method a path does not declare answers 405 \
`METHOD_NOT_ALLOWED` with `Allow` (not listed per operation).

**Deprecated routes** keep working; every answer they give, errors included, carries `Deprecation`, \
`Sunset` and a `Link` to the successor.

**Vocabulary.** A v1 resource of an asynchronous operation (export, conversion, the 202 of an import) \
reads `processing`, then `completed` or `failed`; `GET /v2/operations/{{callbackId}}` shows the precise \
state (`succeeded`)."""


def build() -> dict[str, Any]:
    """The whole document, deterministic."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    responses: dict[str, Any] = {}
    for route in ROUTES:
        path = paths.setdefault(route.path.replace("{path+}", "{path}").replace("{file+}", "{file}"), {})
        path[route.method.lower()] = _operation(route, schemas, responses)
    components = dict(schemas.components)
    for name, schema in ENVELOPE_SCHEMAS.items():
        # A model's field typed with kiln.envelope.ErrorCode makes pydantic emit the same enum:
        # the one written here, with the codes' type URIs, stands for both.
        generated = components.get(name)
        if generated is not None and generated.get("enum") != schema.get("enum"):
            raise ValueError(f"the schema written here for {name} differs from the models' one")
        components[name] = schema
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Kiln API",
            "version": VERSION,
            "summary": "From a project description to a verified codebase, serverless.",
            "description": _INTRO,
        },
        "servers": [
            {"url": "..", "description": "The deployment serving this document (it is served at /v1/openapi.json)."},
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com/prod",
                "description": "A deployed stack.",
                "variables": {
                    "apiId": {"default": "abcdef1234", "description": "The REST API's id (stack output)."},
                    "region": {"default": "us-east-1"},
                },
            },
            {"url": "http://localhost:3001", "description": "The local cloud (`make run`)."},
        ],
        "tags": [{"name": name, "description": text} for name, text in _TAGS.items()],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "kiln_<43 URL-safe base64 characters>",
                    "description": (
                        "An API key. The scopes an operation requires are listed in its security requirement."
                    ),
                }
            },
            "schemas": dict(sorted(components.items())),
            "responses": dict(sorted(responses.items())),
            "headers": HEADERS,
            "examples": _error_examples(),
            "parameters": PARAMETERS,
        },
    }


def render() -> str:
    with _offline_settings():
        return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


@contextlib.contextmanager
def _offline_settings() -> Iterator[None]:
    """The document reads models from handler modules, and importing one checks its function's
    settings (the cold start check). Nothing runs here, so placeholders satisfy the check, and
    they are gone afterwards (the CDK app packages the document in its own process)."""
    placeholders = {config.ENVIRONMENT: "local", config.TABLE_NAME: "offline", config.BUCKET_NAME: "offline"}
    added = [name for name in placeholders if name not in os.environ]
    for name in added:
        os.environ[name] = placeholders[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def package(functions_dir: Path) -> Path:
    """Write the document into a functions directory about to ship (the CDK asset's staging
    copy): the build produces the served copy, so the repository holds the document once."""
    target = functions_dir / PACKAGED
    target.write_text(render(), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiln.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {COMMITTED.relative_to(REPO)}")
    parser.add_argument(
        "--package",
        metavar="FUNCTIONS_DIR",
        type=Path,
        help=f"write FUNCTIONS_DIR/{PACKAGED} (a build's staging copy of functions/)",
    )
    args = parser.parse_args(argv)
    if args.package is not None:
        print(f"wrote {package(args.package)}", file=sys.stderr)
        return 0
    text = render()
    if not args.write:
        sys.stdout.write(text)
        return 0
    COMMITTED.write_text(text, encoding="utf-8")
    print(f"wrote {COMMITTED.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

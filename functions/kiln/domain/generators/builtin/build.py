"""The built-in build: plans and writes a runnable, dependency-free Python service from a spec.

`plan(documents)` reads DATA.md (parse_data_model) and ROUTES.md (`parse_routes`, below) and
decomposes the build into tasks: a scaffold (README, in-memory store, HTTP router, packages),
one task per entity (model, route handlers, tests) and a last task that registers every
entity's routes and serves them. `implement(request)` writes exactly one task's files. Both
derive everything from the documents alone, so the same documents always give the same plan
and byte-identical files, whichever task is asked for first.

The generated service uses the Python standard library only:

    README.md
    app/__init__.py
    app/http.py                  router, JSON bodies, errors as JSON, handle() and serve()
    app/store.py                 thread-safe in-memory tables, id generation, unique checks
    app/models/__init__.py       field declarations and the validation of JSON values
    app/models/<entity>.py       a dataclass per entity with validate/from_dict/to_dict
    app/routes/__init__.py       list/create/get/update/delete/action on the store
    app/routes/<entity>.py       the entity's handlers and ROUTES table
    app/server.py                registers every entity's routes; `python -m app.server`
    tests/test_<entity>.py       unittest cases for every generated route of the entity
    tests/test_server.py         every generated route is registered; unknown routes are 404

How a route of ROUTES.md is handled (see `_classify`): the path must read
`(/<name>/{param})* /<collection> [/{id} [/<action>]]`, where <collection> is the entity's
path segment (its kebab-case plural, or the segment its item routes use) and each leading
parameter names a field of the entity (`{projectId}` -> project_id), which then filters lists,
is set on creation and must match on item routes. GET/POST on the collection list and create;
GET/PATCH/PUT/DELETE on an item get, update, replace and delete; POST/PATCH/PUT on
`<item>/<action>` apply the body as a partial update and record the action on the item.
Anything else (routes of no entity, `/users/me`, summaries and bulk actions) is not generated
and is listed in the README with the reason.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from pydantic import ValidationError

from kiln.domain.builds import MAX_TASKS, ImplementRequest, Implementation, TaskDefinition, TaskPlan
from kiln.domain.generation import ENTITY_NAME, ApiRoute, Entity
from kiln.domain.spec_documents import parse_data_model

__all__ = ["implement", "parse_routes", "plan"]

INSTRUCTIONS_MAX = 20_000


# --- ROUTES.md ---------------------------------------------------------------------------------

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_OTHER = "Other"
_OTHER_NO_ENTITY = "Other (no entity)"
_HEADING = re.compile(r"##(?!#)[ \t]*(.*)")
_ROUTE_ROW = re.compile(r"\|[ \t]*([A-Za-z]+)[ \t]*\|[ \t]*`([^`]*)`[ \t]*\|(.*)\|")
_RULE = re.compile(r":?-{3,}:?")


def parse_routes(text: str, entities: Iterable[str] | None = None) -> list[ApiRoute]:
    """The routes of a ROUTES.md as rendered by kiln.domain.spec_documents; ValueError otherwise.

    Each `## <Entity>` section holds a table `| method | path | summary |` whose rows read
    ``| GET | `/path` | summary |`` (a pipe in a summary is written `\\|`). "Other" holds the
    routes of no entity, or "Other (no entity)" when an entity is itself named Other: pass
    the entity names of DATA.md as `entities` to settle a lone "Other" heading; without them,
    "Other" is an entity only if the document also has an "Other (no entity)" section.
    Lines outside tables and headings are free text. Raises ValueError (with a line number)
    on anything else: a row that is not a route, an unknown method, an invalid path, an
    empty summary, a route listed twice, or no route at all.
    """
    if not isinstance(text, str):
        raise ValueError("ROUTES.md must be text")
    lines = [line.strip(" \t") for line in text.removeprefix("\ufeff").splitlines()]
    headings = [match.group(1).strip(" \t") for match in map(_HEADING.fullmatch, lines) if match]
    if entities is not None:
        other_is_entity = _OTHER in set(entities)
    else:
        other_is_entity = _OTHER_NO_ENTITY in headings
    unset = object()
    group: object = unset
    routes: list[ApiRoute] = []
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(lines, start=1):
        heading = _HEADING.fullmatch(line)
        if heading:
            title = heading.group(1).strip(" \t")
            if title == _OTHER_NO_ENTITY or (title == _OTHER and not other_is_entity):
                group = None
            elif re.fullmatch(ENTITY_NAME, title):
                group = title
            else:
                raise ValueError(f"ROUTES.md line {number}: a section heading names an entity or reads "
                                 f"'{_OTHER}', found {title[:80]!r}")
            continue
        if not line.startswith("|"):
            continue
        cells = [cell.strip(" \t") for cell in line.strip("|").split("|")]
        if [cell.lower() for cell in cells] == ["method", "path", "summary"]:
            continue
        if cells and all(_RULE.fullmatch(cell) for cell in cells):
            continue
        row = _ROUTE_ROW.fullmatch(line)
        if row is None:
            raise ValueError(f"ROUTES.md line {number}: expected a route row | METHOD | `/path` | summary |")
        if group is unset:
            raise ValueError(f"ROUTES.md line {number}: a route row before the first '## <Entity>' heading")
        method = row.group(1).upper()
        if method not in _METHODS:
            raise ValueError(f"ROUTES.md line {number}: unknown method {row.group(1)[:20]!r}")
        summary = row.group(3).replace("\\|", "|").strip()
        try:
            route = ApiRoute(method=method, path=row.group(2), summary=summary, entity=group)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                                 for error in exc.errors(include_url=False, include_input=False)[:3])
            raise ValueError(f"ROUTES.md line {number}: {problems}") from None
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"ROUTES.md line {number}: {route.method} {route.path} is already listed "
                             f"at line {seen[key]}")
        seen[key] = number
        routes.append(route)
    if not routes:
        raise ValueError("ROUTES.md lists no routes")
    return routes


# --- the generated scaffold (static files) ----------------------------------------------------

_APP_INIT = '''"""The generated service: in-memory records behind a small JSON HTTP API (standard library only)."""
'''

_PACKAGE_INIT = '''"""Test package: run with `python -m unittest discover -s tests -t .`."""
'''

_STORE = r'''"""Thread-safe in-memory storage: one table of records per entity, ids generated here.

Records are plain JSON-ready dicts keyed by their "id". Every method takes the lock and hands
out deep copies, so callers never share state with the store or with each other.
"""

import copy as _copy
import threading as _threading
import uuid as _uuid


class Conflict(Exception):
    """A unique field already holds the value in another record of the table."""

    def __init__(self, field):
        super().__init__(f"another record already has this {field}")
        self.field = field


class Store:
    def __init__(self):
        self._lock = _threading.RLock()
        self._tables = {}
        self._counters = {}
        self._actions = {}

    def new_id(self, table, kind="uuid"):
        """A fresh id: the next integer of the table for kind "integer", else a random UUID."""
        with self._lock:
            if kind == "integer":
                self._counters[table] = self._counters.get(table, 0) + 1
                return self._counters[table]
            return str(_uuid.uuid4())

    def insert(self, table, record, unique=()):
        """Stores a record carrying its "id"; Conflict if a unique field's value is taken."""
        with self._lock:
            rows = self._tables.setdefault(table, {})
            if record["id"] in rows:
                raise Conflict("id")
            self._check_unique(rows, record, unique, None)
            rows[record["id"]] = _copy.deepcopy(record)
            return _copy.deepcopy(record)

    def get(self, table, record_id):
        with self._lock:
            row = self._tables.get(table, {}).get(record_id)
            return None if row is None else _copy.deepcopy(row)

    def find(self, table, filters=None):
        """The records whose fields equal every value of filters, in insertion order."""
        with self._lock:
            rows = self._tables.get(table, {}).values()
            wanted = dict(filters or {})
            return [_copy.deepcopy(row) for row in rows
                    if all(name in row and row[name] == value for name, value in wanted.items())]

    def update(self, table, record_id, change, unique=(), action=None):
        """Replaces a record by change(copy of it), atomically; KeyError if it does not exist.

        change may raise to abandon the update. With action, the action's name is appended to
        the record's action history in the same step.
        """
        with self._lock:
            rows = self._tables.get(table, {})
            if record_id not in rows:
                raise KeyError(record_id)
            record = change(_copy.deepcopy(rows[record_id]))
            record["id"] = record_id
            self._check_unique(rows, record, unique, record_id)
            rows[record_id] = _copy.deepcopy(record)
            if action is not None:
                self._actions.setdefault((table, record_id), []).append(action)
            return _copy.deepcopy(record)

    def delete(self, table, record_id):
        """Whether a record was there to delete."""
        with self._lock:
            self._actions.pop((table, record_id), None)
            return self._tables.get(table, {}).pop(record_id, None) is not None

    def actions(self, table, record_id):
        """The names of the actions performed on a record, oldest first."""
        with self._lock:
            return list(self._actions.get((table, record_id), ()))

    def clear(self):
        with self._lock:
            self._tables.clear()
            self._counters.clear()
            self._actions.clear()

    @staticmethod
    def _check_unique(rows, record, unique, own_id):
        for name in unique:
            value = record.get(name)
            if value is None:
                continue
            for other_id, other in rows.items():
                if other_id != own_id and other.get(name) == value:
                    raise Conflict(name)


STORE = Store()
'''

_HTTP = r'''"""A tiny HTTP layer: method + path template routing, JSON bodies, errors as JSON.

`handle(method, path, body_bytes)` answers a request without sockets and returns
(status, headers, body): body is a JSON-ready dict, or None for 204 No Content. `serve(port)`
offers the same router over HTTP with http.server.ThreadingHTTPServer.

Handlers are called as handler(params, body): params maps the template's {names} to the
request's path segments (URL-decoded), body is the parsed JSON (None when empty; only read for
POST, PUT and PATCH). They return (status, body) or raise HttpError.
"""

import json as _json
import logging as _logging
import urllib.parse as _parse
from http.server import BaseHTTPRequestHandler as _BaseHandler
from http.server import ThreadingHTTPServer as _Server

MAX_BODY_BYTES = 1024 * 1024
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_log = _logging.getLogger("app")


class HttpError(Exception):
    """An error answer: {"error": {"code", "message", "details"?}} with an HTTP status."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})

    def body(self):
        error = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def json_headers():
    return {"Content-Type": "application/json; charset=utf-8"}


def split_path(path):
    """The URL-decoded segments of a request path; the query string is ignored."""
    path = (path or "").split("#", 1)[0].split("?", 1)[0]
    return [_parse.unquote(segment) for segment in path.split("/") if segment]


def _template(template):
    parts = []
    for segment in template.split("/"):
        if not segment:
            continue
        if len(segment) > 2 and segment.startswith("{") and segment.endswith("}"):
            parts.append((True, segment[1:-1]))
        else:
            parts.append((False, segment))
    return tuple(parts)


def _match(parts, segments):
    if len(parts) != len(segments):
        return None
    params = {}
    for (is_param, text), segment in zip(parts, segments):
        if is_param:
            params[text] = segment
        elif text != segment:
            return None
    return params


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_body(body_bytes):
    """The JSON document of a request body, None when empty; HttpError 400/413 otherwise."""
    if body_bytes is None:
        return None
    if isinstance(body_bytes, str):
        body_bytes = body_bytes.encode("utf-8")
    if len(body_bytes) > MAX_BODY_BYTES:
        raise HttpError(413, "body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    if not body_bytes.strip():
        return None
    try:
        return _json.loads(body_bytes.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HttpError(400, "invalid_json", "the body is not valid JSON") from None


class Router:
    """Routes by method and path template; literal segments win over {parameters}."""

    def __init__(self):
        self._routes = {}

    def add(self, method, template, handler):
        """Registers (or replaces) the handler of method + template."""
        self._routes[(method.upper(), template)] = (_template(template), handler)
        return handler

    def has(self, method, template):
        return (method.upper(), template) in self._routes

    def routes(self):
        """Every registered (method, template), in registration order."""
        return list(self._routes)

    def match(self, method, path):
        """(handler, params) for the request; HttpError 404 or 405 when nothing matches."""
        segments = split_path(path)
        best = None
        allowed = set()
        for (route_method, _template_text), (parts, handler) in self._routes.items():
            params = _match(parts, segments)
            if params is None:
                continue
            if route_method != method:
                allowed.add(route_method)
                continue
            rank = tuple(0 if is_param else 1 for is_param, _ in parts)
            if best is None or rank > best[0]:
                best = (rank, handler, params)
        if best is not None:
            return best[1], best[2]
        if allowed:
            raise HttpError(405, "method_not_allowed", f"{method} is not allowed here",
                            headers={"Allow": ", ".join(sorted(allowed))})
        raise HttpError(404, "not_found", "no such route")

    def handle(self, method, path, body_bytes=b""):
        """(status, headers, body) for one request."""
        method = str(method or "").upper()
        try:
            handler, params = self.match(method, path)
            body = parse_body(body_bytes) if method in ("POST", "PUT", "PATCH") else None
            status, payload = handler(params, body)
        except HttpError as error:
            headers = json_headers()
            headers.update(error.headers)
            return error.status, headers, error.body()
        except Exception:  # a bug in a handler: answer 500 without details, log the traceback
            _log.exception("%s %s failed", method, path)
            return 500, json_headers(), {"error": {"code": "internal_error", "message": "internal server error"}}
        return status, (json_headers() if payload is not None else {}), payload


ROUTER = Router()


def handle(method, path, body_bytes=b"", router=None):
    """Answers one request with the given router (the service's ROUTER by default)."""
    return (ROUTER if router is None else router).handle(method, path, body_bytes)


class _RequestHandler(_BaseHandler):
    server_version = "app/1.0"

    def _dispatch(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            status, headers, payload = 400, json_headers(), HttpError(
                400, "bad_request", "invalid Content-Length").body()
        elif length > MAX_BODY_BYTES:
            status, headers, payload = 413, json_headers(), HttpError(
                413, "body_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes").body()
        else:
            body = self.rfile.read(length) if length else b""
            status, headers, payload = handle(self.command, self.path, body, self.server.router)
        data = b"" if payload is None else _json.dumps(payload).encode("utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format, *args):
        _log.info("%s - %s", self.address_string(), format % args)


def make_server(port=8000, host="127.0.0.1", router=None):
    """A ThreadingHTTPServer bound to host:port (port 0 picks a free one), not yet serving."""
    server = _Server((host, port), _RequestHandler)
    server.daemon_threads = True
    server.router = ROUTER if router is None else router
    return server


def serve(port=8000, host="127.0.0.1", router=None):
    """Serves the router over HTTP until interrupted."""
    server = make_server(port, host, router)
    print(f"listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
'''

_MODELS_INIT = r'''"""What every model shares: field declarations and the validation of JSON values.

Each model module declares FIELDS, a tuple of FieldSpec: the JSON name, the Python attribute
(the name with "_" appended where Python forbids it), the type, whether it is required,
unique, its allowed values (enum) and whether the service alone sets it (read_only: id,
created_at, updated_at). validate_payload checks a request body against them.
"""

import dataclasses as _dataclasses
import datetime as _datetime
import decimal as _decimal
import re as _re
import urllib.parse as _parse
import uuid as _uuid

TYPES = ("string", "text", "integer", "decimal", "boolean", "date", "datetime",
         "uuid", "email", "url", "enum", "json")


@_dataclasses.dataclass(frozen=True)
class FieldSpec:
    name: str
    attr: str
    type: str
    required: bool = False
    unique: bool = False
    values: tuple = ()
    read_only: bool = False


class ValidationError(Exception):
    """The problems of a payload: a list of {"field", "message"}."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in self.problems))


_EMAIL = _re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE = _re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = _re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                        r"(Z|[+-][0-9]{2}:[0-9]{2})?")


def _string(value, spec):
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if spec.required and not value.strip():
        raise ValueError("must not be empty")
    return value


def _integer(value, spec):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    return value


def _decimal_value(value, spec):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("must be a decimal number")
    try:
        number = _decimal.Decimal(str(value).strip())
    except (_decimal.InvalidOperation, ValueError):
        raise ValueError("must be a decimal number") from None
    if not number.is_finite():
        raise ValueError("must be a finite decimal number")
    return str(number)


def _boolean(value, spec):
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _date(value, spec):
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("must be a date such as 2024-01-31")
    try:
        _datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a real calendar date") from None
    return value


def _datetime_value(value, spec):
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise ValueError("must be a date and time such as 2024-01-31T09:30:00Z")
    try:
        _datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise ValueError("must be a real date and time") from None
    return value


def _uuid_value(value, spec):
    if not isinstance(value, str):
        raise ValueError("must be a UUID string")
    try:
        return str(_uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a UUID") from None


def _email(value, spec):
    if not isinstance(value, str) or len(value) > 320 or not _EMAIL.fullmatch(value):
        raise ValueError("must be an email address")
    return value


def _url(value, spec):
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        raise ValueError("must be an http or https URL")
    parts = _parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http or https URL")
    return value


def _enum(value, spec):
    if not isinstance(value, str) or value not in spec.values:
        raise ValueError("must be one of " + ", ".join(spec.values))
    return value


def _json(value, spec):
    return value


CHECKS = {
    "string": _string, "text": _string, "integer": _integer, "decimal": _decimal_value,
    "boolean": _boolean, "date": _date, "datetime": _datetime_value, "uuid": _uuid_value,
    "email": _email, "url": _url, "enum": _enum, "json": _json,
}


def check_value(spec, value):
    """The value, checked (and normalised: UUIDs, decimals) for the field; ValueError otherwise."""
    return CHECKS[spec.type](value, spec)


def path_value(spec, text):
    """The field's value written in a URL path segment; ValueError when it is not one."""
    if spec.type == "integer":
        if not _re.fullmatch(r"-?[0-9]+", text):
            raise ValueError("must be an integer")
        return int(text)
    if spec.type == "boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError("must be true or false")
        return text.lower() == "true"
    if spec.type == "json":
        raise ValueError("cannot be given in a path")
    return check_value(spec, text)


def path_text(value):
    """How a value is written in a URL path segment (the inverse of path_value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def validate_payload(fields, data, partial=False, trusted=False):
    """The checked values of data's writable fields; ValidationError listing every problem.

    partial: absent fields are left out (PATCH) instead of being required or set to None.
    trusted: read-only fields (id, created_at, updated_at) are kept as given, for records
    loaded from the store; otherwise they are ignored, since the service sets them.
    Keys that are not fields are always problems.
    """
    if not isinstance(data, dict):
        raise ValidationError([{"field": None, "message": "the body must be a JSON object"}])
    known = {spec.name for spec in fields}
    problems = [{"field": key, "message": "is not a field"} for key in data if key not in known]
    clean = {}
    for spec in fields:
        if spec.read_only:
            if trusted and spec.name in data:
                clean[spec.name] = data[spec.name]
            continue
        if spec.name not in data:
            if partial:
                continue
            if spec.required:
                problems.append({"field": spec.name, "message": "is required"})
            else:
                clean[spec.name] = None
            continue
        value = data[spec.name]
        if value is None:
            if spec.required:
                problems.append({"field": spec.name, "message": "must not be null"})
            else:
                clean[spec.name] = None
            continue
        try:
            clean[spec.name] = check_value(spec, value)
        except ValueError as error:
            problems.append({"field": spec.name, "message": str(error)})
    if problems:
        raise ValidationError(problems)
    return clean
'''

_ROUTES_INIT = r'''"""What every entity's handlers share: list, create, get, update, replace, delete and actions.

A Resource ties an entity's model to its table in the store. `scope` arguments map field names
to the raw path segments of a nested route (/projects/{projectId}/tasks -> {"project_id": ...}):
lists are filtered by them, creation sets them, and item routes answer 404 when the item does
not match them.
"""

import datetime as _datetime

from app.http import HttpError
from app.models import ValidationError, path_value
from app.store import STORE, Conflict


class Resource:
    """An entity as the handlers see it: table name, model class, FIELDS and id kind."""

    def __init__(self, table, model, fields, id_kind="uuid"):
        self.table = table
        self.model = model
        self.fields = tuple(fields)
        self.id_kind = id_kind
        self.by_name = {spec.name: spec for spec in self.fields}
        self.unique = tuple(spec.name for spec in self.fields if spec.unique and not spec.read_only)
        self.stamps = tuple(spec.name for spec in self.fields
                            if spec.read_only and spec.name in ("created_at", "updated_at"))


def now():
    """The current UTC time, ISO 8601 with milliseconds and Z."""
    moment = _datetime.datetime.now(_datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _invalid(problems):
    return HttpError(400, "validation_failed", "the request is not valid", problems)


def _not_found(resource):
    return HttpError(404, "not_found", f"no such {resource.table}")


def _conflict(error):
    return HttpError(409, "conflict", str(error), [{"field": error.field, "message": "is already taken"}])


def _body_object(body):
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _invalid([{"field": None, "message": "the body must be a JSON object"}])
    return body


def _record_id(resource, text):
    if resource.id_kind == "integer":
        return int(text) if text.isascii() and text.isdigit() else None
    return text


def present(resource, record):
    """A stored record as the API shows it, with "_actions" once actions were performed."""
    item = resource.model.from_dict(record).to_dict()
    actions = STORE.actions(resource.table, record["id"])
    if actions:
        item["_actions"] = actions
    return item


def insert_record(resource, data, check_unique=True):
    """Validates data (ValidationError), stores it with a new id and timestamps (Conflict)."""
    values = resource.model.validate(data)
    record = dict(values)
    record["id"] = STORE.new_id(resource.table, resource.id_kind)
    moment = now()
    for name in resource.stamps:
        record[name] = moment
    return STORE.insert(resource.table, record, resource.unique if check_unique else ())


def _load(resource, item_id, scope):
    key = _record_id(resource, item_id)
    record = None if key is None else STORE.get(resource.table, key)
    if record is None:
        raise _not_found(resource)
    for name, text in (scope or {}).items():
        try:
            value = path_value(resource.by_name[name], text)
        except ValueError:
            raise _not_found(resource) from None
        if record.get(name) != value:
            raise _not_found(resource)
    return record


def list_records(resource, scope=None):
    filters = {}
    for name, text in (scope or {}).items():
        try:
            filters[name] = path_value(resource.by_name[name], text)
        except ValueError:
            return 200, {"items": [], "count": 0}
    items = [present(resource, record) for record in STORE.find(resource.table, filters)]
    return 200, {"items": items, "count": len(items)}


def create_record(resource, body, scope=None):
    data = dict(_body_object(body))
    for name, text in (scope or {}).items():
        try:
            data[name] = path_value(resource.by_name[name], text)
        except ValueError as error:
            raise _invalid([{"field": name, "message": str(error)}]) from None
    try:
        record = insert_record(resource, data)
    except ValidationError as error:
        raise _invalid(error.problems) from None
    except Conflict as error:
        raise _conflict(error) from None
    return 201, present(resource, record)


def get_record(resource, item_id, scope=None):
    return 200, present(resource, _load(resource, item_id, scope))


def update_record(resource, item_id, body, scope=None, partial=True, action=None):
    """PATCH (partial), PUT (partial=False: every writable field is replaced) and actions."""
    data = _body_object(body)
    current = _load(resource, item_id, scope)
    try:
        changes = resource.model.validate(data, partial=partial)
    except ValidationError as error:
        raise _invalid(error.problems) from None

    def change(stored):
        merged = dict(stored)
        merged.update(changes)
        resource.model.from_dict(merged)  # the record as a whole must stay valid
        if "updated_at" in resource.stamps:
            merged["updated_at"] = now()
        return merged

    try:
        record = STORE.update(resource.table, current["id"], change, resource.unique, action)
    except ValidationError as error:
        raise _invalid(error.problems) from None
    except Conflict as error:
        raise _conflict(error) from None
    except KeyError:
        raise _not_found(resource) from None
    return 200, present(resource, record)


def delete_record(resource, item_id, scope=None):
    record = _load(resource, item_id, scope)
    if not STORE.delete(resource.table, record["id"]):
        raise _not_found(resource)
    return 204, None


def perform_action(resource, item_id, action, body, scope=None):
    """An action route (POST /time-entries/{id}/stop): a partial update that records the action."""
    return update_record(resource, item_id, body, scope, partial=True, action=action)
'''


def _top_level_names(source: str) -> set[str]:
    """The names a module binds at its top level (what a same-named submodule would clobber)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


# Entity module names must not shadow what the package __init__ files define (importing
# app.models.<name> sets the attribute <name> on app.models), nor the server's test module.
_RESERVED_MODULES = frozenset(_top_level_names(_MODELS_INIT) | _top_level_names(_ROUTES_INIT) | {"server"})
# Attribute names the generated dataclasses cannot give a field.
_RESERVED_ATTRS = frozenset(keyword.kwlist) | {"self", "cls", "to_dict", "from_dict", "validate"}
# Names the model module binds besides the class: the class takes "<Name>Record" instead.
_RESERVED_CLASSES = (frozenset(keyword.kwlist) | frozenset(dir(builtins))
                     | {"FieldSpec", "validate_payload", "dataclass", "annotations",
                        "NAME", "DESCRIPTION", "ID_KIND", "FIELDS"})
_PATHABLE = frozenset({"string", "text", "integer", "decimal", "boolean", "date", "datetime",
                       "uuid", "email", "url", "enum"})
_WRONG_TYPE_VALUE = {"string": 12345, "text": 12345, "email": 12345, "url": 12345, "uuid": 12345,
                     "date": 12345, "datetime": 12345, "enum": 12345, "integer": "not a number",
                     "decimal": "not a number", "boolean": "not a boolean"}


# --- naming ---------------------------------------------------------------------------------------

def _snake(name: str) -> str:
    """TimeEntry -> time_entry, HTTPServer -> http_server (entity names are [A-Za-z0-9])."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _plural(word: str) -> str:
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _singular(segment: str) -> str:
    word = re.sub(r"[^a-z0-9]+", "_", segment.lower()).strip("_")
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _param_snake(param: str) -> str:
    """projectId -> project_id, project-id -> project_id."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", param)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def _clean(text: str, limit: int | None = None) -> str:
    """One printable line: control, separator and unpaired surrogate characters become spaces."""
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if limit is not None and len(line) > limit:
        line = line[:limit - 1].rstrip() + "…"
    return line


# --- the design: what the plan and every task derive from the documents --------------------------

@dataclass(frozen=True)
class _Field:
    name: str  # the JSON name, as in DATA.md
    attr: str  # the dataclass attribute
    type: str
    required: bool
    unique: bool
    values: tuple[str, ...]
    description: str
    read_only: bool  # set by the service: id, created_at and updated_at (datetime)
    declared: bool  # in DATA.md (an undeclared id is added)


@dataclass
class _Route:
    route: ApiRoute
    kind: str  # list | create | get | update | replace | delete | action
    shape: tuple[str | None, ...]  # literal segments, None for parameters
    scope: tuple[tuple[str, str], ...]  # (path parameter, field it sets/filters)
    own: str | None = None  # the item id parameter
    action: str | None = None
    handler: str = ""

    @property
    def label(self) -> str:
        return f"{self.route.method} {self.route.path}"


@dataclass
class _EntityPlan:
    entity: Entity
    snake: str
    slug: str
    class_name: str
    fields: list[_Field]
    id_kind: str
    collection: str | None = None
    routes: list[_Route] = field(default_factory=list)
    task_id: str = ""

    @property
    def name(self) -> str:
        return self.entity.name

    @property
    def paths(self) -> list[str]:
        return [f"app/models/{self.snake}.py", f"app/routes/{self.snake}.py", f"tests/test_{self.snake}.py"]

    @property
    def writable(self) -> list[_Field]:
        return [f for f in self.fields if not f.read_only]


@dataclass
class _Design:
    title: str
    overview: str
    entities: list[_EntityPlan]
    skipped: list[tuple[ApiRoute, str]]

    @property
    def routes(self) -> list[tuple[_EntityPlan, _Route]]:
        return [(plan, route) for plan in self.entities for route in plan.routes]


_SCAFFOLD_PATHS = ["README.md", "app/__init__.py", "app/store.py", "app/http.py", "app/models/__init__.py",
                   "app/routes/__init__.py", "tests/__init__.py"]
_SERVER_PATHS = ["app/server.py", "tests/test_server.py"]


def _design(documents: dict[str, str]) -> _Design:
    if not isinstance(documents, dict):
        raise ValueError("the documents must map names to text")
    data, routes_text = documents.get("DATA.md"), documents.get("ROUTES.md")
    if not isinstance(data, str):
        raise ValueError("DATA.md is missing")
    if not isinstance(routes_text, str):
        raise ValueError("ROUTES.md is missing")
    entities = parse_data_model(data)
    if len(entities) > MAX_TASKS - 2:
        raise ValueError(f"at most {MAX_TASKS - 2} entities can be built, DATA.md has {len(entities)}")
    routes = parse_routes(routes_text, [entity.name for entity in entities])

    plans: dict[str, _EntityPlan] = {}
    modules: set[str] = set()
    slugs: set[str] = set()
    for number, entity in enumerate(entities, start=2):
        plan_ = _entity_plan(entity, modules, slugs)
        plan_.task_id = f"task-{number:03d}"
        plans[entity.name] = plan_

    by_entity: dict[str, list[ApiRoute]] = {}
    for route in routes:
        if route.entity is not None:
            by_entity.setdefault(route.entity, []).append(route)
    for name, plan_ in plans.items():
        plan_.collection = _collection(plan_, by_entity.get(name, []))

    skipped: list[tuple[ApiRoute, str]] = []
    shapes: dict[tuple, str] = {}
    for route in routes:
        if route.entity is None:
            skipped.append((route, "no entity"))
            continue
        plan_ = plans.get(route.entity)
        if plan_ is None:
            skipped.append((route, f"entity {route.entity} is not in DATA.md"))
            continue
        result = _classify(route, plan_)
        if isinstance(result, str):
            skipped.append((route, result))
            continue
        key = (route.method, result.shape)
        if key in shapes:
            skipped.append((route, f"same method and path shape as {shapes[key]}"))
            continue
        shapes[key] = result.label
        plan_.routes.append(result)
    for plan_ in plans.values():
        _name_handlers(plan_)

    title, overview = _title_and_overview(documents)
    return _Design(title, overview, list(plans.values()), skipped)


def _title_and_overview(documents: dict[str, str]) -> tuple[str, str]:
    title, overview = "", ""
    spec = documents.get("SPEC.md")
    if isinstance(spec, str):
        lines = spec.splitlines()
        title = next((line[2:] for line in lines if line.startswith("# ")), "")
        if "## Overview" in lines:
            paragraph: list[str] = []
            for line in lines[lines.index("## Overview") + 1:]:
                if line.startswith("#") or (not line.strip() and paragraph):
                    break
                if line.strip():
                    paragraph.append(line)
            overview = " ".join(paragraph)
    if not title:
        for name, prefix in (("ROUTES.md", "# HTTP routes: "), ("DATA.md", "# Data model: ")):
            text = documents.get(name)
            first = text.splitlines()[0] if isinstance(text, str) and text.strip() else ""
            if first.startswith(prefix):
                title = first[len(prefix):]
                break
    return _clean(title, 200) or "Generated service", _clean(overview, 1_500)


def _entity_plan(entity: Entity, modules: set[str], slugs: set[str]) -> _EntityPlan:
    base = _snake(entity.name)
    if keyword.iskeyword(base):
        base += "_"
    snake, number = base, 2
    while snake in modules or snake in _RESERVED_MODULES:
        snake, number = f"{base}_{number}", number + 1
    modules.add(snake)

    kebab = _snake(entity.name).replace("_", "-")[:53].strip("-")
    slug, number = f"entity-{kebab}", 2
    while slug in slugs:
        suffix = f"-{number}"
        slug, number = f"entity-{kebab[:53 - len(suffix)].rstrip('-')}{suffix}", number + 1
    slugs.add(slug)

    class_name = entity.name if entity.name not in _RESERVED_CLASSES else entity.name + "Record"

    declared = list(entity.fields)
    specs: list[tuple[str, str, bool, bool, tuple[str, ...], str, bool, bool]] = []
    if not any(f.name == "id" for f in declared):
        specs.append(("id", "uuid", True, True, (), "Identifier assigned by the service", True, False))
    for f in declared:
        read_only = f.name == "id" or (f.name in ("created_at", "updated_at") and f.type == "datetime")
        specs.append((f.name, f.type, f.required, f.unique, tuple(f.values or ()), f.description, read_only, True))
    # Names Python accepts keep their name; the others take "_" suffixes, never an existing name.
    taken = {spec[0] for spec in specs if spec[0] not in _RESERVED_ATTRS}
    fields = []
    for name, type_, required, unique, values, description, read_only, is_declared in specs:
        attr = name
        if name in _RESERVED_ATTRS:
            attr = name + "_"
            while attr in taken:
                attr += "_"
            taken.add(attr)
        fields.append(_Field(name, attr, type_, required, unique, values, description, read_only, is_declared))
    id_field = next(f for f in fields if f.name == "id")
    id_kind = "integer" if id_field.type == "integer" else "uuid"
    return _EntityPlan(entity, snake, slug, class_name, fields, id_kind)


def _segments(path: str) -> list[tuple[bool, str]] | str:
    """(is_parameter, name or text) per path segment, or why the path cannot be routed."""
    parts = path.split("/")[1:]
    if not parts or any(part == "" for part in parts):
        return "the path has an empty segment"
    segments = []
    for part in parts:
        if "{" in part or "}" in part:
            match = re.fullmatch(r"\{([A-Za-z0-9_.\-]+)\}", part)
            if match is None:
                return f"the path segment {part!r} mixes text and a parameter"
            segments.append((True, match.group(1)))
        else:
            segments.append((False, part))
    names = [text for is_param, text in segments if is_param]
    if len(set(names)) != len(names):
        return "a path parameter is repeated"
    return segments


def _collection(plan_: _EntityPlan, routes: list[ApiRoute]) -> str | None:
    """The path segment naming the entity's records: its plural if the routes use it, else the
    segment most often followed by an item id, else None (no route of the entity is built)."""
    snake = _snake(plan_.name)
    guesses = list(dict.fromkeys([
        _plural(snake).replace("_", "-"), _plural(snake), _plural(snake.replace("_", "")),
        snake.replace("_", "-"), snake, snake.replace("_", "")]))
    parsed = [segments for segments in (_segments(route.path) for route in routes) if not isinstance(segments, str)]
    literals = {text for segments in parsed for is_param, text in segments if not is_param}
    for guess in guesses:
        if guess in literals:
            return guess
    before_id: Counter[str] = Counter()
    first: dict[str, int] = {}
    for index, segments in enumerate(parsed):
        if len(segments) >= 2 and segments[-1][0] and not segments[-2][0]:
            before_id[segments[-2][1]] += 1
            first.setdefault(segments[-2][1], index)
    if not before_id:
        return None
    return max(before_id, key=lambda text: (before_id[text], -first[text]))


def _param_field(param: str, before: str, plan_: _EntityPlan) -> str | None:
    """The field a leading path parameter stands for: {projectId} -> project_id."""
    usable = {f.name for f in plan_.writable if f.type in _PATHABLE}
    snake = _param_snake(param)
    for candidate in (snake, f"{snake}_id", f"{_singular(before)}_id"):
        if candidate in usable:
            return candidate
    return None


_COLLECTION_KINDS = {"GET": "list", "POST": "create"}
_ITEM_KINDS = {"GET": "get", "PATCH": "update", "PUT": "replace", "DELETE": "delete"}
_ACTION_METHODS = ("POST", "PATCH", "PUT")


def _classify(route: ApiRoute, plan_: _EntityPlan) -> _Route | str:
    """How the route is built, or why it is not."""
    segments = _segments(route.path)
    if isinstance(segments, str):
        return segments
    if any(not is_param and text == "me" for is_param, text in segments):
        return "it refers to the signed-in user ('me') and the service has no sign-in"
    collection = plan_.collection
    positions = [i for i, (is_param, text) in enumerate(segments) if not is_param and text == collection]
    if collection is None or not positions:
        return f"the path has no '{collection or _plural(_snake(plan_.name))}' segment naming {plan_.name} records"
    at = positions[-1]
    prefix, tail = segments[:at], segments[at + 1:]
    if len(prefix) % 2 or any(is_param == (i % 2 == 0) for i, (is_param, _) in enumerate(prefix)):
        return f"the segments before '{collection}' are not pairs of a name and a parameter"
    scope: list[tuple[str, str]] = []
    for i in range(1, len(prefix), 2):
        param, before = prefix[i][1], prefix[i - 1][1]
        name = _param_field(param, before, plan_)
        if name is None:
            return f"the parameter {{{param}}} matches no field of {plan_.name}"
        if name in {field_name for _, field_name in scope}:
            return f"two parameters stand for the field {name}"
        scope.append((param, name))
    shape = tuple(None if is_param else text for is_param, text in segments)
    method = route.method
    if not tail:
        kind = _COLLECTION_KINDS.get(method)
        if kind is None:
            return f"{method} on the {collection} collection (only GET lists and POST creates)"
        return _Route(route, kind, shape, tuple(scope))
    if not tail[0][0]:
        return f"'{tail[0][1]}' under the {collection} collection is neither an item id nor an item action"
    own = tail[0][1]
    if len(tail) == 1:
        kind = _ITEM_KINDS.get(method)
        if kind is None:
            return f"{method} on a single {plan_.name} (GET, PATCH, PUT and DELETE are built)"
        return _Route(route, kind, shape, tuple(scope), own=own)
    if len(tail) == 2 and not tail[1][0]:
        if method not in _ACTION_METHODS:
            return (f"{method} '{tail[1][1]}' on a single {plan_.name} is a view, not an action "
                    "(only POST, PATCH and PUT run actions)")
        return _Route(route, "action", shape, tuple(scope), own=own, action=tail[1][1])
    return f"the path goes on after the {plan_.name} id"


def _name_handlers(plan_: _EntityPlan) -> None:
    used: set[str] = set()
    for route in plan_.routes:
        fields = "_and_".join(name for _, name in route.scope)
        if route.kind == "action":
            base = "handle_action_" + re.sub(r"[^A-Za-z0-9_]", "_", route.action or "")
        else:
            base = f"handle_{route.kind}"
        if fields:
            base += ("_by_" if route.kind == "list" else "_in_") + fields
        name, number = base, 2
        while name in used:
            name, number = f"{base}_{number}", number + 1
        used.add(name)
        route.handler = name


# --- plan and implement ----------------------------------------------------------------------------

def plan(documents: dict[str, str]) -> TaskPlan:
    """The build of a standard-library Python service for the spec: scaffold, one task per
    entity, then the server. ValueError when DATA.md or ROUTES.md cannot be read."""
    design = _design(documents)
    scaffold = TaskDefinition(
        id="task-001", slug="scaffold",
        description="Scaffold: README, thread-safe in-memory store, JSON HTTP router and the package layout.",
        instructions=_clip_instructions(_scaffold_instructions(design)),
        dependencies=[], pathScope=list(_SCAFFOLD_PATHS), expectedOutputs=list(_SCAFFOLD_PATHS))
    tasks = [scaffold]
    for entity in design.entities:
        count = len(entity.routes)
        tasks.append(TaskDefinition(
            id=entity.task_id, slug=entity.slug,
            description=_clip(f"Entity {entity.name}: dataclass model with validation, handlers for its "
                              f"{count} route{'' if count == 1 else 's'} and their unittest cases.", 500),
            instructions=_clip_instructions(_entity_instructions(design, entity)),
            dependencies=["task-001"], pathScope=entity.paths, expectedOutputs=entity.paths))
    server_id = f"task-{len(tasks) + 1:03d}"
    tasks.append(TaskDefinition(
        id=server_id, slug="server",
        description="Server: register every entity's routes on the router, serve them over HTTP, test the wiring.",
        instructions=_clip_instructions(_server_instructions(design)),
        dependencies=[entity.task_id for entity in design.entities],
        pathScope=list(_SERVER_PATHS), expectedOutputs=list(_SERVER_PATHS)))
    return TaskPlan(tasks=tasks, mergeOrder=[task.id for task in tasks])


def implement(request: ImplementRequest) -> Implementation:
    """The files of one task of `plan(request.documents)`, all inside the task's pathScope."""
    design = _design(request.documents)
    task = request.task
    if task.id == "task-001" and task.slug == "scaffold":
        files = _scaffold_files(design)
    elif task.slug == "server" and task.id == f"task-{len(design.entities) + 2:03d}":
        files = {"app/server.py": _server_module(design), "tests/test_server.py": _server_tests(design)}
    else:
        entity = next((e for e in design.entities if e.task_id == task.id and e.slug == task.slug), None)
        if entity is None:
            raise ValueError(f"{task.id} ({task.slug}) is not a task of this specification's plan")
        files = dict(zip(entity.paths, (_model_module(entity), _routes_module(entity), _entity_tests(entity))))
    outside = sorted(path for path in files if not task.in_scope(path))
    if outside:
        raise ValueError(f"{task.id} would write outside its pathScope: {', '.join(outside)}")
    summary = f"{task.id} ({task.slug}): wrote {', '.join(files)}."
    return Implementation(files=files, summary=_clip(summary, 2_000))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _clip_instructions(text: str) -> str:
    if len(text) <= INSTRUCTIONS_MAX:
        return text
    note = "\n[... the rest is left out; DATA.md and ROUTES.md hold the full lists.]"
    return text[:INSTRUCTIONS_MAX - len(note)] + note


# --- generated files: scaffold -------------------------------------------------------------------

def _scaffold_files(design: _Design) -> dict[str, str]:
    return {
        "README.md": _readme(design),
        "app/__init__.py": _APP_INIT,
        "app/store.py": _STORE,
        "app/http.py": _HTTP,
        "app/models/__init__.py": _MODELS_INIT,
        "app/routes/__init__.py": _ROUTES_INIT,
        "tests/__init__.py": _PACKAGE_INIT,
    }


_KIND_TEXT = {
    "list": "list", "create": "create", "get": "get one", "update": "partial update",
    "replace": "replace", "delete": "delete", "action": "action",
}


def _route_text(route: _Route) -> str:
    text = _KIND_TEXT[route.kind]
    if route.kind == "action":
        text += f" '{route.action}'"
    if route.scope:
        text += " (" + ", ".join(f"{{{param}}} is {name}" for param, name in route.scope) + ")"
    return text


def _md_cell(text: str) -> str:
    return _clean(text).replace("|", "\\|")


def _readme(design: _Design) -> str:
    out = [f"# {design.title}", ""]
    if design.overview:
        out += [design.overview, ""]
    out += [
        "A runnable HTTP service built from the approved specification (SPEC.md, ACCEPTANCE.md, ROUTES.md "
        "and DATA.md). It uses the Python standard library only (Python 3.11 or later) and keeps its "
        "records in memory, so they last as long as the process.",
        "",
        "## Run",
        "",
        "    python -m app.server",
        "",
        "The service listens on http://127.0.0.1:8000; set `PORT` and `HOST` to change that.",
        "",
        "## Test",
        "",
        "    python -m unittest discover -s tests -t .",
        "",
        "## Layout",
        "",
        "- `app/http.py`: the router (method and path template), JSON bodies, errors as JSON, "
        "`handle(method, path, body_bytes)` for tests and `serve(port)` for HTTP.",
        "- `app/store.py`: thread-safe in-memory tables with id generation and unique checks.",
        "- `app/models/`: one dataclass per entity, with validation, `from_dict` and `to_dict`.",
        "- `app/routes/`: one module of handlers per entity; `app/server.py` registers them all.",
        "- `tests/`: unittest cases for every route, run without sockets through `app.http.handle`.",
        "",
        "## Conventions",
        "",
        "- Request and response bodies are JSON objects. Errors read "
        "`{\"error\": {\"code\": ..., \"message\": ..., \"details\": [...]}}` with status 400 "
        "(`invalid_json`, `validation_failed`), 404 (`not_found`), 405 (`method_not_allowed`), "
        "409 (`conflict`: a unique field's value is taken) or 413 (`body_too_large`).",
        "- The service assigns `id` and sets `created_at` and `updated_at` where the data model has them; "
        "values sent for them are ignored. Fields that are not in the data model are rejected.",
        "- Lists answer `{\"items\": [...], \"count\": n}`; DELETE answers 204 with no body.",
        "- Decimal values are accepted as JSON numbers or strings and returned as strings, so no precision is lost.",
        "- Nested routes such as `/projects/{projectId}/tasks` filter lists by the foreign key and set it on "
        "creation. Foreign keys are not checked against the other entities' records.",
        "- Action routes such as `POST /time-entries/{timeEntryId}/stop` apply the body as a partial update "
        "(it may be empty) and append the action's name to the item's `_actions` list.",
        "",
        "## Routes",
        "",
        "| method | path | entity | handled as | summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entity, route in design.routes:
        out.append(f"| {route.route.method} | `{route.route.path}` | {entity.name} | {_md_cell(_route_text(route))} "
                   f"| {_md_cell(route.route.summary)} |")
    if not design.routes:
        out.append("| | | | | No route could be generated. |")
    out.append("")
    if design.skipped:
        out += ["## Not generated", "",
                "These routes of ROUTES.md have no handler in this service:", ""]
        out += [f"- not generated: {route.method} `{route.path}` ({_clean(reason)})" for route, reason in design.skipped]
        out.append("")
    return "\n".join(out)


# --- generated files: one entity -----------------------------------------------------------------

_ANNOTATIONS = {"integer": "int | None", "boolean": "bool | None", "json": "object | None"}


def _model_module(entity: _EntityPlan) -> str:
    out = [
        f'"""The {entity.name} model: its fields, their validation and its JSON form."""',
        "",
        "from __future__ import annotations",
        "",
        "from dataclasses import dataclass",
        "",
        "from app.models import FieldSpec, validate_payload",
        "",
        f"NAME = {entity.name!r}",
        f"DESCRIPTION = {entity.entity.description!r}",
        f"ID_KIND = {entity.id_kind!r}",
        "FIELDS = (",
    ]
    for f in entity.fields:
        options = []
        if f.required:
            options.append("required=True")
        if f.unique:
            options.append("unique=True")
        if f.values:
            options.append(f"values={f.values!r}")
        if f.read_only:
            options.append("read_only=True")
        out.append(f"    FieldSpec({', '.join([repr(f.name), repr(f.attr), repr(f.type)] + options)}),")
    out += [
        ")",
        "",
        "",
        "@dataclass",
        f"class {entity.class_name}:",
        f'    """A {entity.name} record. Attributes carry the JSON names, with "_" appended where Python '
        'reserves the name."""',
        "",
    ]
    for f in entity.fields:
        annotation = "int | None" if f.name == "id" and entity.id_kind == "integer" else (
            "str | None" if f.name == "id" else _ANNOTATIONS.get(f.type, "str | None"))
        out.append(f"    {f.attr}: {annotation} = None")
    out += [
        "",
        "    @classmethod",
        "    def validate(cls, data, *, partial=False):",
        '        """The checked writable fields of a request body; raises ValidationError."""',
        "        return validate_payload(FIELDS, data, partial=partial)",
        "",
        "    @classmethod",
        "    def from_dict(cls, data):",
        '        """A record from its JSON form (read-only fields kept as given); raises ValidationError."""',
        "        values = validate_payload(FIELDS, data, trusted=True)",
        "        return cls(",
    ]
    out += [f"            {f.attr}=values.get({f.name!r})," for f in entity.fields]
    out += [
        "        )",
        "",
        "    def to_dict(self):",
        "        return {",
    ]
    out += [f"            {f.name!r}: self.{f.attr}," for f in entity.fields]
    out += ["        }", ""]
    return "\n".join(out)


_HELPERS = {
    "list": "list_records", "create": "create_record", "get": "get_record", "update": "update_record",
    "replace": "update_record", "delete": "delete_record", "action": "perform_action",
}


def _routes_module(entity: _EntityPlan) -> str:
    helpers = sorted({_HELPERS[route.kind] for route in entity.routes})
    out = [
        f'"""HTTP handlers for {entity.name} records: the {entity.name} routes of ROUTES.md."""',
        "",
        f"import app.models.{entity.snake} as model",
    ]
    out += ["from app.routes import ("] + [f"    {name}," for name in ["Resource"] + helpers] + [")"]
    out += [
        "",
        f"RESOURCE = Resource({entity.name!r}, model.{entity.class_name}, model.FIELDS, model.ID_KIND)",
        "",
    ]
    for route in entity.routes:
        scope = "{" + ", ".join(f"{name!r}: params[{param!r}]" for param, name in route.scope) + "}"
        own = f"params[{route.own!r}]" if route.own else ""
        call = {
            "list": f"list_records(RESOURCE, {scope})",
            "create": f"create_record(RESOURCE, body, {scope})",
            "get": f"get_record(RESOURCE, {own}, {scope})",
            "update": f"update_record(RESOURCE, {own}, body, {scope})",
            "replace": f"update_record(RESOURCE, {own}, body, {scope}, partial=False)",
            "delete": f"delete_record(RESOURCE, {own}, {scope})",
            "action": f"perform_action(RESOURCE, {own}, {route.action!r}, body, {scope})",
        }[route.kind]
        out += [
            "",
            f"def {route.handler}(params, body):",
            f"    # {route.label}: {_clean(route.route.summary, 200)}",
            f"    return {call}",
            "",
        ]
    out += ["", "ROUTES = ("]
    out += [f"    ({route.route.method!r}, {route.route.path!r}, {route.handler})," for route in entity.routes]
    out += [
        ")",
        "",
        "",
        "def register(router):",
        '    """Adds every route of this module to the router (again: replaces them)."""',
        "    for method, template, handler in ROUTES:",
        "        router.add(method, template, handler)",
        "    return router",
        "",
    ]
    return "\n".join(out)


def _sample(f: _Field, n: int) -> object:
    """A valid value of the field, different for n = 1 and n = 2 where the type allows."""
    kind = f.type
    if kind == "string":
        return f"{f.name} {n}"
    if kind == "text":
        return f"Some {f.name} text, number {n}."
    if kind == "integer":
        return n
    if kind == "decimal":
        return f"{n}.50"
    if kind == "boolean":
        return n % 2 == 1
    if kind == "date":
        return f"2024-01-{n:02d}"
    if kind == "datetime":
        return f"2024-01-{n:02d}T09:30:00Z"
    if kind == "uuid":
        return f"00000000-0000-4000-8000-{n:012d}"
    if kind == "email":
        return f"{f.name}{n}@example.com"
    if kind == "url":
        return f"https://example.com/{f.name}/{n}"
    if kind == "enum":
        return f.values[(n - 1) % len(f.values)]
    return {"n": n, "field": f.name}


def _literal(value: object, indent: int = 0) -> str:
    """A Python literal of JSON-like data: long dicts get one entry per line."""
    if isinstance(value, dict) and value and indent + len(repr(value)) > 100:
        pad = " " * (indent + 4)
        entries = [f"{pad}{key!r}: {_literal(item, indent + 4)}," for key, item in value.items()]
        return "{\n" + "\n".join(entries) + "\n" + " " * indent + "}"
    return repr(value)


def _path_expression(route: _Route, record: str, own: str) -> str:
    values = [f"{param!r}: {record}[{name!r}]" for param, name in route.scope]
    if route.own:
        values.append(f"{route.own!r}: {own}")
    if not values:
        return repr(route.route.path)
    return f"fill({route.route.path!r}, {{{', '.join(values)}}})"


def _entity_tests(entity: _EntityPlan) -> str:
    writable = entity.writable
    payloads = {n: {f.name: _sample(f, n) for f in writable} for n in (1, 2)}
    scoped = {name for route in entity.routes for _, name in route.scope}
    target = next((f for f in writable if f.type in _WRONG_TYPE_VALUE and f.name not in scoped), None)
    changed = next((f for f in writable if f.name not in scoped), None)
    if target is not None:
        invalid = dict(payloads[1], **{target.name: _WRONG_TYPE_VALUE[target.type]})
        invalid_change: dict[str, object] = {target.name: _WRONG_TYPE_VALUE[target.type]}
    else:
        invalid = dict(payloads[1], _unknown=True)
        invalid_change = {"_unknown": True}
    change = {changed.name: payloads[2][changed.name]} if changed is not None else {}
    required = [f.name for f in writable if f.required]
    test_class = f"{entity.class_name}RoutesTest"
    max_segments = max([len(route.shape) for route in entity.routes] + [1])
    out = [
        f'"""Tests of the {entity.name} model and routes, through app.http.handle (no sockets)."""',
        "",
        "import json",
        "import unittest",
        "import urllib.parse",
        "",
        f"import app.routes.{entity.snake} as routes",
        "from app.http import Router, handle",
        "from app.models import ValidationError, path_text",
        "from app.routes import insert_record",
        "from app.store import STORE",
        "",
        f"MODEL = routes.model.{entity.class_name}",
        "# Valid request bodies: every writable field, with values that differ between 1 and 2.",
        f"PAYLOADS = {_literal(payloads)}",
        f"INVALID = {_literal(invalid)}",
        f"CHANGE = {change!r}",
        f"INVALID_CHANGE = {invalid_change!r}",
        "UNKNOWN_ID = 'does-not-exist'",
        f"UNKNOWN_PATH = {'/' + '/'.join(['no-such-route'] * (max_segments + 1))!r}",
        "",
        "",
        "def fill(template, values):",
        "    path = template",
        "    for name, value in values.items():",
        "        path = path.replace('{' + name + '}', urllib.parse.quote(path_text(value), safe=''))",
        "    return path",
        "",
        "",
        f"class {test_class}(unittest.TestCase):",
        "    def setUp(self):",
        "        STORE.clear()",
        "        self.router = routes.register(Router())",
        "",
        "    def call(self, method, path, body=None, raw=None):",
        "        data = raw if raw is not None else b'' if body is None else json.dumps(body).encode('utf-8')",
        "        return handle(method, path, data, router=self.router)",
        "",
        "    def seed(self, n):",
        "        return insert_record(routes.RESOURCE, PAYLOADS[n], check_unique=False)",
        "",
        "    def assert_fields(self, body, expected):",
        "        for name, value in expected.items():",
        "            self.assertEqual(body[name], value, name)",
        "",
        "    def assert_error(self, response, status, code):",
        "        got, headers, body = response",
        "        self.assertEqual(got, status, body)",
        "        self.assertEqual(body['error']['code'], code, body)",
        "        self.assertTrue(headers['Content-Type'].startswith('application/json'))",
        "",
        "    def test_model_round_trip(self):",
        "        record = self.seed(1)",
        "        self.assertEqual(MODEL.from_dict(record).to_dict(), record)",
        "        self.assert_fields(record, PAYLOADS[1])",
        "",
        "    def test_model_rejects_invalid_values(self):",
        "        with self.assertRaises(ValidationError):",
        "            MODEL.validate(INVALID)",
        "        with self.assertRaises(ValidationError):",
        "            MODEL.validate(INVALID_CHANGE, partial=True)",
    ]
    if required:
        out += [
            "        with self.assertRaises(ValidationError) as caught:",
            "            MODEL.validate({})",
            "        self.assertIn(" + repr(required[0]) + ", [p['field'] for p in caught.exception.problems])",
        ]
    out += [
        "",
        "    def test_unknown_path_is_a_json_404(self):",
        "        self.assert_error(self.call('GET', UNKNOWN_PATH), 404, 'not_found')",
    ]
    for number, route in enumerate(entity.routes, start=1):
        out += ["", f"    def test_{number:02d}_{route.kind}(self):", f'        """{route.label}"""']
        out += [f"        {line}" for line in _route_test_body(entity, route, payloads)]
    out += ["", "", "if __name__ == '__main__':", "    unittest.main()", ""]
    return "\n".join(out)


def _route_test_body(entity: _EntityPlan, route: _Route, payloads: dict[int, dict]) -> list[str]:
    method = repr(route.route.method)
    unique = any(f.unique for f in entity.writable)
    if route.kind == "list":
        if not route.scope:
            return ["record = self.seed(1)",
                    f"status, headers, body = self.call({method}, {_path_expression(route, 'record', '')})",
                    "self.assertEqual(status, 200, body)",
                    "self.assertEqual([item['id'] for item in body['items']], [record['id']])",
                    "self.assertEqual(body['count'], 1)",
                    "self.assert_fields(body['items'][0], PAYLOADS[1])"]
        lines = ["mine = self.seed(1)",
                 "other = self.seed(2)",
                 f"status, headers, body = self.call({method}, {_path_expression(route, 'mine', '')})",
                 "self.assertEqual(status, 200, body)",
                 "ids = [item['id'] for item in body['items']]",
                 "self.assertIn(mine['id'], ids)"]
        if any(payloads[1][name] != payloads[2][name] for _, name in route.scope):
            lines.append("self.assertNotIn(other['id'], ids)")
        return lines
    if route.kind == "create":
        lines = [f"path = {_path_expression(route, 'PAYLOADS[1]', '')}",
                 f"status, headers, body = self.call({method}, path, PAYLOADS[1])",
                 "self.assertEqual(status, 201, body)",
                 "self.assert_fields(body, PAYLOADS[1])",
                 "self.assertEqual(STORE.get(routes.RESOURCE.table, body['id'])['id'], body['id'])",
                 f"self.assert_error(self.call({method}, path, INVALID), 400, 'validation_failed')",
                 f"self.assert_error(self.call({method}, path, raw=b'{{not json'), 400, 'invalid_json')"]
        if unique:
            lines.append(f"self.assert_error(self.call({method}, path, PAYLOADS[1]), 409, 'conflict')")
        return lines
    path = _path_expression(route, "record", "record['id']")
    missing = _path_expression(route, "record", "UNKNOWN_ID")
    lines = ["record = self.seed(1)", f"path = {path}"]
    if route.kind == "get":
        lines += [f"status, headers, body = self.call({method}, path)",
                  "self.assertEqual(status, 200, body)",
                  "self.assertEqual(body, MODEL.from_dict(record).to_dict())",
                  f"self.assert_error(self.call({method}, {missing}), 404, 'not_found')"]
    elif route.kind in ("update", "action"):
        lines += [f"status, headers, body = self.call({method}, path, CHANGE)",
                  "self.assertEqual(status, 200, body)",
                  "self.assert_fields(body, dict(PAYLOADS[1], **CHANGE))"]
        if route.kind == "action":
            lines += [f"self.assertEqual(body['_actions'], [{route.action!r}])",
                      f"self.assertEqual(self.call({method}, path)[2]['_actions'], [{route.action!r}] * 2)"]
        lines += [f"self.assert_error(self.call({method}, path, INVALID_CHANGE), 400, 'validation_failed')",
                  f"self.assert_error(self.call({method}, {missing}, CHANGE), 404, 'not_found')"]
    elif route.kind == "replace":
        lines += [f"status, headers, body = self.call({method}, path, PAYLOADS[2])",
                  "self.assertEqual(status, 200, body)",
                  "self.assert_fields(body, PAYLOADS[2])",
                  "self.assertEqual(body['id'], record['id'])",
                  f"self.assert_error(self.call({method}, path, INVALID), 400, 'validation_failed')",
                  f"self.assert_error(self.call({method}, {missing}, PAYLOADS[2]), 404, 'not_found')"]
    elif route.kind == "delete":
        lines += [f"status, headers, body = self.call({method}, path)",
                  "self.assertEqual(status, 204)",
                  "self.assertIsNone(body)",
                  "self.assertIsNone(STORE.get(routes.RESOURCE.table, record['id']))",
                  f"self.assert_error(self.call({method}, path), 404, 'not_found')"]
    return lines


# --- generated files: the server -----------------------------------------------------------------

def _server_module(design: _Design) -> str:
    out = [
        '"""The service: every entity\'s routes on one router, served by `python -m app.server`."""',
        "",
        "import os",
        "",
    ]
    out += [f"import app.routes.{entity.snake} as routes_{entity.snake}" for entity in design.entities]
    out += [
        "from app.http import ROUTER, serve",
        "",
        "ENTITY_ROUTES = (",
    ]
    out += [f"    routes_{entity.snake}," for entity in design.entities]
    out += [
        ")",
        "",
        "",
        "def register_all(router=ROUTER):",
        '    """Registers every entity\'s routes (again: replaces them) and returns the router."""',
        "    for module in ENTITY_ROUTES:",
        "        module.register(router)",
        "    return router",
        "",
        "",
        "register_all()",
        "",
        "",
        "def main():",
        "    port = int(os.environ.get('PORT', '8000'))",
        "    host = os.environ.get('HOST', '127.0.0.1')",
        "    serve(port, host)",
        "",
        "",
        "if __name__ == '__main__':",
        "    main()",
        "",
    ]
    return "\n".join(out)


def _wrong_method(design: _Design) -> tuple[str, str, list[str]] | None:
    """A concrete path of a generated route and a method no route of that path shape has."""
    shapes: dict[tuple, set[str]] = {}
    for _, route in design.routes:
        shapes.setdefault(route.shape, set()).add(route.route.method)
    for _, route in design.routes:
        methods = shapes[route.shape]
        unused = [method for method in _METHODS if method not in methods]
        if unused:
            path = "/" + "/".join("x" if text is None else text for text in route.shape)
            return unused[0], path, sorted(methods)
    return None


def _server_tests(design: _Design) -> str:
    routes = [(route.route.method, route.route.path) for _, route in design.routes]
    max_segments = max([len(route.shape) for _, route in design.routes] + [1])
    out = [
        '"""The service\'s wiring: every generated route is registered; unknown routes answer JSON 404."""',
        "",
        "import json",
        "import threading",
        "import unittest",
        "import urllib.error",
        "import urllib.request",
        "",
        "import app.server as server",
        "from app.http import ROUTER, handle, make_server",
        "",
        "# Every route of ROUTES.md this service generates (the README lists the others).",
        "ROUTES = (",
    ]
    out += [f"    ({method!r}, {path!r})," for method, path in routes]
    out += [
        ")",
        f"UNKNOWN_PATH = {'/' + '/'.join(['no-such-route'] * (max_segments + 1))!r}",
        "",
        "",
        "class ServerTest(unittest.TestCase):",
        "    def test_every_generated_route_is_registered(self):",
        "        for method, template in ROUTES:",
        "            self.assertTrue(ROUTER.has(method, template), f'{method} {template}')",
        "        self.assertEqual(sorted(ROUTER.routes()), sorted(ROUTES))",
        "",
        "    def test_registering_again_changes_nothing(self):",
        "        before = ROUTER.routes()",
        "        server.register_all()",
        "        self.assertEqual(ROUTER.routes(), before)",
        "",
        "    def test_unknown_route_is_a_json_404(self):",
        "        status, headers, body = handle('GET', UNKNOWN_PATH, b'')",
        "        self.assertEqual(status, 404)",
        "        self.assertEqual(body['error']['code'], 'not_found')",
        "        self.assertTrue(headers['Content-Type'].startswith('application/json'))",
    ]
    wrong = _wrong_method(design)
    if wrong is not None:
        method, path, allowed = wrong
        out += [
            "",
            "    def test_known_path_with_another_method_is_a_json_405(self):",
            f"        status, headers, body = handle({method!r}, {path!r}, b'')",
            "        self.assertEqual(status, 405, body)",
            "        self.assertEqual(body['error']['code'], 'method_not_allowed')",
            f"        self.assertEqual(headers['Allow'], {', '.join(allowed)!r})",
        ]
    listing = next((route for _, route in design.routes if route.kind == "list" and not route.scope), None)
    out += [
        "",
        "    def test_serves_json_over_http(self):",
        "        httpd = make_server(0, '127.0.0.1')",
        "        thread = threading.Thread(target=httpd.serve_forever, daemon=True)",
        "        thread.start()",
        "        base = f'http://127.0.0.1:{httpd.server_address[1]}'",
        "        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))",
        "        try:",
        "            with self.assertRaises(urllib.error.HTTPError) as caught:",
        "                opener.open(base + UNKNOWN_PATH, timeout=10)",
        "            with caught.exception as error:",
        "                self.assertEqual(error.code, 404)",
        "                self.assertEqual(json.loads(error.read())['error']['code'], 'not_found')",
    ]
    if listing is not None:
        out += [
            f"            with opener.open(base + {listing.route.path!r}, timeout=10) as response:",
            "                self.assertEqual(response.status, 200)",
            "                self.assertIn('items', json.loads(response.read()))",
        ]
    out += [
        "        finally:",
        "            httpd.shutdown()",
        "            httpd.server_close()",
        "            thread.join(10)",
        "",
        "",
        "if __name__ == '__main__':",
        "    unittest.main()",
        "",
    ]
    return "\n".join(out)


# --- task instructions ---------------------------------------------------------------------------

def _scaffold_instructions(design: _Design) -> str:
    lines = [
        f"Write the scaffold of a runnable HTTP service for \"{design.title}\" that uses the Python standard "
        "library only (Python 3.11+, no third-party packages). Write exactly these files: "
        + ", ".join(_SCAFFOLD_PATHS) + ". Later tasks build on the interfaces below, so keep the names exact.",
        "",
        "app/__init__.py and tests/__init__.py: package docstrings only. app/models/__init__.py and "
        "app/routes/__init__.py are the shared code of the models and handlers. Bind private names "
        "(leading underscore) for imported modules in these two files: entity modules are named after "
        "entities and must not clobber what the packages define.",
        "",
        "app/store.py: class Conflict(Exception) with .field; class Store guarded by a threading.RLock, "
        "holding one dict of records per table (records are JSON-ready dicts with an \"id\"), handing out "
        "deep copies: new_id(table, kind='uuid') (kind 'integer' counts 1, 2, ... per table, else uuid4 "
        "strings), insert(table, record, unique=()) (Conflict if the id or a unique field's non-null value "
        "is taken), get(table, id), find(table, filters=None) (records whose fields equal every filter, in "
        "insertion order), update(table, id, change, unique=(), action=None) (atomically stores "
        "change(copy); KeyError if absent; appends action to the record's action history), delete(table, "
        "id) -> bool, actions(table, id) -> list of names, clear(); and STORE = Store().",
        "",
        "app/http.py: HttpError(status, code, message, details=None, headers=None) with body() -> "
        "{\"error\": {\"code\", \"message\", \"details\"?}}; class Router with add(method, template, handler) "
        "(replaces an existing method+template), has(method, template), routes() -> list of (method, "
        "template), match(method, path) (URL-decoded segments; a {name} segment matches any segment; the "
        "match with literal segments furthest left wins; 404 not_found when no template matches, 405 "
        "method_not_allowed with an Allow header when only other methods match) and handle(method, path, "
        "body_bytes=b'') -> (status, headers, body). Handlers are called as handler(params, body) with the "
        "path parameters and the parsed JSON body (parsed for POST, PUT and PATCH only; None when empty; "
        "400 invalid_json on bad JSON, NaN or Infinity; 413 body_too_large above 1 MiB) and return (status, "
        "body); body None means no content (no headers), otherwise headers are {'Content-Type': "
        "'application/json; charset=utf-8'}. Unexpected exceptions answer 500 internal_error and are logged. "
        "ROUTER = Router(); handle(method, path, body_bytes=b'', router=None) uses ROUTER by default; "
        "make_server(port=8000, host='127.0.0.1', router=None) returns a http.server.ThreadingHTTPServer "
        "whose request handler reads Content-Length bytes, calls handle and writes the JSON answer; "
        "serve(port=8000, host='127.0.0.1', router=None) serves until interrupted.",
        "",
        "app/models/__init__.py: frozen dataclass FieldSpec(name, attr, type, required=False, unique=False, "
        "values=(), read_only=False); ValidationError(problems) where problems is a list of {\"field\", "
        "\"message\"}; check_value(spec, value) by type: string/text str (required ones not blank), integer "
        "int but not bool, decimal int/float/str parsed by decimal.Decimal, finite, returned as str, boolean "
        "bool, date YYYY-MM-DD and a real date, datetime ISO 8601 with optional seconds, fraction and Z or "
        "offset, uuid parsed and returned canonical, email local@domain.tld, url http(s) with a host, enum "
        "one of values, json anything; path_value(spec, text) reads a value from a URL segment (integers, "
        "true/false, json refused) and path_text(value) writes one; validate_payload(fields, data, "
        "partial=False, trusted=False) -> the checked values of the writable fields: keys that are not "
        "fields are problems; read-only fields are ignored unless trusted; absent fields are required or "
        "None unless partial; null is refused for required fields; every problem is reported at once.",
        "",
        "app/routes/__init__.py: Resource(table, model, fields, id_kind='uuid') with by_name, unique (the "
        "unique writable fields) and stamps (created_at/updated_at when read-only); now() (UTC, ISO 8601, "
        "milliseconds, Z); present(resource, record) (model.from_dict(record).to_dict() plus \"_actions\" "
        "when the record has actions); insert_record(resource, data, check_unique=True) (validate, new id, "
        "timestamps, insert); and the handlers' helpers, all returning (status, body) and raising HttpError "
        "400 validation_failed with the problems as details, 404 not_found or 409 conflict: "
        "list_records(resource, scope=None) -> 200 {\"items\", \"count\"}, create_record(resource, body, "
        "scope=None) -> 201, get_record(resource, item_id, scope=None) -> 200, update_record(resource, "
        "item_id, body, scope=None, partial=True, action=None) -> 200 (partial=False replaces every writable "
        "field; updated_at is refreshed), delete_record(resource, item_id, scope=None) -> 204 None and "
        "perform_action(resource, item_id, action, body, scope=None) (a partial update recording the "
        "action). scope maps field names to raw path segments: lists filter by them, creation sets them, "
        "item routes answer 404 unless the item matches them.",
        "",
        "README.md: what the service is (the title and overview of SPEC.md), how to run it (python -m "
        "app.server; PORT and HOST), how to test it (python -m unittest discover -s tests -t .), the layout, "
        "the conventions (error format, ids and timestamps set by the service, lists, 204 on delete, "
        "decimals as strings, nested routes, actions recorded in _actions, foreign keys unchecked), a table "
        "of the generated routes and one line 'not generated: <METHOD> <path> (<reason>)' per route of "
        "ROUTES.md that has no handler.",
        "",
        "Generated routes:",
    ]
    lines += [f"- {route.label} -> {entity.name}: {_route_text(route)}" for entity, route in design.routes]
    if design.skipped:
        lines += ["", "Not generated:"]
        lines += [f"- {route.method} {route.path} ({_clean(reason)})" for route, reason in design.skipped]
    return "\n".join(lines)


def _entity_instructions(design: _Design, entity: _EntityPlan) -> str:
    lines = [
        f"Write the {entity.name} entity of the service (\"{_clean(entity.entity.description, 300)}\"): exactly "
        + ", ".join(entity.paths) + ". Use the scaffold's app.models, app.routes, app.http and app.store; "
        "standard library only.",
        "",
        f"{entity.paths[0]}: NAME = {entity.name!r}, DESCRIPTION, ID_KIND = {entity.id_kind!r} and FIELDS, one "
        f"FieldSpec per field below in this order; then @dataclass class {entity.class_name} with one attribute "
        "per field (default None, typed), classmethod validate(data, *, partial=False) -> "
        "validate_payload(FIELDS, data, partial=partial), classmethod from_dict(data) (validate_payload with "
        "trusted=True, then the instance) and to_dict() -> {JSON name: value}.",
        "",
        "Fields (JSON name -> attribute, type, flags; read-only fields are set by the service):",
    ]
    for f in entity.fields:
        flags = [flag for flag, on in (("required", f.required), ("unique", f.unique), ("read-only", f.read_only))
                 if on]
        if f.values:
            flags.append("values " + ", ".join(f.values))
        if not f.declared:
            flags.append("not in DATA.md: the record id")
        text = f"- {f.name} -> {f.attr}: {f.type}" + (f" ({'; '.join(flags)})" if flags else "")
        if f.description:
            text += f": {_clean(f.description, 160)}"
        lines.append(text)
    lines += [
        "",
        f"{entity.paths[1]}: import app.models.{entity.snake} as model; RESOURCE = Resource({entity.name!r}, "
        f"model.{entity.class_name}, model.FIELDS, model.ID_KIND); one handler(params, body) per route below, "
        "calling the matching helper of app.routes with the item id parameter and a scope mapping the listed "
        "fields to their path parameters; ROUTES = ((method, template, handler), ...) in this order; "
        "register(router) adds them all and returns the router.",
        "",
        "Routes:",
    ]
    lines += [f"- {route.label} -> {route.handler}: {_route_text(route)}. {_clean(route.route.summary, 200)}"
              for route in entity.routes]
    if not entity.routes:
        lines.append("- none: ROUTES = () (the README lists the entity's routes that are not generated).")
    lines += [
        "",
        f"{entity.paths[2]}: unittest cases that call app.http.handle with a fresh Router on which the module "
        "registered its routes, clearing STORE before each test. Records other than the one under test are "
        "seeded with app.routes.insert_record. Cover the model (from_dict/to_dict round trip, validation "
        "failures, required fields) and every route above: lists return the seeded record (nested lists "
        "leave out other parents' records); create answers 201 with the fields, 400 validation_failed for "
        "a wrong type, 400 invalid_json and 409 conflict for a repeated unique value; get answers the "
        "record and 404 not_found for an unknown id; update and actions apply a change, reject a wrong type "
        "with 400 and an unknown id with 404, actions list their name in _actions; replace answers the new "
        "values; delete answers 204 and then 404.",
    ]
    return "\n".join(lines)


def _server_instructions(design: _Design) -> str:
    lines = [
        "Write app/server.py and tests/test_server.py. app/server.py imports every entity's routes module "
        "(import app.routes.<module> as routes_<module>), lists them in ENTITY_ROUTES, defines "
        "register_all(router=ROUTER) calling each module's register(router), calls register_all() on import, "
        "and main() serving with app.http.serve(int(PORT or 8000), HOST or '127.0.0.1') when run as "
        "`python -m app.server`.",
        "",
        "tests/test_server.py: every generated route below is registered on app.http.ROUTER and nothing "
        "else; registering again changes nothing; an unknown path answers a JSON 404 not_found; a known path "
        "with a method no route has answers 405 with an Allow header; a real ThreadingHTTPServer on port 0 "
        "answers JSON over a socket (proxies disabled).",
        "",
        "Entity modules: " + ", ".join(f"app.routes.{entity.snake} ({entity.name})" for entity in design.entities),
        "",
        "Generated routes:",
    ]
    lines += [f"- {route.label} ({entity.name}: {_route_text(route)})" for entity, route in design.routes]
    return "\n".join(lines)

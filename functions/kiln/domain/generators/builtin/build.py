"""The built-in build: plans and writes a runnable, dependency-free Python service from a spec.

`plan(documents)` reads DATA.md and ROUTES.md (kiln.domain.generators.builtin.design) and
decomposes the build into tasks: a scaffold (README, in-memory store, HTTP router, packages),
one task per entity (model, route handlers, tests) and a last task that registers every
entity's routes and serves them. `implement(request)` writes exactly one task's files
(kiln.domain.generators.builtin.service). Both derive everything from the documents alone, so
the same documents always give the same plan and byte-identical files, whichever task is asked
for first.

The generated service uses the Python standard library only:

    README.md
    app/__init__.py
    app/http.py                  router, JSON bodies, errors as JSON, handle() and serve()
    app/store.py                 thread-safe in-memory tables, id generation, unique checks
    app/models/__init__.py       field declarations (types, bounds) and the validation of JSON values
    app/models/<entity>.py       a dataclass per entity with validate/from_dict/to_dict
    app/routes/__init__.py       list/create/get/update/delete and actions on the store
    app/routes/<entity>.py       the entity's handlers and ROUTES table
    app/server.py                registers every entity's routes; `python -m app.server`
    app/lambda_handler.py        the same router behind a Lambda function URL (deploy previews)
    tests/test_<entity>.py       unittest cases for every generated route of the entity
    tests/test_server.py         every generated route is registered; unknown routes are 404
    tests/test_lambda_handler.py function URL events get the answers HTTP requests get
"""

from __future__ import annotations

from kiln.domain.builds import Implementation, ImplementRequest, TaskDefinition, TaskPlan
from kiln.domain.generators.builtin.design import SCAFFOLD_PATHS, SERVER_PATHS, Design, EntityPlan, clean, design
from kiln.domain.generators.builtin.routes_md import parse_routes
from kiln.domain.generators.builtin.scaffold import SERVER_FILES, read_template
from kiln.domain.generators.builtin.service import (
    entity_tests,
    model_module,
    route_text,
    routes_module,
    scaffold_files,
    server_module,
    server_tests,
)

__all__ = ["implement", "parse_routes", "plan"]

INSTRUCTIONS_MAX = 20_000


def plan(documents: dict[str, str]) -> TaskPlan:
    """The build of a standard-library Python service for the spec: scaffold, one task per
    entity, then the server. ValueError when DATA.md or ROUTES.md cannot be read."""
    layout = design(documents)
    scaffold = TaskDefinition(
        id="task-001",
        slug="scaffold",
        description="Scaffold: README, thread-safe in-memory store, JSON HTTP router and the package layout.",
        instructions=_clip_instructions(_scaffold_instructions(layout)),
        dependencies=[],
        pathScope=list(SCAFFOLD_PATHS),
        expectedOutputs=list(SCAFFOLD_PATHS),
    )
    tasks = [scaffold]
    for entity in layout.entities:
        count = len(entity.routes)
        tasks.append(
            TaskDefinition(
                id=entity.task_id,
                slug=entity.slug,
                description=_clip(
                    f"Entity {entity.name}: dataclass model with validation, handlers for its "
                    f"{count} route{'' if count == 1 else 's'} and their unittest cases.",
                    500,
                ),
                instructions=_clip_instructions(_entity_instructions(layout, entity)),
                dependencies=["task-001"],
                pathScope=entity.paths,
                expectedOutputs=entity.paths,
            )
        )
    server_id = f"task-{len(tasks) + 1:03d}"
    tasks.append(
        TaskDefinition(
            id=server_id,
            slug="server",
            description="Server: register every entity's routes on the router, serve them over HTTP, test the wiring.",
            instructions=_clip_instructions(_server_instructions(layout)),
            dependencies=[entity.task_id for entity in layout.entities],
            pathScope=list(SERVER_PATHS),
            expectedOutputs=list(SERVER_PATHS),
        )
    )
    return TaskPlan(tasks=tasks, mergeOrder=[task.id for task in tasks])


def implement(request: ImplementRequest) -> Implementation:
    """The files of one task of `plan(request.documents)`, all inside the task's pathScope."""
    layout = design(request.documents)
    task = request.task
    if task.id == "task-001" and task.slug == "scaffold":
        files = scaffold_files(layout)
    elif task.slug == "server" and task.id == f"task-{len(layout.entities) + 2:03d}":
        files = {"app/server.py": server_module(layout), "tests/test_server.py": server_tests(layout)}
        files.update({path: read_template(name) for path, name in SERVER_FILES.items()})
    else:
        entity = next((e for e in layout.entities if e.task_id == task.id and e.slug == task.slug), None)
        if entity is None:
            raise ValueError(f"{task.id} ({task.slug}) is not a task of this specification's plan")
        written = (model_module(entity), routes_module(entity), entity_tests(entity))
        files = dict(zip(entity.paths, written, strict=True))
    outside = sorted(path for path in files if not task.in_scope(path))
    if outside:
        raise ValueError(f"{task.id} would write outside its pathScope: {', '.join(outside)}")
    summary = f"{task.id} ({task.slug}): wrote {', '.join(files)}."
    return Implementation(files=files, summary=_clip(summary, 2_000))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_instructions(text: str) -> str:
    if len(text) <= INSTRUCTIONS_MAX:
        return text
    note = "\n[... the rest is left out; DATA.md and ROUTES.md hold the full lists.]"
    return text[: INSTRUCTIONS_MAX - len(note)] + note


# --- task instructions ---------------------------------------------------------------------------


def _scaffold_instructions(layout: Design) -> str:
    lines = [
        f'Write the scaffold of a runnable HTTP service for "{layout.title}" that uses the Python standard '
        "library only (Python 3.11+, no third-party packages). Write exactly these files: "
        + ", ".join(SCAFFOLD_PATHS)
        + ". Later tasks build on the interfaces below, so keep the names exact.",
        "",
        "app/__init__.py and tests/__init__.py: package docstrings only. app/models/__init__.py and "
        "app/routes/__init__.py are the shared code of the models and handlers. Bind private names "
        "(leading underscore) for imported modules in these two files: entity modules are named after "
        "entities and must not clobber what the packages define.",
        "",
        "app/store.py: class Conflict(Exception) with .field; class Store guarded by a threading.RLock, "
        'holding one dict of records per table (records are JSON-ready dicts with an "id"), handing out '
        "deep copies: new_id(table, kind='uuid') (kind 'integer' counts 1, 2, ... per table, else uuid4 "
        "strings), insert(table, record, unique=()) (Conflict if the id or a unique field's non-null value "
        "is taken), get(table, id), find(table, filters=None) (records whose fields equal every filter, in "
        "insertion order), update(table, id, change, unique=()) (atomically stores "
        "change(copy); KeyError if absent), delete(table, "
        "id) -> bool, clear(); and STORE = Store().",
        "",
        "app/http.py: HttpError(status, code, message, details=None, headers=None) with body() -> "
        '{"error": {"code", "message", "details"?}}; class Router with add(method, template, handler) '
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
        "values=(), read_only=False, minimum=None, maximum=None); ValidationError(problems) where problems "
        'is a list of {"field", '
        '"message"}; check_value(spec, value) by type: string/text str (required ones not blank), integer '
        "int but not bool, decimal int/float/str parsed by decimal.Decimal, finite, returned as str (both "
        "within minimum..maximum when the spec has them), boolean "
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
        "milliseconds, Z); class Action(name, stamp=None, stamp_type='datetime', status=None, duration=None) "
        "whose apply(record) sets stamp to now() (or today's date), status (field, value) and duration "
        "(start field, end field, minutes field) to the whole minutes between them when both are set; "
        "present(resource, record) (model.from_dict(record).to_dict()); insert_record(resource, data, "
        "check_unique=True) (validate, new id, "
        "timestamps, insert); and the handlers' helpers, all returning (status, body) and raising HttpError "
        "400 validation_failed with the problems as details, 404 not_found or 409 conflict: "
        'list_records(resource, scope=None) -> 200 {"items", "count"}, create_record(resource, body, '
        "scope=None) -> 201, get_record(resource, item_id, scope=None) -> 200, update_record(resource, "
        "item_id, body, scope=None, partial=True, action=None) -> 200 (partial=False replaces every writable "
        "field; updated_at is refreshed), delete_record(resource, item_id, scope=None) -> 204 None and "
        "perform_action(resource, item_id, action, body, scope=None) (the body as a partial update, then "
        "action.apply, in one store update). scope maps field names to raw path segments: lists filter by "
        "them, creation sets them, "
        "item routes answer 404 unless the item matches them.",
        "",
        "README.md: what the service is (the title and overview of SPEC.md), how to run it (python -m "
        "app.server; PORT and HOST), how to test it (python -m unittest discover -s tests -t .), the layout, "
        "the conventions (error format, ids and timestamps set by the service, lists, 204 on delete, "
        "decimals as strings, nested routes, what each action does, bounds, foreign keys unchecked), a table "
        "of the generated routes and one line 'not generated: <METHOD> <path> (<reason>)' per route of "
        "ROUTES.md that has no handler.",
        "",
        "Generated routes:",
    ]
    lines += [f"- {route.label} -> {entity.name}: {route_text(route)}" for entity, route in layout.routes]
    if layout.skipped:
        lines += ["", "Not generated:"]
        lines += [f"- {route.method} {route.path} ({clean(reason)})" for route, reason in layout.skipped]
    return "\n".join(lines)


def _entity_instructions(layout: Design, entity: EntityPlan) -> str:
    lines = [
        f'Write the {entity.name} entity of the service ("{clean(entity.entity.description, 300)}"): exactly '
        + ", ".join(entity.paths)
        + ". Use the scaffold's app.models, app.routes, app.http and app.store; "
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
        flags = [
            flag for flag, on in (("required", f.required), ("unique", f.unique), ("read-only", f.read_only)) if on
        ]
        if f.values:
            flags.append("values " + ", ".join(f.values))
        if not f.declared:
            flags.append("not in DATA.md: the record id")
        if f.bounds is not None:
            flags.append(f"from {f.bounds[0]} to {f.bounds[1]}")
        text = f"- {f.name} -> {f.attr}: {f.type}" + (f" ({'; '.join(flags)})" if flags else "")
        if f.description:
            text += f": {clean(f.description, 160)}"
        lines.append(text)
    lines += [
        "",
        f"{entity.paths[1]}: import app.models.{entity.snake} as model; RESOURCE = Resource({entity.name!r}, "
        f"model.{entity.class_name}, model.FIELDS, model.ID_KIND); one handler(params, body) per route below, "
        "calling the matching helper of app.routes with the item id parameter and a scope mapping the listed "
        "fields to their path parameters (actions pass an app.routes.Action with the effect listed); "
        "ROUTES = ((method, template, handler), ...) in this order; "
        "register(router) adds them all and returns the router.",
        "",
        "Routes:",
    ]
    lines += [
        f"- {route.label} -> {route.handler}: {route_text(route)}. {clean(route.route.summary, 200)}"
        for route in entity.routes
    ]
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
        "with 400 and an unknown id with 404, and actions show their effect (the stamped time, the status, "
        "the minutes); bounded fields refuse values outside their bounds; replace answers the new values; "
        "delete answers 204 and then 404.",
    ]
    return "\n".join(lines)


def _server_instructions(layout: Design) -> str:
    lines = [
        "Write app/server.py, tests/test_server.py, app/lambda_handler.py and tests/test_lambda_handler.py. "
        "app/server.py imports every entity's routes module "
        "(import app.routes.<module> as routes_<module>), lists them in ENTITY_ROUTES, defines "
        "register_all(router=ROUTER) calling each module's register(router), calls register_all() on import, "
        "and main() serving with app.http.serve(int(PORT or 8000), HOST or '127.0.0.1') when run as "
        "`python -m app.server`.",
        "",
        "app/lambda_handler.py: handler(event, context) answering a Lambda function URL event (payload "
        "format 2.0: requestContext.http.method, rawPath, body, isBase64Encoded; also httpMethod and path) "
        "with app.http.handle after importing app.server, returning {statusCode, headers, body (JSON text, "
        "empty for no content), isBase64Encoded: false}. tests/test_lambda_handler.py: an unknown path "
        "answers the JSON 404, a route answers as handle() does, a base64 body is decoded.",
        "",
        "tests/test_server.py: every generated route below is registered on app.http.ROUTER and nothing "
        "else; registering again changes nothing; an unknown path answers a JSON 404 not_found; a known path "
        "with a method no route has answers 405 with an Allow header; a real ThreadingHTTPServer on port 0 "
        "answers JSON over a socket (proxies disabled).",
        "",
        "Entity modules: " + ", ".join(f"app.routes.{entity.snake} ({entity.name})" for entity in layout.entities),
        "",
        "Generated routes:",
    ]
    lines += [f"- {route.label} ({entity.name}: {route_text(route)})" for entity, route in layout.routes]
    return "\n".join(lines)

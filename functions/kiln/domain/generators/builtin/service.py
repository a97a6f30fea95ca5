"""The files of the generated service, written from its design (kiln.domain.generators.builtin.design).

The shared modules come from `templates/` as they are (kiln.domain.generators.builtin.scaffold);
the per-entity modules (a dataclass model, the route handlers, a unittest module) and the
server are written here from the entity's fields and routes, so the same documents always give
byte-identical files. The service uses the Python standard library only.
"""

from __future__ import annotations

import keyword

from kiln.domain.generators.builtin.behaviour import Effect
from kiln.domain.generators.builtin.design import WRONG_TYPE_VALUE, Design, EntityPlan, Field, RoutePlan, clean
from kiln.domain.generators.builtin.routes_md import METHODS
from kiln.domain.generators.builtin.scaffold import FILES, read_template


def effect_text(effect: Effect) -> str:
    """What an action does, for the README and the instructions: "sets paid_at, status paid"."""
    parts = []
    if effect.stamp:
        parts.append(f"sets {effect.stamp}")
    if effect.status and effect.status_field:
        parts.append(f"{effect.status_field} {effect.status}")
    if effect.duration:
        parts.append(f"{effect.duration[2]} from {effect.duration[0]}")
    return f": {', '.join(parts)}" if parts else ""


def scaffold_files(design: Design) -> dict[str, str]:
    files = {"README.md": _readme(design)}
    files.update({path: read_template(name) for path, name in FILES.items()})
    return files


_KIND_TEXT = {
    "list": "list",
    "create": "create",
    "get": "get one",
    "update": "partial update",
    "replace": "replace",
    "delete": "delete",
    "action": "action",
}


def route_text(route: RoutePlan) -> str:
    text = _KIND_TEXT[route.kind]
    if route.kind == "action":
        text += f" '{route.action}'" + effect_text(route.effect)
    if route.scope:
        text += " (" + ", ".join(f"{{{param}}} is {name}" for param, name in route.scope) + ")"
    return text


def _md_cell(text: str) -> str:
    return clean(text).replace("|", "\\|")


def _readme(design: Design) -> str:
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
        '`{"error": {"code": ..., "message": ..., "details": [...]}}` with status 400 '
        "(`invalid_json`, `validation_failed`), 404 (`not_found`), 405 (`method_not_allowed`), "
        "409 (`conflict`: a unique field's value is taken) or 413 (`body_too_large`).",
        "- The service assigns `id` and sets `created_at` and `updated_at` where the data model has them; "
        "values sent for them are ignored. Fields that are not in the data model are rejected.",
        '- Lists answer `{"items": [...], "count": n}`; DELETE answers 204 with no body.',
        "- Decimal values are accepted as JSON numbers or strings and returned as strings, so no precision is lost.",
        "- Nested routes such as `/projects/{projectId}/tasks` filter lists by the foreign key and set it on "
        "creation. Foreign keys are not checked against the other entities' records.",
        "- Action routes such as `POST /time-entries/{timeEntryId}/stop` apply the body as a partial update "
        "(it may be empty), then do what the action means for the record: set the time it happened "
        "(`stopped_at`, `paid_at`), its status (`cancelled`) and the minutes since it started, as the table "
        "below says for each one.",
        '- Numbers whose description in the data model gives a range ("from 1 to 5") refuse values outside it '
        "with 400 `validation_failed`.",
        "",
        "## Routes",
        "",
        "| method | path | entity | handled as | summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for entity, route in design.routes:
        out.append(
            f"| {route.route.method} | `{route.route.path}` | {entity.name} | {_md_cell(route_text(route))} "
            f"| {_md_cell(route.route.summary)} |"
        )
    if not design.routes:
        out.append("| | | | | No route could be generated. |")
    out.append("")
    if design.skipped:
        out += ["## Not generated", "", "These routes of ROUTES.md have no handler in this service:", ""]
        out += [f"- not generated: {route.method} `{route.path}` ({clean(reason)})" for route, reason in design.skipped]
        out.append("")
    return "\n".join(out)


# --- generated files: one entity -----------------------------------------------------------------

_ANNOTATIONS = {"integer": "int | None", "boolean": "bool | None", "json": "object | None"}


def model_module(entity: EntityPlan) -> str:
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
        if f.bounds is not None:
            options += [f"minimum={f.bounds[0]}", f"maximum={f.bounds[1]}"]
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
        annotation = (
            "int | None"
            if f.name == "id" and entity.id_kind == "integer"
            else ("str | None" if f.name == "id" else _ANNOTATIONS.get(f.type, "str | None"))
        )
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
    "list": "list_records",
    "create": "create_record",
    "get": "get_record",
    "update": "update_record",
    "replace": "update_record",
    "delete": "delete_record",
    "action": "perform_action",
}


def routes_module(entity: EntityPlan) -> str:
    helpers = sorted(
        {_HELPERS[route.kind] for route in entity.routes}
        | ({"Action"} if any(route.kind == "action" for route in entity.routes) else set())
    )
    out = [
        f'"""HTTP handlers for {entity.name} records: the {entity.name} routes of ROUTES.md."""',
        "",
        f"import app.models.{entity.snake} as model",
    ]
    out += ["from app.routes import ("] + [f"    {name}," for name in sorted(["Resource", *helpers])] + [")"]
    out += [
        "",
        f"RESOURCE = Resource({entity.name!r}, model.{entity.class_name}, model.FIELDS, model.ID_KIND)",
    ]
    actions = [route for route in entity.routes if route.kind == "action"]
    if actions:
        out += ["# What each action does besides applying its body (see app.routes.Action)."]
        out += [f"{_action_constant(route)} = {_action_literal(route)}" for route in actions]
    out.append("")
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
            "action": f"perform_action(RESOURCE, {own}, {_action_constant(route)}, body, {scope})",
        }[route.kind]
        out += [
            "",
            f"def {route.handler}(params, body):",
            f"    # {route.label}: {clean(route.route.summary, 200)}",
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


def _action_constant(route: RoutePlan) -> str:
    return route.handler.removeprefix("handle_").upper()


def _action_literal(route: RoutePlan) -> str:
    effect = route.effect
    arguments = [repr(route.action)]
    if effect.stamp:
        arguments.append(f"stamp={effect.stamp!r}")
        if effect.stamp_type != "datetime":
            arguments.append(f"stamp_type={effect.stamp_type!r}")
    if effect.status and effect.status_field:
        arguments.append(f"status=({effect.status_field!r}, {effect.status!r})")
    if effect.duration:
        arguments.append(f"duration={effect.duration!r}")
    return f"Action({', '.join(arguments)})"


def _sample(f: Field, n: int) -> object:
    """A valid value of the field, different for n = 1 and n = 2 where the type allows."""
    kind = f.type
    if kind == "string":
        return f"{f.name} {n}"
    if kind == "text":
        return f"Some {f.name} text, number {n}."
    if kind == "integer":
        return n if f.bounds is None else min(f.bounds[0] + n - 1, f.bounds[1])
    if kind == "decimal":
        return f"{n}.50" if f.bounds is None else str(min(f.bounds[0] + n - 1, f.bounds[1]))
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


def _path_expression(route: RoutePlan, record: str, own: str) -> str:
    values = [f"{param!r}: {record}[{name!r}]" for param, name in route.scope]
    if route.own:
        values.append(f"{route.own!r}: {own}")
    if not values:
        return repr(route.route.path)
    return f"fill({route.route.path!r}, {{{', '.join(values)}}})"


def entity_tests(entity: EntityPlan) -> str:
    writable = entity.writable
    payloads = {n: {f.name: _sample(f, n) for f in writable} for n in (1, 2)}
    scoped = {name for route in entity.routes for _, name in route.scope}
    target = next((f for f in writable if f.type in WRONG_TYPE_VALUE and f.name not in scoped), None)
    changed = next((f for f in writable if f.name not in scoped), None)
    if target is not None:
        invalid = dict(payloads[1], **{target.name: WRONG_TYPE_VALUE[target.type]})
        invalid_change: dict[str, object] = {target.name: WRONG_TYPE_VALUE[target.type]}
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
    bounded = [f for f in writable if f.bounds is not None]
    if bounded:
        out += ["", "    def test_model_refuses_values_out_of_bounds(self):"]
        for f in bounded:
            low, high = f.bounds or (0, 0)
            out += [
                f"        for value in ({low - 1}, {high + 1}):",
                "            with self.assertRaises(ValidationError):",
                f"                MODEL.validate(dict(PAYLOADS[1], {f.name}=value))"
                if f.name.isidentifier() and not keyword.iskeyword(f.name)
                else f"                MODEL.validate(dict(PAYLOADS[1], **{{{f.name!r}: value}}))",
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


def _route_test_body(entity: EntityPlan, route: RoutePlan, payloads: dict[int, dict]) -> list[str]:
    method = repr(route.route.method)
    unique = any(f.unique for f in entity.writable)
    if route.kind == "list":
        if not route.scope:
            return [
                "record = self.seed(1)",
                f"status, headers, body = self.call({method}, {_path_expression(route, 'record', '')})",
                "self.assertEqual(status, 200, body)",
                "self.assertEqual([item['id'] for item in body['items']], [record['id']])",
                "self.assertEqual(body['count'], 1)",
                "self.assert_fields(body['items'][0], PAYLOADS[1])",
            ]
        lines = [
            "mine = self.seed(1)",
            "other = self.seed(2)",
            f"status, headers, body = self.call({method}, {_path_expression(route, 'mine', '')})",
            "self.assertEqual(status, 200, body)",
            "ids = [item['id'] for item in body['items']]",
            "self.assertIn(mine['id'], ids)",
        ]
        if any(payloads[1][name] != payloads[2][name] for _, name in route.scope):
            lines.append("self.assertNotIn(other['id'], ids)")
        return lines
    if route.kind == "create":
        lines = [
            f"path = {_path_expression(route, 'PAYLOADS[1]', '')}",
            f"status, headers, body = self.call({method}, path, PAYLOADS[1])",
            "self.assertEqual(status, 201, body)",
            "self.assert_fields(body, PAYLOADS[1])",
            "self.assertEqual(STORE.get(routes.RESOURCE.table, body['id'])['id'], body['id'])",
            f"self.assert_error(self.call({method}, path, INVALID), 400, 'validation_failed')",
            f"self.assert_error(self.call({method}, path, raw=b'{{not json'), 400, 'invalid_json')",
        ]
        if unique:
            lines.append(f"self.assert_error(self.call({method}, path, PAYLOADS[1]), 409, 'conflict')")
        return lines
    path = _path_expression(route, "record", "record['id']")
    missing = _path_expression(route, "record", "UNKNOWN_ID")
    lines = ["record = self.seed(1)", f"path = {path}"]
    if route.kind == "get":
        lines += [
            f"status, headers, body = self.call({method}, path)",
            "self.assertEqual(status, 200, body)",
            "self.assertEqual(body, MODEL.from_dict(record).to_dict())",
            f"self.assert_error(self.call({method}, {missing}), 404, 'not_found')",
        ]
    elif route.kind == "update" or (route.kind == "action" and route.effect.empty):
        lines += [
            f"status, headers, body = self.call({method}, path, CHANGE)",
            "self.assertEqual(status, 200, body)",
            "self.assert_fields(body, dict(PAYLOADS[1], **CHANGE))",
            f"self.assert_error(self.call({method}, path, INVALID_CHANGE), 400, 'validation_failed')",
            f"self.assert_error(self.call({method}, {missing}, CHANGE), 404, 'not_found')",
        ]
    elif route.kind == "action":
        lines += _action_test_lines(route, method, missing)
    elif route.kind == "replace":
        lines += [
            f"status, headers, body = self.call({method}, path, PAYLOADS[2])",
            "self.assertEqual(status, 200, body)",
            "self.assert_fields(body, PAYLOADS[2])",
            "self.assertEqual(body['id'], record['id'])",
            f"self.assert_error(self.call({method}, path, INVALID), 400, 'validation_failed')",
            f"self.assert_error(self.call({method}, {missing}, PAYLOADS[2]), 404, 'not_found')",
        ]
    elif route.kind == "delete":
        lines += [
            f"status, headers, body = self.call({method}, path)",
            "self.assertEqual(status, 204)",
            "self.assertIsNone(body)",
            "self.assertIsNone(STORE.get(routes.RESOURCE.table, record['id']))",
            f"self.assert_error(self.call({method}, path), 404, 'not_found')",
        ]
    return lines


def _action_test_lines(route: RoutePlan, method: str, missing: str) -> list[str]:
    """The record after the action shows what the action means: its time, its status, its duration."""
    effect = route.effect
    touched = {name for name in (effect.stamp, effect.status_field) if name} | (
        {effect.duration[2]} if effect.duration else set()
    )
    lines = [
        "change = {k: v for k, v in CHANGE.items() if k not in " + repr(sorted(touched)) + "}",
        f"status, headers, body = self.call({method}, path, change)",
        "self.assertEqual(status, 200, body)",
        "self.assert_fields(body, change)",
    ]
    if effect.stamp:
        pattern = r"^\d{4}-\d{2}-\d{2}$" if effect.stamp_type == "date" else r"^\d{4}-\d{2}-\d{2}T"
        lines += [
            f"self.assertRegex(body[{effect.stamp!r}], {pattern!r})",
            f"self.assertGreater(body[{effect.stamp!r}], '2024-01-31')  # now, not the seeded value",
        ]
    if effect.status and effect.status_field:
        lines.append(f"self.assertEqual(body[{effect.status_field!r}], {effect.status!r})")
    if effect.duration:
        minutes = effect.duration[2]
        lines += [
            f"self.assertIsInstance(body[{minutes!r}], int)",
            f"self.assertGreater(body[{minutes!r}], 0)  # from the seeded start in 2024 until now",
        ]
    lines += [
        f"self.assert_error(self.call({method}, path, INVALID_CHANGE), 400, 'validation_failed')",
        f"self.assert_error(self.call({method}, {missing}, {{}}), 404, 'not_found')",
    ]
    return lines


# --- generated files: the server -----------------------------------------------------------------


def server_module(design: Design) -> str:
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


def _wrong_method(design: Design) -> tuple[str, str, list[str]] | None:
    """A concrete path of a generated route and a method no route of that path shape has."""
    shapes: dict[tuple, set[str]] = {}
    for _, route in design.routes:
        shapes.setdefault(route.shape, set()).add(route.route.method)
    for _, route in design.routes:
        methods = shapes[route.shape]
        unused = [method for method in METHODS if method not in methods]
        if unused:
            path = "/" + "/".join("x" if text is None else text for text in route.shape)
            return unused[0], path, sorted(methods)
    return None


def server_tests(design: Design) -> str:
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

"""The design of the generated service: what the plan and every task derive from the documents.

`design(documents)` reads DATA.md (parse_data_model) and ROUTES.md (routes_md.parse_routes) and
decides, for every entity, its module name, class name, fields (with bounds read from their
descriptions) and the routes it serves. How a route of ROUTES.md is handled (see `_classify`):
the path must read `(/<name>/{param})* /<collection> [/{id} [/<action>]]`, where <collection>
is the entity's path segment (its plural, or the segment its item routes use) and each
leading parameter names a field of the entity (`{projectId}` -> project_id), which then
filters lists, is set on creation and must match on item routes. GET/POST on the collection
list and create; GET/PATCH/PUT/DELETE on an item get, update, replace and delete; POST/PATCH/PUT
on `<item>/<action>` apply the body as a partial update, then the action's effect
(kiln.domain.generators.builtin.behaviour: a timestamp, a status, a duration). Anything else
(routes of no entity, `/users/me`, summaries and bulk actions) is not generated and is listed
in the README with the reason.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from collections import Counter
from dataclasses import dataclass, field

from kiln.domain.builds import MAX_TASKS
from kiln.domain.generation import ApiRoute, Entity
from kiln.domain.generators import naming
from kiln.domain.generators.builtin.behaviour import Effect, bounds, effect, verb_of
from kiln.domain.generators.builtin.routes_md import parse_routes
from kiln.domain.generators.builtin.scaffold import read_template
from kiln.domain.spec_documents import parse_data_model


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
_RESERVED_MODULES = frozenset(
    _top_level_names(read_template("models_init")) | _top_level_names(read_template("routes_init")) | {"server"}
)
# Attribute names the generated dataclasses cannot give a field.
_RESERVED_ATTRS = frozenset(keyword.kwlist) | {"self", "cls", "to_dict", "from_dict", "validate"}
# Names the model module binds besides the class: the class takes "<Name>Record" instead.
_RESERVED_CLASSES = (
    frozenset(keyword.kwlist)
    | frozenset(dir(builtins))
    | {"FieldSpec", "validate_payload", "dataclass", "annotations", "NAME", "DESCRIPTION", "ID_KIND", "FIELDS"}
)
_PATHABLE = frozenset(
    {"string", "text", "integer", "decimal", "boolean", "date", "datetime", "uuid", "email", "url", "enum"}
)
WRONG_TYPE_VALUE = {
    "string": 12345,
    "text": 12345,
    "email": 12345,
    "url": 12345,
    "uuid": 12345,
    "date": 12345,
    "datetime": 12345,
    "enum": 12345,
    "integer": "not a number",
    "decimal": "not a number",
    "boolean": "not a boolean",
}


def clean(text: str, limit: int | None = None) -> str:
    """One printable line: control, separator and unpaired surrogate characters become spaces."""
    line = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


@dataclass(frozen=True)
class Field:
    name: str  # the JSON name, as in DATA.md
    attr: str  # the dataclass attribute
    type: str
    required: bool
    unique: bool
    values: tuple[str, ...]
    description: str
    read_only: bool  # set by the service: id, created_at and updated_at (datetime)
    declared: bool  # in DATA.md (an undeclared id is added)
    bounds: tuple[int, int] | None = None  # integer and decimal fields described "from 1 to 5"


@dataclass
class RoutePlan:
    route: ApiRoute
    kind: str  # list | create | get | update | replace | delete | action
    shape: tuple[str | None, ...]  # literal segments, None for parameters
    scope: tuple[tuple[str, str], ...]  # (path parameter, field it sets/filters)
    own: str | None = None  # the item id parameter
    action: str | None = None
    effect: Effect = field(default_factory=Effect)  # what the action does besides applying its body
    handler: str = ""

    @property
    def label(self) -> str:
        return f"{self.route.method} {self.route.path}"


@dataclass
class EntityPlan:
    entity: Entity
    snake: str
    slug: str
    class_name: str
    fields: list[Field]
    id_kind: str
    collection: str | None = None
    routes: list[RoutePlan] = field(default_factory=list)
    task_id: str = ""

    @property
    def name(self) -> str:
        return self.entity.name

    @property
    def paths(self) -> list[str]:
        return [f"app/models/{self.snake}.py", f"app/routes/{self.snake}.py", f"tests/test_{self.snake}.py"]

    @property
    def writable(self) -> list[Field]:
        return [f for f in self.fields if not f.read_only]


@dataclass
class Design:
    title: str
    overview: str
    entities: list[EntityPlan]
    skipped: list[tuple[ApiRoute, str]]

    @property
    def routes(self) -> list[tuple[EntityPlan, RoutePlan]]:
        return [(plan, route) for plan in self.entities for route in plan.routes]


SCAFFOLD_PATHS = [
    "README.md",
    "app/__init__.py",
    "app/store.py",
    "app/http.py",
    "app/models/__init__.py",
    "app/routes/__init__.py",
    "tests/__init__.py",
]
SERVER_PATHS = ["app/server.py", "tests/test_server.py", "app/lambda_handler.py", "tests/test_lambda_handler.py"]


def design(documents: dict[str, str]) -> Design:
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

    plans: dict[str, EntityPlan] = {}
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
        owner = plans.get(route.entity)
        if owner is None:
            skipped.append((route, f"entity {route.entity} is not in DATA.md"))
            continue
        result = _classify(route, owner)
        if isinstance(result, str):
            skipped.append((route, result))
            continue
        key = (route.method, result.shape)
        if key in shapes:
            skipped.append((route, f"same method and path shape as {shapes[key]}"))
            continue
        shapes[key] = result.label
        owner.routes.append(result)
    for plan_ in plans.values():
        _name_handlers(plan_)

    title, overview = _title_and_overview(documents)
    return Design(title, overview, list(plans.values()), skipped)


def _title_and_overview(documents: dict[str, str]) -> tuple[str, str]:
    title, overview = "", ""
    spec = documents.get("SPEC.md")
    if isinstance(spec, str):
        lines = spec.splitlines()
        title = next((line[2:] for line in lines if line.startswith("# ")), "")
        if "## Overview" in lines:
            paragraph: list[str] = []
            for line in lines[lines.index("## Overview") + 1 :]:
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
                title = first[len(prefix) :]
                break
    return clean(title, 200) or "Generated service", clean(overview, 1_500)


def _entity_plan(entity: Entity, modules: set[str], slugs: set[str]) -> EntityPlan:
    base = naming.snake(entity.name)
    if keyword.iskeyword(base):
        base += "_"
    snake, number = base, 2
    while snake in modules or snake in _RESERVED_MODULES:
        snake, number = f"{base}_{number}", number + 1
    modules.add(snake)

    kebab = naming.kebab(entity.name)[:53].strip("-")
    slug, number = f"entity-{kebab}", 2
    while slug in slugs:
        suffix = f"-{number}"
        slug, number = f"entity-{kebab[: 53 - len(suffix)].rstrip('-')}{suffix}", number + 1
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
        limits = bounds(description) if type_ in ("integer", "decimal") and not read_only else None
        fields.append(Field(name, attr, type_, required, unique, values, description, read_only, is_declared, limits))
    id_field = next(f for f in fields if f.name == "id")
    id_kind = "integer" if id_field.type == "integer" else "uuid"
    return EntityPlan(entity, snake, slug, class_name, fields, id_kind)


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


def _collection(plan_: EntityPlan, routes: list[ApiRoute]) -> str | None:
    """The path segment naming the entity's records: its plural if the routes use it, else the
    segment most often followed by an item id, else None (no route of the entity is built)."""
    snake, plural = naming.snake(plan_.name), naming.collection(plan_.name)
    guesses = list(
        dict.fromkeys(
            [
                plural,
                plural.replace("-", "_"),
                plural.replace("-", ""),
                snake.replace("_", "-") + "s",
                snake + "s",
                snake.replace("_", "-"),
                snake,
                snake.replace("_", ""),
            ]
        )
    )
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


def _param_field(param: str, before: str, plan_: EntityPlan) -> str | None:
    """The field a leading path parameter stands for: {projectId} -> project_id."""
    usable = {f.name for f in plan_.writable if f.type in _PATHABLE}
    snake = naming.param_snake(param)
    for candidate in (snake, f"{snake}_id", f"{naming.singular_segment(before)}_id"):
        if candidate in usable:
            return candidate
    return None


_COLLECTION_KINDS = {"GET": "list", "POST": "create"}
_ITEM_KINDS = {"GET": "get", "PATCH": "update", "PUT": "replace", "DELETE": "delete"}
_ACTION_METHODS = ("POST", "PATCH", "PUT")


def _classify(route: ApiRoute, plan_: EntityPlan) -> RoutePlan | str:
    """How the route is built, or why it is not."""
    segments = _segments(route.path)
    if isinstance(segments, str):
        return segments
    if any(not is_param and text == "me" for is_param, text in segments):
        return "it refers to the signed-in user ('me') and the service has no sign-in"
    collection = plan_.collection
    positions = [i for i, (is_param, text) in enumerate(segments) if not is_param and text == collection]
    if collection is None or not positions:
        return f"the path has no '{collection or naming.collection(plan_.name)}' segment naming {plan_.name} records"
    at = positions[-1]
    prefix, tail = segments[:at], segments[at + 1 :]
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
        return RoutePlan(route, kind, shape, tuple(scope))
    if not tail[0][0]:
        return f"'{tail[0][1]}' under the {collection} collection is neither an item id nor an item action"
    own = tail[0][1]
    if len(tail) == 1:
        kind = _ITEM_KINDS.get(method)
        if kind is None:
            return f"{method} on a single {plan_.name} (GET, PATCH, PUT and DELETE are built)"
        return RoutePlan(route, kind, shape, tuple(scope), own=own)
    if len(tail) == 2 and not tail[1][0]:
        if method not in _ACTION_METHODS:
            return (
                f"{method} '{tail[1][1]}' on a single {plan_.name} is a view, not an action "
                "(only POST, PATCH and PUT run actions)"
            )
        scoped = {name for _, name in scope}
        fields = {f.name: (f.type, f.values) for f in plan_.writable if f.name not in scoped}
        return RoutePlan(
            route, "action", shape, tuple(scope), own=own, action=tail[1][1], effect=effect(verb_of(tail[1][1]), fields)
        )
    return f"the path goes on after the {plan_.name} id"


def _name_handlers(plan_: EntityPlan) -> None:
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

"""The built-in build: a standard-library Python service planned and written from the spec documents.

The proof that the code generator is correct is running what it writes: these tests merge
every task's files and run `kiln.domain.verification.verify`, which compiles the tree and runs
its unittest suite in a subprocess.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiln.domain.builds import ImplementRequest, TaskDefinition, TaskPlan, plan_problems
from kiln.domain.generation import (
    ApiRoute,
    Entity,
    EntityField,
    Feature,
    ProjectBrief,
    Relation,
    SpecContent,
    SpecRequest,
    UserRole,
)
from kiln.domain.generators.builtin import BuiltinGenerator
from kiln.domain.generators.builtin.build import implement, parse_routes, plan
from kiln.domain.spec_documents import render_documents
from kiln.domain.verification import verify

EXAMPLE = ProjectBrief(
    "Teamwork", "A project management tool with team collaboration features, task boards, and time tracking"
)
generator = BuiltinGenerator()


def _answer(question):
    if question.type.value == "single_choice":
        return question.options[0]
    if question.type.value == "multi_choice":
        return [question.options[0]]
    if question.type.value == "boolean":
        return True
    return "Nothing more for now."


@functools.cache
def _example_documents(feedback: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    questions = tuple(generator.clarify(EXAMPLE))
    answers = {question.id: _answer(question) for question in questions}
    content = generator.write_spec(SpecRequest(EXAMPLE, questions, answers, feedback))
    return tuple(render_documents(content).items())


def _documents(feedback: tuple[str, ...] = ()) -> dict[str, str]:
    return dict(_example_documents(feedback))


def _build(documents: dict[str, str]) -> tuple[TaskPlan, dict[str, str]]:
    task_plan = plan(documents)
    merged: dict[str, str] = {}
    for task in task_plan.tasks:
        files = implement(ImplementRequest(task=task, documents=documents, files=dict(merged))).files
        assert set(files) == set(task.pathScope), task.id
        assert all(task.in_scope(path) for path in files), task.id
        merged.update(files)
    return task_plan, merged


def _verify(task_plan: TaskPlan, files: dict[str, str]):
    return verify({path: text.encode("utf-8") for path, text in files.items()}, task_plan)


def _assert_verified(result) -> None:
    failed = [f"{check.name}:\n{check.output}" for check in result.checks if not check.passed]
    assert result.passed, "\n\n".join(failed)


# --- the plan -----------------------------------------------------------------------------------


def test_the_example_plan_is_a_valid_plan_of_scaffold_entities_and_server():
    documents = _documents()
    task_plan = plan(documents)
    assert plan_problems(task_plan) == []
    slugs = [task.slug for task in task_plan.tasks]
    assert slugs == [
        "scaffold",
        "entity-user",
        "entity-team",
        "entity-membership",
        "entity-project",
        "entity-board",
        "entity-column",
        "entity-task",
        "entity-comment",
        "entity-time-entry",
        "entity-notification",
        "entity-integration",
        "server",
    ]
    ids = [task.id for task in task_plan.tasks]
    assert ids == [f"task-{n:03d}" for n in range(1, len(ids) + 1)]
    assert task_plan.mergeOrder == ids
    assert task_plan.waves() == [["task-001"], ids[1:-1], [ids[-1]]]
    scaffold, *entities, server = task_plan.tasks
    assert scaffold.dependencies == []
    assert all(task.dependencies == ["task-001"] for task in entities)
    assert server.dependencies == ids[1:-1]
    assert scaffold.pathScope == [
        "README.md",
        "app/__init__.py",
        "app/store.py",
        "app/http.py",
        "app/models/__init__.py",
        "app/routes/__init__.py",
        "tests/__init__.py",
    ]
    assert server.pathScope == [
        "app/server.py",
        "tests/test_server.py",
        "app/lambda_handler.py",
        "tests/test_lambda_handler.py",
    ]
    time_entry = task_plan.task("task-010")
    assert time_entry.pathScope == ["app/models/time_entry.py", "app/routes/time_entry.py", "tests/test_time_entry.py"]
    seen: set[str] = set()
    for task in task_plan.tasks:
        assert task.expectedOutputs == task.pathScope
        assert all("*" not in path and "?" not in path for path in task.pathScope)
        assert not seen & set(task.pathScope), task.id
        seen |= set(task.pathScope)


def test_instructions_name_the_fields_and_routes_a_task_must_write():
    task_plan = plan(_documents())
    task = next(task for task in task_plan.tasks if task.slug == "entity-task")
    for text in (
        "priority",
        "low, medium, high, urgent",
        "POST /projects/{projectId}/tasks",
        "PATCH /tasks/{taskId}/move",
        "action 'move'",
        "{boardId} is board_id",
        "tests/test_task.py",
    ):
        assert text in task.instructions, text
    scaffold = task_plan.tasks[0]
    assert "handle(method, path, body_bytes=b'')" in scaffold.instructions
    assert "POST /auth/sign-in (no entity)" in scaffold.instructions
    assert "GET /users/{userId}" in task_plan.tasks[-1].instructions


def test_plan_and_implement_are_deterministic():
    documents = _documents()
    first, second = plan(documents), plan(dict(documents))
    assert first.model_dump() == second.model_dump()
    for task in first.tasks:
        one = implement(ImplementRequest(task=task, documents=documents))
        other = implement(ImplementRequest(task=task, documents=dict(documents), files={"x.py": "ignored"}))
        assert one.files == other.files
        assert one.summary == other.summary


# --- the generated service ----------------------------------------------------------------------


def test_the_example_project_builds_into_a_service_whose_tests_pass():
    task_plan, files = _build(_documents())
    result = _verify(task_plan, files)
    _assert_verified(result)
    assert [check.name for check in result.checks] == ["paths", "expected-outputs", "compile", "unittest"]
    unittest_output = result.checks[-1].output
    assert "OK" in unittest_output and "Ran " in unittest_output

    readme = files["README.md"]
    assert "python -m app.server" in readme and "python -m unittest discover -s tests -t ." in readme
    assert "| PATCH | `/tasks/{taskId}/move` | Task | action 'move' |" in readme
    assert "| GET | `/boards/{boardId}/tasks` | Task | list ({boardId} is board_id) |" in readme
    assert "- not generated: POST `/auth/sign-in` (no entity)" in readme
    assert "- not generated: GET `/users/me` (" in readme
    assert "- not generated: GET `/projects/{projectId}/time-summary` (" in readme
    assert "('POST', '/time-entries/{timeEntryId}/stop')," in files["tests/test_server.py"]
    assert "('GET', '/users/me')" not in files["tests/test_server.py"]


def test_every_route_of_an_entity_has_a_test():
    _, files = _build(_documents())
    tests = files["tests/test_time_entry.py"]
    for label in (
        "GET /time-entries",
        "POST /time-entries",
        "GET /time-entries/{timeEntryId}",
        "PATCH /time-entries/{timeEntryId}",
        "DELETE /time-entries/{timeEntryId}",
        "POST /time-entries/{timeEntryId}/stop",
    ):
        assert f'"""{label}"""' in tests, label
    assert "'validation_failed'" in tests and "'not_found'" in tests


def test_a_spec_changed_by_feedback_still_builds_and_verifies():
    documents = _documents(("Add tags to tasks",))
    assert "## Entity: Tag" in documents["DATA.md"]
    task_plan, files = _build(documents)
    assert "entity-tag" in [task.slug for task in task_plan.tasks]
    assert "tests/test_tag.py" in files
    _assert_verified(_verify(task_plan, files))


def _content(entities: list[Entity], routes: list[ApiRoute], title: str = "Odd names") -> SpecContent:
    return SpecContent(
        title=title,
        overview="A service whose names test the generator.",
        users=[UserRole(name="Member", description="Uses it.")],
        features=[Feature(name="Records", summary="Keeps records.", acceptance=["Given a record, then it is kept."])],
        entities=entities,
        routes=routes,
    )


def _crud(name: str, plural: str, param: str) -> list[ApiRoute]:
    item = f"/{plural}/{{{param}}}"
    return [
        ApiRoute(method="GET", path=f"/{plural}", summary=f"List {plural}", entity=name),
        ApiRoute(method="POST", path=f"/{plural}", summary="Create | make one", entity=name),
        ApiRoute(method="GET", path=item, summary="Get one", entity=name),
        ApiRoute(method="PATCH", path=item, summary="Update one", entity=name),
        ApiRoute(method="PUT", path=item, summary="Replace one", entity=name),
        ApiRoute(method="DELETE", path=item, summary="Delete one", entity=name),
    ]


def test_keywords_builtins_and_clashing_names_still_generate_working_code():
    fields = [
        EntityField(
            name=name,
            type=kind,
            unique=unique,
            required=required,
            values=["a", "class"] if kind == "enum" else None,
            description='Quotes """ and \\ backslashes \u2028 and a pipe |',
        )
        for name, kind, unique, required in [
            ("id", "integer", True, True),
            ("class", "string", True, True),
            ("class_", "text", False, False),
            ("from", "enum", False, True),
            ("type", "decimal", False, False),
            ("self", "boolean", False, True),
            ("to_dict", "json", False, False),
            ("validate", "date", False, False),
            ("cls", "datetime", False, False),
            ("created_at", "datetime", True, True),
            ("updated_at", "string", False, False),
            ("str", "url", False, False),
            ("lambda", "email", True, False),
            ("none_id", "uuid", False, False),
        ]
    ]
    entities = [
        Entity(name="None", description="Named like a Python constant.", fields=fields),
        Entity(
            name="Server",
            description="Named like the server module.",
            fields=[EntityField(name="name", type="string"), EntityField(name="none_id", type="uuid")],
            relations=[Relation(kind="belongs_to", target="None", via="none_id")],
        ),
        Entity(
            name="ValidatePayload",
            description="Named like a helper of app.models.",
            fields=[EntityField(name="def", type="integer", unique=True)],
        ),
        Entity(name="AB", description="Same module name as Ab.", fields=[EntityField(name="x", type="string")]),
        Entity(
            name="Ab",
            description="Same module name as AB.",
            fields=[EntityField(name="y", type="enum", values=["only"], unique=True)],
        ),
        Entity(
            name="Bare",
            description="Nothing a client may write.",
            fields=[EntityField(name="created_at", type="datetime")],
        ),
    ]
    routes = (
        _crud("None", "nones", "noneId")
        + [
            ApiRoute(method="POST", path="/nones/{noneId}/archive", summary="Archive", entity="None"),
            ApiRoute(method="GET", path="/nones/{noneId}/servers", summary="Servers of one", entity="Server"),
            ApiRoute(method="POST", path="/nones/{noneId}/servers", summary="Add one", entity="Server"),
            ApiRoute(method="GET", path="/nones/{noneId}/servers/{serverId}", summary="One", entity="Server"),
            ApiRoute(method="PATCH", path="/servers/{serverId}/re-start", summary="Act", entity="Server"),
            ApiRoute(method="GET", path="/servers/me", summary="Mine", entity="Server"),
            ApiRoute(method="GET", path="/health", summary="Health"),
        ]
        + _crud("ValidatePayload", "validate-payloads", "id")
        + _crud("AB", "abs", "abId")
        + [
            ApiRoute(method="GET", path="/abs/{yId}", summary="Same shape", entity="Ab"),
            ApiRoute(method="POST", path="/abs/{abId}/copy", summary="Ab action", entity="Ab"),
        ]
        + _crud("Bare", "bares", "bareId")
    )
    documents = render_documents(_content(entities, routes))
    task_plan, files = _build(documents)
    assert [task.slug for task in task_plan.tasks] == [
        "scaffold",
        "entity-none",
        "entity-server",
        "entity-validate-payload",
        "entity-ab",
        "entity-ab-2",
        "entity-bare",
        "server",
    ]
    assert "app/models/none.py" in files and "app/models/server_2.py" in files
    assert "app/models/validate_payload_2.py" in files and "app/models/ab_2.py" in files
    model = files["app/models/none.py"]
    assert "class NoneRecord:" in model and "class_: str | None = None" in model and "class__: str" in model
    assert "FieldSpec('from', 'from_', 'enum'" in model and "to_dict_: object | None = None" in model
    readme = files["README.md"]
    assert "- not generated: GET `/abs/{yId}` (same method and path shape as GET /abs/{abId})" in readme
    assert "- not generated: GET `/servers/me` (" in readme
    assert "| POST | `/abs/{abId}/copy` | Ab | action 'copy' |" in readme
    _assert_verified(_verify(task_plan, files))


def test_implement_refuses_a_task_that_is_not_in_the_plan():
    documents = _documents()
    task_plan = plan(documents)
    stranger = task_plan.tasks[1].model_copy(update={"id": "task-099"})
    with pytest.raises(ValueError, match="not a task of this specification's plan"):
        implement(ImplementRequest(task=stranger, documents=documents))
    renamed = task_plan.tasks[1].model_copy(update={"slug": "entity-other"})
    with pytest.raises(ValueError):
        implement(ImplementRequest(task=renamed, documents=documents))
    narrowed = task_plan.tasks[0].model_copy(update={"pathScope": ["app/**"]})
    with pytest.raises(ValueError, match=r"outside its pathScope: README\.md, tests/__init__\.py"):
        implement(ImplementRequest(task=narrowed, documents=documents))


def test_plan_refuses_documents_it_cannot_read():
    documents = _documents()
    with pytest.raises(ValueError, match=r"DATA\.md is missing"):
        plan({"ROUTES.md": documents["ROUTES.md"]})
    with pytest.raises(ValueError, match=r"ROUTES\.md is missing"):
        plan({"DATA.md": documents["DATA.md"]})
    with pytest.raises(ValueError, match=r"DATA\.md line"):
        plan(dict(documents, **{"DATA.md": "## Entity: task\n"}))
    with pytest.raises(ValueError, match=r"ROUTES\.md line"):
        plan(dict(documents, **{"ROUTES.md": "## Task\n| GET | /no-backticks | x |\n"}))


# --- ROUTES.md --------------------------------------------------------------------------------------


def test_parse_routes_reads_back_what_the_renderer_wrote():
    content = SpecContent.model_validate(_example_content())
    routes = parse_routes(render_documents(content)["ROUTES.md"], [entity.name for entity in content.entities])
    assert sorted(routes, key=lambda r: (r.method, r.path)) == sorted(
        [route.model_copy(update={"summary": " ".join(route.summary.split())}) for route in content.routes],
        key=lambda r: (r.method, r.path),
    )


def _example_content() -> dict:
    return {
        "title": "T",
        "overview": "O",
        "users": [{"name": "U", "description": "D"}],
        "features": [{"name": "F", "summary": "S", "acceptance": ["A"]}],
        "entities": [
            {"name": "Other", "description": "An entity named Other.", "fields": [{"name": "name", "type": "string"}]}
        ],
        "routes": [
            {"method": "GET", "path": "/others", "summary": "List | all\\ of\nthem \\|", "entity": "Other"},
            {"method": "POST", "path": "/others/{otherId}/a-b.c", "summary": "`code` | x", "entity": "Other"},
            {"method": "GET", "path": "/health", "summary": "Health", "entity": None},
        ],
    }


def test_parse_routes_tells_an_entity_named_other_from_the_routes_of_no_entity():
    text = render_documents(SpecContent.model_validate(_example_content()))["ROUTES.md"]
    assert "## Other (no entity)" in text
    for entities in (["Other"], None):
        routes = {route.path: route.entity for route in parse_routes(text, entities)}
        assert routes == {"/others": "Other", "/others/{otherId}/a-b.c": "Other", "/health": None}
    lone = "## Other\n\n| method | path | summary |\n| --- | --- | --- |\n| GET | `/health` | Health |\n"
    assert parse_routes(lone)[0].entity is None
    assert parse_routes(lone, ["Task"])[0].entity is None
    assert parse_routes(lone, ["Other"])[0].entity == "Other"


@pytest.mark.parametrize(
    "text, message",
    [
        ("| GET | `/x` | Orphan |", "before the first"),
        ("## Task\n| FETCH | `/x` | Unknown method |", "unknown method"),
        ("## Task\n| GET | `/x y` | Bad path |", "path"),
        ("## Task\n| GET | `/x` |   |", "summary"),
        ("## Task\n| GET | `/x` | One |\n| GET | `/x` | Two |", "already listed at line 2"),
        ("## Task\n| GET | /x | No backticks |", "expected a route row"),
        ("## not an entity\n| GET | `/x` | Y |", "section heading"),
        ("# Nothing here\n\nJust words.", "no routes"),
    ],
)
def test_parse_routes_rejects_what_is_not_a_routes_document(text, message):
    with pytest.raises(ValueError, match=message):
        parse_routes(text)


_ROUTE_LINES = st.one_of(
    st.sampled_from(
        [
            "## Task",
            "## Other",
            "## Other (no entity)",
            "| method | path | summary |",
            "| --- | --- | --- |",
            "| GET | `/tasks` | List |",
            "| POST | `/tasks/{taskId}` | x \\| y |",
            "| get | `/a` | b |",
            "| PUT | `/` | c |",
            "|",
            "||",
            "| GET | `` | x |",
            "## ",
            "### Task",
            "\\",
            "`",
        ]
    ),
    st.text(max_size=40),
)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(st.text(max_size=200), st.lists(_ROUTE_LINES, max_size=12).map("\n".join)),
    st.one_of(st.none(), st.just(["Task", "Other"])),
)
def test_parse_routes_raises_only_value_error_on_garbage(text, entities):
    try:
        routes = parse_routes(text, entities)
    except ValueError as error:
        assert type(error) is ValueError
    else:
        assert routes and all(isinstance(route, ApiRoute) for route in routes)


# --- the property: any small valid spec builds into a service whose tests pass -----------------

_FIELD_NAMES = st.one_of(
    st.sampled_from(
        [
            "class",
            "type",
            "from",
            "id",
            "import",
            "def",
            "self",
            "cls",
            "to_dict",
            "from_dict",
            "validate",
            "class_",
            "str",
            "list",
            "json",
            "lambda",
            "match",
            "print",
            "object",
            "data",
            "partial",
            "values",
            "created_at",
            "updated_at",
            "name",
            "status",
        ]
    ),
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
)
_ENTITY_NAMES = st.one_of(
    st.sampled_from(
        [
            "None",
            "True",
            "Class",
            "Server",
            "Now",
            "Store",
            "Item",
            "TimeEntry",
            "ValidatePayload",
            "Exception",
            "FieldSpec",
            "Resource",
            "Other",
            "Me",
            "HTTPServer",
            "Ab",
            "AB",
            "A1",
        ]
    ),
    st.from_regex(r"[A-Z][A-Za-z0-9]{0,8}", fullmatch=True),
)
_TYPES = ["string", "text", "integer", "decimal", "boolean", "date", "datetime", "uuid", "email", "url", "enum", "json"]
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda text: text.strip()
)


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


@st.composite
def _specs(draw) -> SpecContent:
    names = draw(st.lists(_ENTITY_NAMES, min_size=2, max_size=4, unique=True))
    entities: list[Entity] = []
    routes: dict[tuple[str, str], ApiRoute] = {}

    def add(method: str, path: str, entity: str | None) -> None:
        routes.setdefault((method, path), ApiRoute(method=method, path=path, summary=draw(_TEXT), entity=entity))

    for index, name in enumerate(names):
        field_names = draw(st.lists(_FIELD_NAMES, min_size=1, max_size=5, unique=True))
        fields = []
        for field_name in field_names:
            kind = draw(st.sampled_from(_TYPES))
            values = draw(st.lists(_FIELD_NAMES, min_size=1, max_size=3)) if kind == "enum" else None
            fields.append(
                EntityField(
                    name=field_name,
                    type=kind,
                    required=draw(st.booleans()),
                    unique=draw(st.booleans()),
                    values=values,
                    description=draw(_TEXT),
                )
            )
        relations = []
        parent = draw(st.sampled_from(names[:index])) if index and draw(st.booleans()) else None
        if parent is not None and f"{_snake(parent)}_id" not in field_names:
            via = f"{_snake(parent)}_id"
            kind = draw(st.sampled_from(["uuid", "integer", "string", "url", "boolean", "decimal", "date"]))
            fields.append(EntityField(name=via, type=kind, required=draw(st.booleans())))
            relations.append(Relation(kind="belongs_to", target=parent, via=via))
        entities.append(Entity(name=name, description=draw(_TEXT), fields=fields, relations=relations))

        plural = _snake(name).replace("_", "-") + "s"
        param = name[0].lower() + name[1:] + "Id"
        item = f"/{plural}/{{{param}}}"
        for method, path in [
            ("GET", f"/{plural}"),
            ("POST", f"/{plural}"),
            ("GET", item),
            ("PATCH", item),
            ("PUT", item),
            ("DELETE", item),
        ]:
            if draw(st.booleans()):
                add(method, path, name)
        if relations:
            parent_plural = _snake(parent).replace("_", "-") + "s"
            nested = f"/{parent_plural}/{{{parent[0].lower() + parent[1:]}Id}}/{plural}"
            add("GET", nested, name)
            add("POST", nested, name)
        for _ in range(draw(st.integers(0, 2))):
            action = draw(st.sampled_from(["stop", "archive", "re-open", "mark.read", "class"]))
            add(draw(st.sampled_from(["POST", "PATCH", "PUT", "GET"])), f"{item}/{action}", name)
        if draw(st.booleans()):
            add("GET", f"/{plural}/me", name)
    add("POST", "/auth/sign-in", None)
    return _content(entities, list(routes.values()), title=draw(_TEXT))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_specs())
def test_any_small_valid_spec_builds_into_a_service_whose_tests_pass(content):
    documents = render_documents(content)
    task_plan, files = _build(documents)
    assert len(task_plan.tasks) == len(content.entities) + 2
    _assert_verified(_verify(task_plan, files))
    assert implement(ImplementRequest(task=task_plan.tasks[1], documents=documents)).files == {
        path: files[path] for path in task_plan.tasks[1].pathScope
    }


def test_a_task_definition_from_elsewhere_must_match_the_plan_exactly():
    documents = _documents()
    foreign = TaskDefinition(
        id="task-002", slug="entity-user", description="d", instructions="i", pathScope=["app/models/user.py"]
    )
    with pytest.raises(ValueError, match="outside its pathScope"):
        implement(ImplementRequest(task=foreign, documents=documents))


def test_the_generated_lambda_adapter_answers_function_url_events_like_http(tmp_path):
    import json
    import subprocess
    import sys

    _, files = _build(_documents())
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    script = """
import base64, json
from app.lambda_handler import handler
def event(method, path, body=None, encoded=False):
    e = {"version": "2.0", "rawPath": path, "requestContext": {"http": {"method": method}}, "isBase64Encoded": encoded}
    if body is not None:
        e["body"] = body
    return e
created = handler(event("POST", "/teams", json.dumps({"name": "Sprint"})))
listed = handler(event("GET", "/teams"))
bad = handler(event("POST", "/teams", base64.b64encode(b"{").decode(), encoded=True))
print(json.dumps([created, listed, bad]))
"""
    clean = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=clean, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    created, listed, bad = json.loads(run.stdout)
    assert created["statusCode"] == 201, created
    board = json.loads(created["body"])
    assert board["name"] == "Sprint"
    assert listed["statusCode"] == 200
    assert [item["id"] for item in json.loads(listed["body"])["items"]] == [board["id"]]
    assert (bad["statusCode"], json.loads(bad["body"])["error"]["code"]) == (400, "invalid_json")

    # The adapter's own tests are part of the generated suite the sandbox runs.
    suite = subprocess.run(
        [sys.executable, "-m", "unittest", "tests.test_lambda_handler", "-v"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert suite.returncode == 0, suite.stderr
    assert "Ran 4 tests" in suite.stderr and "OK" in suite.stderr

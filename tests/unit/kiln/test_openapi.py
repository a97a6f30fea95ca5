"""The OpenAPI document: committed, complete, valid, and true to the handlers and the route table."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from kiln import ids, openapi
from kiln.envelope import CATALOG, ErrorCode, error_body, success_body
from kiln.handlers import docs_openapi
from kiln.http.contract import path_kinds
from kiln.routes import ROUTES, Route

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "docs" / "openapi.json"
REGENERATE = "regenerate it with: PYTHONPATH=functions .venv/bin/python -m kiln.openapi --write"
MUTATING = {"POST", "PATCH", "PUT", "DELETE"}


@pytest.fixture(scope="module")
def generated() -> str:
    return openapi.render()


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def operation(doc: dict[str, Any], route: Route) -> dict[str, Any]:
    return doc["paths"][route.path.replace("{path+}", "{path}").replace("{file+}", "{file}")][route.method.lower()]


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def validator(doc: dict[str, Any], pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:kiln:openapi", Resource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"urn:kiln:openapi#{pointer}"}, registry=registry)


# --- drift -------------------------------------------------------------------------------------


def test_committed_document_is_what_the_generator_writes(generated):
    assert COMMITTED.read_text(encoding="utf-8") == generated, f"docs/openapi.json is out of date: {REGENERATE}"


def test_packaged_copy_is_the_committed_document(tmp_path):
    """What a build writes into the functions it ships (infra/lambdas.py) is the committed document."""
    (tmp_path / "kiln").mkdir()
    assert openapi.package(tmp_path) == tmp_path / "kiln" / "openapi.json"
    assert (tmp_path / "kiln" / "openapi.json").read_bytes() == COMMITTED.read_bytes()


def test_generation_is_deterministic(generated):
    assert openapi.render() == generated


def test_every_route_declares_its_contract_on_its_handler():
    """One declaration per endpoint: the handler module's Contract, read by the pipeline and by
    the generator alike, naming pydantic models (or names of models) only."""
    from pydantic import BaseModel

    for route in ROUTES:
        contract = openapi.contract_of_route(route)
        assert contract.answers, route.name
        assert any(answer.status == route.status for answer in contract.answers), (route.name, route.status)
        for model in (contract.body, contract.query, *(answer.model for answer in contract.answers)):
            if model is not None:
                resolved = openapi._model(model)
                assert isinstance(resolved, type) and issubclass(resolved, BaseModel), (route.name, model)
        for name in route.path_params:
            if name not in ("path", "asset", "file", "taskId"):  # formats checked by the function itself
                assert path_kinds(contract, name), (route.name, name)
        shaped = [answer for answer in contract.answers if answer.shape in ("envelope", "list", "raw")]
        assert all(answer.model is not None for answer in shaped), route.name


def test_the_pipeline_hands_the_function_what_the_contract_declares():
    """A declared body and query reach the function validated; the function's source never
    parses them again (projects_import alone reads its archive-or-JSON body itself)."""
    for route in ROUTES:
        contract = openapi.contract_of_route(route)
        module = importlib.import_module(f"kiln.handlers.{route.handler}")
        calls = {
            node.func.attr
            for node in ast.walk(ast.parse(inspect.getsource(module)))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("body_as", "query_as")
        }
        if contract.archive_body:
            continue
        assert not calls, f"{route.handler} parses its own request ({calls}): declare it on its Contract"


# --- completeness ------------------------------------------------------------------------------


def test_every_route_is_an_operation_with_its_id_summary_tags_and_scopes(doc):
    operations = [(path, method) for path, item in doc["paths"].items() for method in item]
    assert len(operations) == len(ROUTES)
    for route in ROUTES:
        op = operation(doc, route)
        assert op["operationId"] == route.operation_id
        assert op["summary"] == route.summary
        assert set(op["tags"]) == set(route.tags)
        assert op.get("deprecated", False) == (route.deprecated is not None)
        if route.authorized:
            assert op["security"] == [{"bearer": list(route.scopes)}], route.handler
            for scope in route.scopes:
                assert f"`{scope}`" in op["description"], route.handler
        else:
            assert op["security"] == [], route.handler
    assert len({op["operationId"] for item in doc["paths"].values() for op in item.values()}) == len(ROUTES)


def test_every_operation_documents_its_success_status(doc):
    for route in ROUTES:
        assert str(route.status) in operation(doc, route)["responses"], route.handler


ID_KINDS = {
    "projectId": ("project",),
    "runId": ("run",),
    "exportId": ("export",),
    "workspaceId": ("workspace",),
    "keyId": ("api_key",),
}


def test_path_parameters_are_declared_with_id_formats(doc):
    for route in ROUTES:
        declared = {p["name"]: p for p in operation(doc, route).get("parameters", []) if p.get("in") == "path"}
        assert set(declared) == set(route.path_params), route.handler
        for name, parameter in declared.items():
            assert parameter["required"] is True
            kinds = path_kinds(openapi.contract_of_route(route), name) if name == "callbackId" else ID_KINDS.get(name)
            if kinds is None:
                continue
            pattern = re.compile(parameter["schema"]["pattern"])
            matching = {kind for kind in ids.PREFIXES if pattern.match(ids.new_id(kind))}
            assert matching == set(kinds), (route.handler, name)


def test_id_patterns_are_exactly_the_id_format():
    pattern = re.compile(openapi.id_pattern("project"))
    for _ in range(200):
        assert pattern.match(ids.new_id("project"))
    sample = ids.new_id("project")
    for char in "ilou_-ABC!":
        assert not pattern.match(sample[:-1] + char)
    assert not pattern.match(sample + "0")


def test_error_responses_cover_what_the_pipeline_can_answer(doc):
    for route in ROUTES:
        responses = operation(doc, route)["responses"]
        codes = {status: _codes(doc, response) for status, response in responses.items() if int(status) >= 400}
        expected = {"500": {"INTERNAL_ERROR"}, "503": {"SERVICE_UNAVAILABLE"}}
        if route.authorized:
            expected |= {
                "400": {"VALIDATION_ERROR"},
                "401": {"UNAUTHORIZED"},
                "403": {"FORBIDDEN"},
                "404": {"ENDPOINT_NOT_FOUND"},
                "429": {"TOO_MANY_REQUESTS", "RATE_LIMIT_EXCEEDED", "USAGE_LIMIT_EXCEEDED"},
            }
            if route.path_params:
                expected["404"] = expected["404"] | {"NOT_FOUND"}
            if route.method in MUTATING:
                expected["409"] = {"IDEMPOTENCY_KEY_IN_USE"}
                expected["422"] = {"IDEMPOTENCY_KEY_REUSED"}
        io = openapi.contract_of_route(route)
        if io.body:
            expected["413"] = {"PAYLOAD_TOO_LARGE"}
            expected["415"] = {"UNSUPPORTED_MEDIA_TYPE"}
        for status, wanted in expected.items():
            assert status in codes, (route.handler, status)
            assert wanted <= codes[status], (route.handler, status, codes[status])
        for status, found in codes.items():
            for code in found:
                assert CATALOG[ErrorCode(code)].status == int(status), (route.handler, status, code)


def _codes(doc: dict[str, Any], response: dict[str, Any]) -> set[str]:
    schema = resolve(doc, response)["content"]["application/json"]["schema"]
    alternatives = schema.get("oneOf", [schema])
    codes: set[str] = set()
    for alternative in alternatives:
        for part in alternative.get("allOf", []):
            codes |= set(
                part.get("properties", {}).get("error", {}).get("properties", {}).get("code", {}).get("enum", [])
            )
    return codes


def test_request_bodies_and_special_media_types(doc):
    for route in ROUTES:
        io = openapi.contract_of_route(route)
        op = operation(doc, route)
        if io.body:
            assert "application/json" in op["requestBody"]["content"], route.handler
            assert op["requestBody"]["required"] is (not io.body_optional), route.handler
        else:
            assert "requestBody" not in op, route.handler
    imports = operation(doc, next(r for r in ROUTES if r.handler == "projects_import"))
    assert {"application/zip", "application/gzip", "application/vnd.kiln+zip"} <= set(imports["requestBody"]["content"])
    assert {"201", "202"} <= set(imports["responses"])
    stream = operation(doc, next(r for r in ROUTES if r.handler == "events_stream"))
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    download = operation(doc, next(r for r in ROUTES if r.handler == "exports_download"))
    assert "Location" in download["responses"]["302"]["headers"]
    strict = operation(doc, next(r for r in ROUTES if r.handler == "operations_get"))
    assert {"200", "202", "409", "422"} <= set(strict["responses"])


def test_headers_of_the_contract_are_documented(doc):
    for route in ROUTES:
        op = operation(doc, route)
        for status, response in op["responses"].items():
            assert "X-Request-Id" in resolve(doc, response)["headers"], (route.handler, status)
        success = op["responses"][str(route.status)]
        if route.authorized and route.category != "none":  # POST /mcp: its tools' calls are metered
            assert {
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "RateLimit-Policy",
                "RateLimit",
            } <= set(success["headers"]), route.handler
            assert "Retry-After" in resolve(doc, op["responses"]["429"])["headers"]
        if route.authorized and route.method in MUTATING:
            assert {"$ref": "#/components/parameters/IdempotencyKey"} in op["parameters"], route.handler
            assert "Idempotent-Replayed" in success["headers"], route.handler
        if route.deprecated is not None:
            # Every answer of a deprecated route carries them, errors included (but API Gateway's
            # own 401, answered before any function runs).
            for status, response in op["responses"].items():
                if status != "401":
                    assert {"Deprecation", "Sunset", "Link"} <= set(resolve(doc, response)["headers"]), (
                        route.name,
                        status,
                    )
            assert route.deprecated.successor in op["description"]


def test_list_operations_answer_pagination(doc):
    for route in ROUTES:
        if route.handler.endswith("_list") and route.handler != "files_list":
            schema = operation(doc, route)["responses"]["200"]["content"]["application/json"]["schema"]
            assert "pagination" in schema["required"], route.handler
            assert schema["properties"]["data"]["type"] == "array", route.handler


# --- validity --------------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1.")
    try:
        from openapi_spec_validator import OpenAPIV31SpecValidator
    except ImportError:  # pragma: no cover - it comes with moto[apigateway]; the structural checks still run
        pytest.skip("openapi-spec-validator is not installed")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert not errors, "\n".join(errors[:20])


def test_every_reference_resolves(doc):
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                resolve(doc, {"$ref": node["$ref"]})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def test_every_schema_component_is_valid_json_schema(doc):
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_real_bodies_validate_against_their_schemas(doc):
    from kiln.domain.projects import Project, ProjectStatus

    project = Project(
        id=ids.new_id("project"),
        name="Demo",
        description="A demo.",
        status=ProjectStatus.DRAFT,
        createdAt="2025-11-25T10:00:00.000Z",
        updatedAt="2025-11-25T10:00:00.000Z",
    )
    get = "/paths/~1v1~1projects~1{projectId}/get/responses/200/content/application~1json/schema"
    validator(doc, get).validate(success_body(project.model_dump(mode="json")))
    listing = "/paths/~1v1~1projects/get/responses/200/content/application~1json/schema"
    validator(doc, listing).validate(
        {
            **success_body([project.model_dump(mode="json")]),
            "pagination": {"page": 1, "pageSize": 20, "total": 1, "totalPages": 1},
        }
    )
    validator(doc, listing).validate(
        {**success_body([]), "pagination": {"limit": 5, "nextCursor": None, "hasMore": False}}
    )
    envelope = validator(doc, "/components/schemas/ErrorEnvelope")
    for code in ErrorCode:
        envelope.validate(error_body(code, None, {"requestId": "r"}))
    with pytest.raises(ValidationError):
        validator(doc, get).validate({"success": True, "data": {"id": "nope"}})


def test_answers_of_the_pydantic_free_routes_fit_their_named_models(monkeypatch):
    """root and health answer plain dicts (their cold start loads no pydantic): their answers
    must still be what the models they name document."""
    from kiln.domain import views
    from kiln.handlers import health, root

    event = {"httpMethod": "GET", "resource": "/", "path": "/", "requestContext": {"requestId": "r"}}
    views.ServiceInfo.model_validate(json.loads(root.handler(event)["body"])["data"])
    monkeypatch.setattr(health, "_components", lambda: {"database": "ok", "storage": "unavailable", "workflows": "ok"})
    monkeypatch.setitem(health._cache, "at", -health.CACHE_SECONDS * 10)
    answer = health.handler({"requestContext": {"requestId": "r"}})
    assert answer["statusCode"] == 503
    assert views.HealthStatus.model_validate_json(answer["body"]).status == "degraded"
    views.OpenApiDocument.model_validate_json(COMMITTED.read_text(encoding="utf-8"))


def test_views_list_exactly_the_route_table_scopes():
    import typing

    from kiln.domain import views
    from kiln.routes import Scope

    assert typing.get_args(views.Scope) == typing.get_args(Scope)


# --- the two documentation handlers -------------------------------------------------------------


def test_openapi_handler_serves_the_committed_document_with_a_request_id():
    response = docs_openapi.handler({"headers": {"X-Request-Id": "req-1"}, "requestContext": {"requestId": "gw"}})
    assert response["statusCode"] == 200
    assert response["body"] == COMMITTED.read_text(encoding="utf-8")
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert response["headers"]["X-Request-Id"] == "req-1"
    insane = docs_openapi.handler({"headers": {"x-request-id": "bad id!"}, "requestContext": {"requestId": "gw"}})
    assert insane["headers"]["X-Request-Id"] == "gw"


def test_openapi_handler_generates_the_document_where_no_build_wrote_it():
    # The source tree (local cloud, tests) carries no packaged copy: the same document, generated.
    assert not (REPO / "functions" / openapi.PACKAGED).exists()
    docs_openapi.document.cache_clear()
    assert docs_openapi.document() == COMMITTED.read_text(encoding="utf-8")


def test_openapi_handler_cold_start_imports_no_pydantic(tmp_path):
    """As deployed: the build's copy of functions/ with the document packaged in it."""
    import shutil

    shipped = tmp_path / "functions"
    shutil.copytree(REPO / "functions", shipped, ignore=shutil.ignore_patterns("__pycache__"))
    openapi.package(shipped)
    code = (
        "import sys, kiln.handlers.docs_openapi as h, kiln.handlers.docs_ui as u, "
        "kiln.handlers.docs_assets as a; "
        "h.handler({}); u.handler({}); [a.handler({'pathParameters': {'asset': n}}) for n in a.ASSETS]; "
        "heavy = [m for m in ('pydantic', 'boto3', 'botocore', 'kiln.openapi') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(shipped), "PATH": "/usr/bin:/bin"},
    )


# --- errors.md --------------------------------------------------------------------------------


def test_errors_md_documents_every_code_with_its_status_and_type_uri():
    text = (REPO / "docs" / "errors.md").read_text(encoding="utf-8")
    for code in ErrorCode:
        slug = openapi.error_slug(code)
        section = text.split(f"\n## {slug}\n", 1)
        assert len(section) == 2, f"docs/errors.md has no section '## {slug}'"
        body = section[1].split("\n## ", 1)[0]
        assert f"Code: `{code.value}` · HTTP {CATALOG[code].status} · Type: `{openapi.error_type(code)}`" in body
        assert "What to do:" in body and "`details`" in body, code
        assert f"| [{code.value}](#{slug}) | {CATALOG[code].status} | `{openapi.error_type(code)}` |" in text


def test_document_names_the_type_uri_of_every_code(doc):
    types = doc["components"]["schemas"]["ErrorCode"]["x-error-types"]
    assert types == {code.value: openapi.error_type(code) for code in ErrorCode}


def test_the_document_builds_without_any_function_settings(tmp_path) -> None:
    """The CDK app packages the document at synthesis, where no function's settings exist: nothing
    the generator imports at module level may load them."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith(("KILN_", "AWS_"))}
    environ["PYTHONPATH"] = str(Path(openapi.__file__).resolve().parent.parent)
    (tmp_path / openapi.PACKAGED).parent.mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "kiln.openapi", "--package", str(tmp_path)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / openapi.PACKAGED).read_text())["openapi"].startswith("3.")

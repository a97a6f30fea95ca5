"""The pipeline runs a function behind its Contract: path ids, query and body validated from the
declaration, in that order, typed values handed over, a returned model answered and serialized."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from kiln.http import api
from kiln.http.contract import Answer, Contract, contract_of
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.routes import Route
from tests.unit.conftest import parse, proxy_event

PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
ROUTE = Route(
    "POST", "/v1/things/{projectId}", "things_create", "Create a thing", authorized=False, category="none", status=201
)


class ThingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dryRun: bool = False


class ThingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)


class Thing(BaseModel):
    id: str
    name: str
    note: str | None = None


seen: list[Any] = []


def create_thing(request: Request, query: ThingQuery, body: ThingCreate) -> Thing:
    seen.append((query, body))
    return Thing(id=request.path_params["projectId"], name=body.name)


CONTRACT = Contract(body=ThingCreate, query=ThingQuery, answers=(Answer(201, "Created.", Thing),))
handler = api.endpoint(create_thing, CONTRACT)


@pytest.fixture(autouse=True)
def the_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "find_route", lambda method, resource: ROUTE)
    seen.clear()


def call(
    *,
    project: str = PROJECT,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
    function: Any = None,
) -> tuple[int, dict[str, Any]]:
    event = proxy_event(
        "POST",
        ROUTE.path,
        f"/v1/things/{project}",
        body=body,
        raw_body=raw_body,
        query=query,
        path_params={"projectId": project},
        authorizer={},
    )
    return parse((function or handler)(event))


def test_the_function_gets_typed_values_and_its_model_is_answered_with_the_route_status():
    status, body = call(body={"name": "Lamp"}, query={"dryRun": "true"})
    assert status == 201
    # Serialized as every answer is (model_dump, JSON mode): the model's fields, nulls included.
    assert body == {"success": True, "data": {"id": PROJECT, "name": "Lamp", "note": None}}
    ((query, created),) = seen
    assert isinstance(query, ThingQuery) and query.dryRun is True
    assert isinstance(created, ThingCreate) and created.name == "Lamp"


def test_the_declaration_is_what_the_generator_reads():
    assert contract_of(handler) is CONTRACT


@pytest.mark.parametrize(
    ("kwargs", "field", "location"),
    [
        ({"project": "proj_nope", "body": {"name": ""}, "query": {"x": "1"}}, "projectId", "path"),
        ({"body": {"name": ""}, "query": {"x": "1"}}, "x", "query"),
        ({"body": {"name": "Lamp", "colour": "red"}}, "colour", "body"),
        ({"body": {"name": ""}}, "name", "body"),
    ],
)
def test_path_then_query_then_body_the_first_failure_answers_and_nothing_runs(kwargs, field, location):
    status, body = call(**kwargs)
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"
    assert [(f["field"], f["location"]) for f in body["error"]["details"]["fields"]] == [(field, location)]
    assert seen == []


def test_a_required_body_missing_and_a_wrong_media_type_are_refused():
    status, body = call()
    assert status == 400 and body["error"]["details"]["fields"][0]["type"] == "missing"
    event = proxy_event(
        "POST",
        ROUTE.path,
        f"/v1/things/{PROJECT}",
        raw_body="name=Lamp",
        headers={"Content-Type": "text/plain"},
        path_params={"projectId": PROJECT},
        authorizer={},
    )
    assert parse(handler(event))[0] == 415
    assert seen == []


def test_an_optional_body_is_its_defaults_when_absent():
    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

        force: bool = False

    def run(request: Request, body: Options) -> Response:
        return ok({"force": body.force}, 202)

    optional = api.endpoint(run, Contract(body=Options, body_optional=True, answers=(Answer(202),)))
    assert call(function=optional) == (202, {"success": True, "data": {"force": False}})
    assert call(function=optional, body={"force": True}) == (202, {"success": True, "data": {"force": True}})


def test_several_id_kinds_accept_any_of_them():
    def run(request: Request) -> Response:
        return ok({"id": request.path_params["projectId"]})

    either = api.endpoint(run, Contract(path={"projectId": ("run", "export")}, answers=(Answer(200),)))
    assert call(function=either, project="run_01m885m8rskqxxjknrtpgbxm1p")[0] == 200
    status, body = call(function=either, project=PROJECT)
    assert status == 400
    assert body["error"]["details"]["fields"][0]["message"] == "not the projectId of a run or export"

"""Projects handlers through the real pipeline, with moto behind the DynamoDB adapter."""

from __future__ import annotations

import os

import pytest

from kiln.handlers import projects_archive, projects_create, projects_get, projects_list, projects_update
from tests.unit.conftest import parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

ITEM = "/v1/projects/{projectId}"
OTHER_WORKSPACE = principal_context(workspace_id="ws_01m885m8rskqxxjknrtpgbxzzz")


def create(name: str = "My SaaS App", description: str = "A project management tool.", **kwargs) -> dict:
    status, body = parse(
        projects_create.handler(
            proxy_event("POST", "/v1/projects", body={"name": name, "description": description}, **kwargs)
        )
    )
    assert status == 201, body
    return body["data"]


def item_event(method: str, project_id: str, **kwargs) -> dict:
    return proxy_event(method, ITEM, f"/v1/projects/{project_id}", path_params={"projectId": project_id}, **kwargs)


def test_create_returns_draft_project_with_location():
    response = projects_create.handler(
        proxy_event("POST", "/v1/projects", body={"name": "  My SaaS App ", "description": "Task boards."})
    )
    status, body = parse(response)
    assert status == 201
    assert body["success"] is True
    project = body["data"]
    assert project["name"] == "My SaaS App"
    assert project["status"] == "draft"
    assert project["id"].startswith("proj_")
    assert project["createdAt"] == project["updatedAt"]
    assert response["headers"]["Location"] == f"/v1/projects/{project['id']}"
    assert response["headers"]["Content-Type"] == "application/json; charset=utf-8"


def test_get_returns_what_was_created():
    project = create()
    status, body = parse(projects_get.handler(item_event("GET", project["id"])))
    assert status == 200
    assert body["data"] == project


def test_other_workspace_sees_not_found_exactly_like_a_missing_id():
    project = create()
    missing = "proj_01m885m8rskqxxjknrtpgbxm1p"
    theirs = parse(projects_get.handler(item_event("GET", project["id"], authorizer=OTHER_WORKSPACE)))
    absent = parse(projects_get.handler(item_event("GET", missing, authorizer=OTHER_WORKSPACE)))
    assert theirs[0] == absent[0] == 404
    assert theirs[1]["error"]["code"] == absent[1]["error"]["code"] == "NOT_FOUND"
    assert theirs[1]["error"]["message"] == absent[1]["error"]["message"]
    assert set(theirs[1]["error"]["details"]) == set(absent[1]["error"]["details"])
    # Nor can they change or archive it.
    assert (
        parse(
            projects_update.handler(item_event("PATCH", project["id"], body={"name": "x"}, authorizer=OTHER_WORKSPACE))
        )[0]
        == 404
    )
    assert parse(projects_archive.handler(item_event("DELETE", project["id"], authorizer=OTHER_WORKSPACE)))[0] == 404
    assert parse(projects_get.handler(item_event("GET", project["id"])))[1]["data"] == project


def test_patch_changes_only_given_fields_and_bumps_updated_at():
    project = create()
    status, body = parse(projects_update.handler(item_event("PATCH", project["id"], body={"name": "Renamed"})))
    assert status == 200
    assert body["data"]["name"] == "Renamed"
    assert body["data"]["description"] == project["description"]
    assert body["data"]["updatedAt"] >= project["updatedAt"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "(body)"),
        ({"name": None}, "(body)"),
        ({"name": ""}, "name"),
        ({"name": 5}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_patch_rejects_bad_bodies_and_changes_nothing(payload, field):
    project = create()
    status, body = parse(projects_update.handler(item_event("PATCH", project["id"], body=payload)))
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert field in [f["field"] for f in body["error"]["details"]["fields"]]
    assert parse(projects_get.handler(item_event("GET", project["id"])))[1]["data"] == project


def test_archive_is_soft_idempotent_and_blocks_edits():
    project = create()
    status, body = parse(projects_archive.handler(item_event("DELETE", project["id"])))
    assert status == 200
    assert body["data"]["id"] == project["id"] and body["data"]["status"] == "archived"
    again = parse(projects_archive.handler(item_event("DELETE", project["id"])))
    assert again == (200, body)
    kept = parse(projects_get.handler(item_event("GET", project["id"])))[1]["data"]
    assert kept["status"] == "archived" and kept["name"] == project["name"]
    status, body = parse(projects_update.handler(item_event("PATCH", project["id"], body={"name": "x"})))
    assert status == 409
    assert body["error"]["code"] == "CONFLICT"
    assert body["error"]["details"]["currentStatus"] == "archived"
    assert "draft" in body["error"]["details"]["allowedFrom"]


@pytest.mark.parametrize(
    "event_kwargs, status, code",
    [
        ({"raw_body": "{not json", "headers": {"Content-Type": "application/json"}}, 400, "VALIDATION_ERROR"),
        ({"raw_body": "[1, 2]", "headers": {"Content-Type": "application/json"}}, 400, "VALIDATION_ERROR"),
        ({"raw_body": '{"name": NaN}', "headers": {"Content-Type": "application/json"}}, 400, "VALIDATION_ERROR"),
        (
            {"raw_body": "name=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ({"body": {"name": "x", "description": "y" * (1024 * 1024)}}, 413, "PAYLOAD_TOO_LARGE"),
        ({"body": {"name": "x", "description": "y", "owner": "me"}}, 400, "VALIDATION_ERROR"),
        ({"body": {"name": "x" * 201, "description": "y"}}, 400, "VALIDATION_ERROR"),
        ({"body": {"name": "x", "description": "y" * 10_001}}, 400, "VALIDATION_ERROR"),
        ({"body": {"name": ["x"], "description": "y"}}, 400, "VALIDATION_ERROR"),
        ({}, 400, "VALIDATION_ERROR"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(event_kwargs, status, code):
    got_status, body = parse(projects_create.handler(proxy_event("POST", "/v1/projects", **event_kwargs)))
    assert (got_status, body["error"]["code"]) == (status, code)
    assert body["success"] is False and body["data"] is None
    listing = parse(projects_list.handler(proxy_event("GET", "/v1/projects")))[1]
    assert listing["pagination"]["total"] == 0


def test_unknown_field_is_named_in_details():
    _, body = parse(
        projects_create.handler(
            proxy_event("POST", "/v1/projects", body={"name": "x", "description": "y", "owner": "me"})
        )
    )
    assert {"field": "owner", "location": "body", "message": "unknown field", "type": "extra_forbidden"} in body[
        "error"
    ]["details"]["fields"]


def test_payload_too_large_states_the_limit():
    _, body = parse(
        projects_create.handler(
            proxy_event("POST", "/v1/projects", body={"name": "x", "description": "y" * (1024 * 1024)})
        )
    )
    assert body["error"]["details"]["limitBytes"] == 1024 * 1024


@pytest.mark.parametrize(
    "bad_id", ["123", "proj_short", "PROJ_01m885m8rskqxxjknrtpgbxm1p", "proj_01m885m8rskqxxjknrtpgbxm1u"]
)
def test_path_ids_that_are_not_ids_are_validation_errors(bad_id):
    status, body = parse(projects_get.handler(item_event("GET", bad_id)))
    assert status == 400
    assert body["error"]["details"]["fields"][0]["field"] == "projectId"


def test_scope_is_enforced_from_the_route_table():
    read_only = principal_context(scopes="project:read")
    response = projects_create.handler(
        proxy_event("POST", "/v1/projects", body={"name": "x", "description": "y"}, authorizer=read_only)
    )
    status, body = parse(response)
    assert status == 403
    assert body["error"]["code"] == "FORBIDDEN"
    assert 'error="insufficient_scope"' in response["headers"]["WWW-Authenticate"]
    assert 'scope="project:write"' in response["headers"]["WWW-Authenticate"]


def test_path_allow_list_hides_routes_outside_it():
    project = create()
    limited = principal_context(allowed_paths=["/v1/projects"])
    status, body = parse(projects_get.handler(item_event("GET", project["id"], authorizer=limited)))
    assert (status, body["error"]["code"]) == (404, "ENDPOINT_NOT_FOUND")
    listed = parse(projects_list.handler(proxy_event("GET", "/v1/projects", authorizer=limited)))
    assert listed[0] == 200


def test_missing_authorizer_context_is_unauthorized():
    response = projects_get.handler(item_event("GET", "proj_01m885m8rskqxxjknrtpgbxm1p", authorizer={}))
    assert parse(response)[0] == 401
    assert response["headers"]["WWW-Authenticate"].startswith("Bearer")


def test_request_id_is_echoed_when_sane_and_replaced_when_not():
    sane = projects_list.handler(proxy_event("GET", "/v1/projects", headers={"X-Request-Id": "abc-123"}))
    assert sane["headers"]["X-Request-Id"] == "abc-123"
    insane = projects_list.handler(proxy_event("GET", "/v1/projects", headers={"x-request-id": "a b\nc"}))
    assert insane["headers"]["X-Request-Id"] != "a b\nc"


# --- listing ----------------------------------------------------------------------------


def list_projects(query=None, authorizer=None):
    return parse(projects_list.handler(proxy_event("GET", "/v1/projects", query=query, authorizer=authorizer)))


def test_page_mode_pages_newest_first_with_totals():
    made = [create(name=f"Project {i}")["id"] for i in range(5)]
    status, body = list_projects({"page": "1", "pageSize": "2"})
    assert status == 200
    assert body["pagination"] == {"page": 1, "pageSize": 2, "total": 5, "totalPages": 3}
    pages = [list_projects({"page": str(p), "pageSize": "2"})[1]["data"] for p in (1, 2, 3)]
    seen = [p["id"] for page in pages for p in page]
    assert seen == list(reversed(made))
    assert list_projects({"page": "4", "pageSize": "2"})[1]["data"] == []


def test_cursor_mode_walks_every_item_once():
    made = {create(name=f"Project {i}")["id"] for i in range(7)}
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        status, body = list_projects(query)
        assert status == 200
        seen += [p["id"] for p in body["data"]]
        pages += 1
        assert body["pagination"]["limit"] == 3
        cursor = body["pagination"]["nextCursor"]
        assert body["pagination"]["hasMore"] is (cursor is not None)
        if not cursor:
            break
    assert pages == 3 and len(seen) == 7 and set(seen) == made


def test_filters_by_status_and_search_case_insensitively():
    board = create(name="Task Board", description="kanban")
    create(name="Timer", description="Time tracking")
    archived = create(name="Old board")
    projects_archive.handler(item_event("DELETE", archived["id"]))
    assert [p["id"] for p in list_projects({"search": "BOARD"})[1]["data"]] == [board["id"]]
    assert [p["id"] for p in list_projects({"search": "tracking"})[1]["data"]] != [board["id"]]
    assert [p["id"] for p in list_projects({"status": "archived"})[1]["data"]] == [archived["id"]]
    assert list_projects()[1]["pagination"]["total"] == 2  # archived left out by default
    # search follows a rename
    projects_update.handler(item_event("PATCH", board["id"], body={"name": "Sprint planner"}))
    assert list_projects({"search": "board"})[1]["data"] == []
    assert list_projects({"search": "SPRINT", "limit": "5"})[1]["data"][0]["id"] == board["id"]


def test_cursor_mode_with_status_filter_uses_the_index():
    ids = [create(name=f"P{i}")["id"] for i in range(4)]
    status, body = list_projects({"status": "draft", "limit": "3"})
    assert [p["id"] for p in body["data"]] == list(reversed(ids))[:3]
    rest = list_projects({"status": "draft", "limit": "3", "cursor": body["pagination"]["nextCursor"]})[1]
    assert [p["id"] for p in rest["data"]] == [ids[0]]
    assert rest["pagination"]["hasMore"] is False


def test_lists_are_per_workspace():
    create()
    assert list_projects(authorizer=OTHER_WORKSPACE)[1]["pagination"]["total"] == 0


@pytest.mark.parametrize(
    "query, field",
    [
        ({"pageSize": "101"}, "pageSize"),
        ({"limit": "0"}, "limit"),
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"status": "sleeping"}, "status"),
        ({"sort": "name"}, "sort"),
        ({"page": "1", "limit": "5"}, "(body)"),
        ({"page": ["1", "2"]}, "page"),
    ],
)
def test_bad_list_queries_are_validation_errors(query, field):
    status, body = list_projects(query)
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]["fields"][0]["location"] == "query"


def _next_cursor(query=None, authorizer=None) -> str:
    for i in range(3):
        create(name=f"P{i}")
    return list_projects({"limit": "1", **(query or {})}, authorizer)[1]["pagination"]["nextCursor"]


def test_tampered_cursor_is_rejected():
    cursor = _next_cursor()
    payload, _, signature = cursor.partition(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    for bad in (forged, cursor + "x", "garbage", cursor.split(".")[0]):
        status, body = list_projects({"limit": "1", "cursor": bad})
        assert status == 400
        assert body["error"]["details"]["fields"][0]["field"] == "cursor"


def test_cursor_from_another_list_is_rejected():
    cursor = _next_cursor()
    assert list_projects({"limit": "1", "cursor": cursor, "status": "draft"})[0] == 400
    assert list_projects({"limit": "1", "cursor": cursor}, authorizer=OTHER_WORKSPACE)[0] == 400
    assert list_projects({"limit": "1", "cursor": cursor})[0] == 200


# A fresh process, as a Lambda container starts: a project is read and answered, then
# archived, through the real pipeline and the DynamoDB adapter (moto, in the process).
def fresh_process(script: str) -> dict:
    """Run `script` in a new Python process (a cold container's modules) and read the JSON it
    prints last."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[4]
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={**os.environ, "PYTHONPATH": f"{root / 'functions'}{os.pathsep}{root}"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


_COLD_READ_AND_ARCHIVE = """
import json, os, sys
from moto import mock_aws
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "KILN_TABLE_NAME": "kiln-cold", "KILN_BUCKET_NAME": "kiln-cold", "KILN_ENVIRONMENT": "local",
})
os.environ.pop("AWS_ENDPOINT_URL", None)
with mock_aws():
    import boto3
    from kiln.adapters.dynamodb.projects import ProjectStore
    from kiln.adapters.schema import create_table_kwargs
    from kiln.domain.project_records import ProjectRecord, ProjectStatus
    from local import atomic

    atomic.install()
    boto3.client("dynamodb").create_table(**create_table_kwargs("kiln-cold"))
    workspace, project_id = "ws_01m885m8rskqxxjknrtpgbxm1p", "proj_01m885m8rskqxxjknrtpgbxm1p"
    stamp = "2026-11-25T12:00:00.000Z"
    ProjectStore().insert(workspace, ProjectRecord(project_id, "Cold", "Read cold.", ProjectStatus.DRAFT, stamp, stamp))
    from kiln.handlers import projects_archive, projects_get

    def event(method):
        return {
            "resource": "/v1/projects/{projectId}", "path": "/v1/projects/" + project_id, "httpMethod": method,
            "headers": None, "multiValueHeaders": None, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": {"projectId": project_id},
            "body": None, "isBase64Encoded": False,
            "requestContext": {"requestId": "r", "authorizer": {
                "workspaceId": workspace, "keyId": "key_01m885m8rskqxxjknrtpgbxm1q",
                "scopes": "project:read project:write", "tier": "pro", "allowedPaths": "[]"}},
        }

    answers = [projects_get.handler(event("GET"), None), projects_archive.handler(event("DELETE"), None)]
print(json.dumps({
    "answers": [[a["statusCode"], json.loads(a["body"])["data"]] for a in answers],
    # pydantic and the projects' models; the keys' and the credential chain's modules (the
    # principal comes from the authorizer context, kiln.domain.principals).
    "needless": sorted(
        set(sys.modules)
        & {"pydantic", "pydantic_core", "kiln.domain.projects", "kiln.domain.access", "kiln.domain.authentication"}
    ),
}))
"""


def test_a_cold_get_and_delete_answer_without_loading_pydantic():
    """GET and DELETE of a project answer from a ProjectRecord: their cold start skips pydantic,
    and the caller's principal is read without the key and credential modules."""
    seen = fresh_process(_COLD_READ_AND_ARCHIVE)
    (get_status, read), (delete_status, archived) = seen["answers"]
    assert (get_status, delete_status) == (200, 200)
    assert read["name"] == "Cold" and read["status"] == "draft" and read["specVersion"] is None
    assert archived["id"] == read["id"] and archived["status"] == "archived" and archived["archivedAt"]
    assert seen["needless"] == []


# The same fresh process for POST and PATCH: a project is created, refused a bad body, renamed.
_COLD_CREATE_AND_UPDATE = (
    _COLD_READ_AND_ARCHIVE.split("    from kiln.handlers import")[0]
    + """
    from kiln.handlers import projects_create, projects_update

    def event(method, resource, body, path_parameters=None):
        return {
            "resource": resource, "path": resource, "httpMethod": method,
            "headers": {"Content-Type": "application/json"}, "multiValueHeaders": None,
            "queryStringParameters": None, "multiValueQueryStringParameters": None,
            "pathParameters": path_parameters, "body": json.dumps(body), "isBase64Encoded": False,
            "requestContext": {"requestId": "r", "authorizer": {
                "workspaceId": workspace, "keyId": "key_01m885m8rskqxxjknrtpgbxm1q",
                "scopes": "project:read project:write", "tier": "pro", "allowedPaths": "[]"}},
        }

    created = projects_create.handler(event("POST", "/v1/projects", {"name": " New ", "description": "Made."}), None)
    refused = projects_create.handler(event("POST", "/v1/projects", {"name": "", "colour": "red"}), None)
    renamed = projects_update.handler(
        event("PATCH", "/v1/projects/{projectId}", {"name": "Renamed"}, {"projectId": project_id}), None
    )
    answers = [created, refused, renamed]
print(json.dumps({
    "answers": [[a["statusCode"], json.loads(a["body"])] for a in answers],
    "needless": sorted(set(sys.modules) & {"pydantic", "pydantic_core", "kiln.domain.projects"}),
}))
"""
)


def test_a_cold_create_and_update_answer_without_loading_pydantic():
    """POST and PATCH check their bodies as ProjectCreate and ProjectUpdate would
    (kiln.domain.project_bodies) and answer ProjectRecords: their cold start skips pydantic."""
    seen = fresh_process(_COLD_CREATE_AND_UPDATE)
    (created_status, created), (refused_status, refused), (renamed_status, renamed) = seen["answers"]
    assert created_status == 201 and created["data"]["name"] == "New" and created["data"]["status"] == "draft"
    assert refused_status == 400 and refused["error"]["code"] == "VALIDATION_ERROR"
    assert [(f["field"], f["type"]) for f in refused["error"]["details"]["fields"]] == [
        ("name", "too_short"),
        ("description", "missing"),
        ("colour", "extra_forbidden"),
    ]
    assert renamed_status == 200 and renamed["data"]["name"] == "Renamed"
    assert seen["needless"] == []


# The same fresh process for the list: page mode, cursor mode followed to its second page with
# the cursor it issued, and a refused query.
_COLD_LIST = (
    _COLD_READ_AND_ARCHIVE.split("    from kiln.handlers import")[0]
    + """
    ProjectStore().insert(workspace, ProjectRecord(
        "proj_01m885m8rskqxxjknrtpgbxm2p", "Second", "Listed cold.", ProjectStatus.DRAFT, stamp, stamp))
    secret = boto3.client("secretsmanager").create_secret(Name="kiln-cold-cursors", SecretString="k" * 32)
    os.environ["KILN_CURSOR_SECRET_ARN"] = secret["ARN"]
    from kiln.handlers import projects_list

    def event(query):
        return {
            "resource": "/v1/projects", "path": "/v1/projects", "httpMethod": "GET",
            "headers": None, "multiValueHeaders": None, "queryStringParameters": query,
            "multiValueQueryStringParameters": None, "pathParameters": None,
            "body": None, "isBase64Encoded": False,
            "requestContext": {"requestId": "r", "authorizer": {
                "workspaceId": workspace, "keyId": "key_01m885m8rskqxxjknrtpgbxm1q",
                "scopes": "project:read project:write", "tier": "pro", "allowedPaths": "[]"}},
        }

    paged = projects_list.handler(event({"page": " 1 ", "pageSize": "1_0", "status": "draft"}), None)
    first = projects_list.handler(event({"limit": "1", "search": "cold"}), None)
    cursor = json.loads(first["body"])["pagination"]["nextCursor"]
    second = projects_list.handler(event({"limit": "1", "search": "cold", "cursor": cursor}), None)
    refused = projects_list.handler(event({"page": "1", "cursor": cursor, "sort": "name"}), None)
    answers = [paged, first, second, refused]
print(json.dumps({
    "answers": [[a["statusCode"], json.loads(a["body"])] for a in answers],
    "needless": sorted(set(sys.modules) & {"pydantic", "pydantic_core", "kiln.domain.projects"}),
}))
"""
)


def test_a_cold_list_answers_without_loading_pydantic():
    """The list checks its query as ProjectListParams would (kiln.http.list_query) and answers
    ProjectRecords: its cold start skips pydantic, in both modes and when it refuses a query."""
    seen = fresh_process(_COLD_LIST)
    (paged_status, paged), (first_status, first), (second_status, second), (refused_status, refused) = seen["answers"]
    assert (paged_status, first_status, second_status) == (200, 200, 200)
    assert sorted(p["name"] for p in paged["data"]) == ["Cold", "Second"]
    assert paged["pagination"] == {"page": 1, "pageSize": 10, "total": 2, "totalPages": 1}
    assert len(first["data"]) == len(second["data"]) == 1 and first["pagination"]["hasMore"]
    assert {first["data"][0]["name"], second["data"][0]["name"]} == {"Cold", "Second"}
    assert second["pagination"]["hasMore"] is False
    assert refused_status == 400 and refused["error"]["code"] == "VALIDATION_ERROR"
    assert [(f["field"], f["type"]) for f in refused["error"]["details"]["fields"]] == [("sort", "extra_forbidden")]
    assert seen["needless"] == []

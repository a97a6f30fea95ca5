"""The projects API over real HTTP against the local cloud, as a client would use it."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


@pytest.fixture
def http(local_cloud):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {local_cloud.admin_key}"
    session.base = local_cloud.url  # type: ignore[attr-defined]
    yield session
    session.close()


def call(http, method: str, path: str, **kwargs) -> requests.Response:
    return http.request(method, http.base + path, timeout=30, **kwargs)


def test_full_lifecycle(http):
    created = call(
        http,
        "POST",
        "/v1/projects",
        json={
            "name": "My SaaS App",
            "description": (
                "A project management tool with team collaboration features, task boards, and time tracking."
            ),
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == "application/json; charset=utf-8"
    assert created.headers["X-Request-Id"]
    project = created.json()["data"]
    assert created.headers["Location"] == f"/v1/projects/{project['id']}"
    assert project["status"] == "draft"

    fetched = call(http, "GET", f"/v1/projects/{project['id']}")
    assert fetched.status_code == 200 and fetched.json() == {"success": True, "data": project}

    patched = call(http, "PATCH", f"/v1/projects/{project['id']}", json={"description": "Task boards only."})
    assert patched.status_code == 200
    assert patched.json()["data"]["description"] == "Task boards only."

    found = call(http, "GET", "/v1/projects", params={"search": "task BOARDS"})
    assert project["id"] in [p["id"] for p in found.json()["data"]]

    archived = call(http, "DELETE", f"/v1/projects/{project['id']}")
    assert archived.status_code == 200
    assert archived.json()["data"]["status"] == "archived"
    listed = call(http, "GET", "/v1/projects", params={"pageSize": 100}).json()["data"]
    assert project["id"] not in [p["id"] for p in listed]
    only_archived = call(http, "GET", "/v1/projects", params={"status": "archived", "limit": 100}).json()
    assert project["id"] in [p["id"] for p in only_archived["data"]]
    assert only_archived["pagination"]["hasMore"] is False


def test_page_and_cursor_modes_agree(http):
    marker = "pagination-marker-7f3a"
    made = [
        call(http, "POST", "/v1/projects", json={"name": f"P{i}", "description": marker}).json()["data"]["id"]
        for i in range(5)
    ]
    page = call(http, "GET", "/v1/projects", params={"search": marker, "page": 1, "pageSize": 2}).json()
    assert page["pagination"] == {"page": 1, "pageSize": 2, "total": 5, "totalPages": 3}
    seen, cursor = [], None
    while True:
        params = {"search": marker, "limit": 2} | ({"cursor": cursor} if cursor else {})
        body = call(http, "GET", "/v1/projects", params=params).json()
        seen += [p["id"] for p in body["data"]]
        cursor = body["pagination"]["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))


def test_bad_input_gets_catalog_errors(http):
    cases = [
        (
            call(http, "POST", "/v1/projects", data="{oops", headers={"Content-Type": "application/json"}),
            400,
            "VALIDATION_ERROR",
        ),
        (call(http, "POST", "/v1/projects", json={"name": 3, "description": "x"}), 400, "VALIDATION_ERROR"),
        (
            call(http, "POST", "/v1/projects", json={"name": "x", "description": "y", "extra": 1}),
            400,
            "VALIDATION_ERROR",
        ),
        (
            call(http, "POST", "/v1/projects", data="name=x", headers={"Content-Type": "text/plain"}),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            call(http, "POST", "/v1/projects", json={"name": "x", "description": "y" * (1024 * 1024 + 1)}),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (call(http, "GET", "/v1/projects/not-an-id"), 400, "VALIDATION_ERROR"),
        (call(http, "GET", "/v1/projects/proj_01m885m8rskqxxjknrtpgbxm1p"), 404, "NOT_FOUND"),
        (call(http, "GET", "/v1/projects", params={"pageSize": 101}), 400, "VALIDATION_ERROR"),
        (call(http, "GET", "/v1/projects", params={"limit": 5, "cursor": "forged.cursor"}), 400, "VALIDATION_ERROR"),
        (call(http, "GET", "/v1/nothing-here"), 404, "ENDPOINT_NOT_FOUND"),
        (call(http, "PUT", "/v1/projects"), 405, "METHOD_NOT_ALLOWED"),
    ]
    for response, status, code in cases:
        body = response.json()
        assert (response.status_code, body["error"]["code"]) == (status, code), response.text[:300]
        assert body["success"] is False and body["data"] is None
        assert response.headers["X-Request-Id"]
    assert call(http, "GET", "/v1/projects", params={"search": "oops"}).json()["data"] == []


@pytest.mark.parametrize("authorization", [None, "Bearer garbage", "Bearer kiln_" + "A" * 43, "Basic abc"])
def test_bad_credentials_are_unauthorized(local_cloud, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(local_cloud.url + "/v1/projects", headers=headers, timeout=30)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_service_endpoints_need_no_key(local_cloud):
    health = requests.get(local_cloud.url + "/health", timeout=30)
    assert health.status_code == 200
    assert health.json()["components"] == {"database": "ok", "storage": "ok", "workflows": "ok"}
    root = requests.get(local_cloud.url + "/", timeout=30).json()
    assert root["data"]["name"] == "kiln"


def test_client_request_id_is_echoed(http):
    response = call(http, "GET", "/v1/projects", headers={"X-Request-Id": "trace-42"})
    assert response.headers["X-Request-Id"] == "trace-42"


def test_concurrent_archive_and_patch_never_leave_an_edited_archive(http):
    project = call(http, "POST", "/v1/projects", json={"name": "Race", "description": "d"}).json()["data"]
    path = f"/v1/projects/{project['id']}"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        patches = [pool.submit(call, http, "PATCH", path, json={"name": f"n{i}"}) for i in range(6)]
        archive = pool.submit(call, http, "DELETE", path)
        statuses = [f.result().status_code for f in patches]
    assert archive.result().status_code == 200
    assert set(statuses) <= {200, 409}
    final = call(http, "GET", path).json()["data"]
    assert final["status"] == "archived"


def test_the_list_query_is_read_and_refused_as_documented(http):
    marker = "list-query-marker-51c2"
    for i in range(3):
        call(http, "POST", "/v1/projects", json={"name": f"Q{i}", "description": marker})
    # Query values arrive as strings: spaces around a number, underscores and a zero fraction read.
    page = call(http, "GET", "/v1/projects", params={"search": marker, "page": " 2 ", "pageSize": "1_0.0"})
    assert page.status_code == 200, page.text
    assert page.json()["pagination"] == {"page": 2, "pageSize": 10, "total": 3, "totalPages": 1}
    refused = call(
        http, "GET", "/v1/projects", params={"status": "Draft", "pageSize": "1.5", "search": "", "sort": "name"}
    )
    assert refused.status_code == 400
    fields = refused.json()["error"]["details"]["fields"]
    assert [(f["field"], f["type"]) for f in fields] == [
        ("pageSize", "int_parsing"),
        ("status", "enum"),
        ("search", "string_too_short"),
        ("sort", "extra_forbidden"),
    ]
    both = call(http, "GET", "/v1/projects", params={"page": 1, "limit": 5})
    assert both.status_code == 400
    assert both.json()["error"]["details"]["fields"][0]["message"].startswith("use either page/pageSize")
    assert call(http, "GET", "/v1/projects", params={"search": marker}).json()["pagination"]["total"] == 3

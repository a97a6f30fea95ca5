"""The read-only files API through its handlers, over a repository seeded with moto behind it."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kiln import services
from kiln.domain.repository import Author, Commit, Repository
from kiln.handlers import files_get, files_list, projects_create
from kiln.handlers.files_get import FILE_LIMIT_BYTES
from tests.unit.conftest import parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

WORKSPACE = principal_context()["workspaceId"]
OTHER_WORKSPACE = principal_context(workspace_id="ws_01m885m8rskqxxjknrtpgbxzzz")
AUTHOR = Author("Kiln Builder", "builder@kiln.dev")
PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"


def repository(workspace_id: str, project_id: str) -> Repository:
    """A project's repository as the handlers and workers get it: from the composition root."""
    return services.current().repository(workspace_id, project_id)


def create_project() -> str:
    status, body = parse(
        projects_create.handler(proxy_event("POST", "/v1/projects", body={"name": "App", "description": "An app."}))
    )
    assert status == 201, body
    return body["data"]["id"]


def seed(project_id: str) -> tuple[Commit, Commit]:
    repo = repository(WORKSPACE, project_id)
    first = repo.commit(
        "main",
        {
            "README.md": b"# App\n",
            "src/app.py": b"print('hi')\n",
            "src/lib/util.py": b"",
            "assets/logo.png": PNG,
            "docs/café notes.md": "déjà vu\n".encode(),
        },
        "Scaffold",
        AUTHOR,
    )
    second = repo.commit(
        "feat/task-001-greeting", {"src/app.py": b"print('hello')\n"}, "Greet", AUTHOR, parent=first.id
    )
    return first, second


def list_files(project_id: str, query: dict[str, Any] | None = None, **kwargs: Any) -> tuple[int, dict]:
    return parse(
        files_list.handler(
            proxy_event(
                "GET",
                "/v1/projects/{projectId}/files",
                f"/v1/projects/{project_id}/files",
                path_params={"projectId": project_id},
                query=query,
                **kwargs,
            )
        )
    )


def get_file(project_id: str, path: str, query: dict[str, Any] | None = None, **kwargs: Any) -> tuple[int, dict]:
    return parse(
        files_get.handler(
            proxy_event(
                "GET",
                "/v1/projects/{projectId}/files/{path+}",
                f"/v1/projects/{project_id}/files/{path}",
                path_params={"projectId": project_id, "path": path},
                query=query,
                **kwargs,
            )
        )
    )


@pytest.fixture
def project() -> tuple[str, Commit, Commit]:
    project_id = create_project()
    return (project_id, *seed(project_id))


def test_list_root_of_main_by_default(project):
    project_id, first, _ = project
    status, body = list_files(project_id)
    assert status == 200, body
    assert body["data"] == {
        "ref": "main",
        "commit": first.id,
        "path": "/",
        "entries": [
            {"name": "assets", "type": "directory"},
            {"name": "docs", "type": "directory"},
            {"name": "src", "type": "directory"},
            {"name": "README.md", "type": "file", "size": 6},
        ],
    }


def test_list_a_subdirectory_at_a_branch_and_at_a_sha(project):
    project_id, first, second = project
    status, body = list_files(project_id, {"ref": "feat/task-001-greeting", "path": "/src/"})
    assert status == 200, body
    assert body["data"]["path"] == "src"
    assert body["data"]["commit"] == second.id
    assert body["data"]["entries"] == [
        {"name": "lib", "type": "directory"},
        {"name": "app.py", "type": "file", "size": 15},
    ]
    status, body = list_files(project_id, {"ref": first.id, "path": "src"})
    assert status == 200
    assert (body["data"]["ref"], body["data"]["commit"]) == (first.id, first.id)
    assert body["data"]["entries"][1] == {"name": "app.py", "type": "file", "size": 12}


def test_read_a_text_file_by_branch_and_by_sha(project):
    project_id, first, second = project
    status, body = get_file(project_id, "src/app.py")
    assert status == 200, body
    assert body["data"] == {
        "path": "src/app.py",
        "ref": "main",
        "commit": first.id,
        "content": "print('hi')\n",
        "encoding": "utf-8",
        "size": 12,
    }
    _, body = get_file(project_id, "src/app.py", {"ref": "feat/task-001-greeting"})
    assert body["data"]["content"] == "print('hello')\n" and body["data"]["commit"] == second.id
    _, body = get_file(project_id, "src/app.py", {"ref": second.id.upper()})
    assert body["data"]["content"] == "print('hello')\n"
    status, body = get_file(project_id, "docs/café notes.md")
    assert status == 200 and body["data"]["content"] == "déjà vu\n"
    status, body = get_file(project_id, "src/lib/util.py")
    assert status == 200 and body["data"]["content"] == "" and body["data"]["size"] == 0


def test_binary_files_come_base64_encoded(project):
    project_id, _, _ = project
    status, body = get_file(project_id, "assets/logo.png")
    assert status == 200
    assert body["data"]["encoding"] == "base64"
    assert base64.b64decode(body["data"]["content"]) == PNG
    assert body["data"]["size"] == len(PNG)


def test_invalid_utf8_is_base64_too():
    project_id = create_project()
    repository(WORKSPACE, project_id).commit("main", {"latin1.txt": "caf\u00e9".encode("latin-1")}, "x", AUTHOR)
    _, body = get_file(project_id, "latin1.txt")
    assert body["data"]["encoding"] == "base64"
    assert base64.b64decode(body["data"]["content"]) == b"caf\xe9"


@pytest.mark.parametrize("path", ["../etc/passwd", "src/../../x", "src/./app.py", ".git/config", "a//b", "a\\b"])
def test_bad_paths_are_validation_errors(project, path):
    project_id, _, _ = project
    status, body = get_file(project_id, path)
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    [problem] = body["error"]["details"]["fields"]
    assert (problem["field"], problem["location"], problem["type"]) == ("path", "path", "invalid_path")
    assert problem["message"]
    status, body = list_files(project_id, {"path": path})
    assert status == 400
    assert body["error"]["details"]["fields"][0]["location"] == "query"


def test_unknown_ref_is_not_found(project):
    project_id, _, _ = project
    for ref in ("develop", "0" * 40):
        status, body = list_files(project_id, {"ref": ref})
        assert status == 404
        assert body["error"]["code"] == "NOT_FOUND"
        assert body["error"]["details"] == {"resource": "ref", "id": ref}
        status, body = get_file(project_id, "README.md", {"ref": ref})
        assert (status, body["error"]["details"]["resource"]) == (404, "ref")


def test_a_blob_or_tree_sha_is_not_a_ref(project):
    project_id, first, _ = project
    status, body = get_file(project_id, "README.md", {"ref": first.tree})
    assert (status, body["error"]["details"]["resource"]) == (404, "ref")


@pytest.mark.parametrize("ref", ["bad ref", "a..b", "x" * 201, ""])
def test_malformed_refs_are_validation_errors(project, ref):
    project_id, _, _ = project
    status, body = list_files(project_id, {"ref": ref})
    assert status == 400
    assert body["error"]["details"]["fields"][0]["field"] == "ref"


def test_missing_paths_are_not_found(project):
    project_id, _, _ = project
    status, body = get_file(project_id, "src/missing.py")
    assert status == 404 and body["error"]["details"] == {"resource": "file", "id": "src/missing.py"}
    status, body = list_files(project_id, {"path": "nowhere"})
    assert status == 404 and body["error"]["details"] == {"resource": "directory", "id": "nowhere"}


def test_reading_a_directory_or_listing_a_file_is_a_validation_error(project):
    project_id, _, _ = project
    status, body = get_file(project_id, "src")
    assert status == 400
    assert body["error"]["details"]["fields"][0]["field"] == "path"
    assert body["error"]["details"]["fields"][0]["type"] == "is_a_directory"
    status, body = list_files(project_id, {"path": "README.md"})
    assert status == 400
    assert body["error"]["details"]["fields"][0]["type"] == "not_a_directory"


def test_another_workspace_sees_nothing(project):
    project_id, _, _ = project
    missing = "proj_01m885m8rskqxxjknrtpgbxm1p"
    theirs = list_files(project_id, authorizer=OTHER_WORKSPACE)
    absent = list_files(missing)
    assert theirs[0] == absent[0] == 404
    assert theirs[1]["error"]["details"]["resource"] == absent[1]["error"]["details"]["resource"] == "project"
    status, body = get_file(project_id, "README.md", authorizer=OTHER_WORKSPACE)
    assert (status, body["error"]["details"]["resource"]) == (404, "project")


def test_a_project_without_commits_has_no_main():
    project_id = create_project()
    status, body = list_files(project_id)
    assert (status, body["error"]["details"]["resource"]) == (404, "ref")


@pytest.mark.parametrize("query", [{"colour": "red"}, {"ref": "main", "path": "/"}, {"ref": ["main", "main"]}])
def test_query_parameters_are_checked(project, query):
    project_id, _, _ = project
    status, body = get_file(project_id, "README.md", query)
    assert status == 400
    assert body["error"]["code"] == "VALIDATION_ERROR"
    field = body["error"]["details"]["fields"][0]
    assert field["location"] == "query"
    if "colour" in query:
        assert (field["field"], field["type"]) == ("colour", "extra_forbidden")
        assert list_files(project_id, query)[0] == 400


def test_a_bad_project_id_is_a_validation_error():
    status, body = get_file("proj_nope", "README.md")
    assert status == 400
    assert body["error"]["details"]["fields"][0]["field"] == "projectId"


def test_files_over_the_response_limit_are_refused_with_a_pointer_to_exports():
    project_id = create_project()
    repository(WORKSPACE, project_id).commit(
        "main", {"big.bin": b"\1" * (FILE_LIMIT_BYTES + 1), "edge.bin": b"\xff" * FILE_LIMIT_BYTES}, "big", AUTHOR
    )
    status, body = get_file(project_id, "big.bin")
    assert status == 413
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert body["error"]["details"]["limitBytes"] == FILE_LIMIT_BYTES
    assert "export" in body["error"]["message"]
    response = files_get.handler(
        proxy_event(
            "GET",
            "/v1/projects/{projectId}/files/{path+}",
            f"/v1/projects/{project_id}/files/edge.bin",
            path_params={"projectId": project_id, "path": "edge.bin"},
        )
    )
    assert response["statusCode"] == 200
    assert len(response["body"]) < 6_000_000


def test_text_that_would_escape_past_the_response_limit_is_sent_as_base64():
    project_id = create_project()
    control = b"\x01" * (1024 * 1024)  # valid UTF-8, but every byte escapes to six characters
    repository(WORKSPACE, project_id).commit("main", {"ctl.txt": control}, "x", AUTHOR)
    _, body = get_file(project_id, "ctl.txt")
    assert body["data"]["encoding"] == "base64"
    assert base64.b64decode(body["data"]["content"]) == control


def test_read_scope_is_enough_and_required(project):
    project_id, _, _ = project
    assert get_file(project_id, "README.md", authorizer=principal_context(scopes="project:read"))[0] == 200
    status, body = list_files(project_id, authorizer=principal_context(scopes="project:write"))
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")

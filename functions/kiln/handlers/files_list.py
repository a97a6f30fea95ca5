"""GET /v1/projects/{projectId}/files?ref=main&path=/: one directory of the project's repository.

Answers `{ref, commit, path, entries: [{name, type: file|dir, size?}]}`: directories first,
then files, each sorted by name; `size` (bytes) is given for files only. `ref` is a branch or
a full commit sha, `commit` the sha it resolved to. Repository paths never start with "/";
the root directory is "/".
"""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from kiln import services
from kiln.domain.repository import (
    DEFAULT_BRANCH,
    MAX_REF_LENGTH,
    Entry,
    InvalidPath,
    NotADirectory,
    PathNotFound,
    RefNotFound,
    normalize_dir,
    validate_ref,
)
from kiln.envelope import not_found, validation_error
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok

Ref = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REF_LENGTH), AfterValidator(validate_ref)]


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref = DEFAULT_BRANCH
    path: str = "/"


def _path_error(message: str, kind: str) -> Exception:
    return validation_error([{"field": "path", "location": "query", "message": message, "type": kind}])


def _entry(entry: Entry) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": entry.name, "type": entry.type}
    if entry.size is not None:
        shown["size"] = entry.size
    return shown


def list_files(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    query = request.query_as(ListQuery)
    try:
        path = normalize_dir(query.path)
    except InvalidPath as error:
        raise _path_error(error.reason, "invalid_path") from None
    shown = path or "/"
    services.projects().get(request.workspace_id, project_id)  # 404 unless the caller's workspace owns it
    repo = services.repository(request.workspace_id, project_id)
    try:
        commit = repo.resolve(query.ref)
        entries = repo.list_dir(commit, path)
    except RefNotFound:
        raise not_found("ref", query.ref) from None
    except PathNotFound:
        raise not_found("directory", shown) from None
    except NotADirectory:
        raise _path_error(f"{shown} is a file, not a directory; read it at /files/{shown}", "not_a_directory") from None
    return ok({"ref": query.ref, "commit": commit, "path": shown, "entries": [_entry(e) for e in entries]})


handler = endpoint(list_files)

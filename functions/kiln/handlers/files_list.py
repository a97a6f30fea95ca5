"""GET /v1/projects/{projectId}/files?ref=main&path=/: one directory of the project's repository.

Answers `{ref, commit, path, entries: [{name, type: directory|file, size?}]}`: directories first,
then files, each sorted by name; `size` (bytes) is given for files only. `ref` is a branch or
a full commit sha, `commit` the sha it resolved to. Repository paths never start with "/";
the root directory is "/".
"""

from pydantic import BaseModel, ConfigDict

from kiln import services
from kiln.domain.repository import DEFAULT_BRANCH, Entry, InvalidPath, NotADirectory, PathNotFound, normalize_dir
from kiln.domain.views import Directory, DirectoryEntry
from kiln.envelope import not_found
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.files import Ref, path_error
from kiln.http.request import Request
from kiln.http.response import Response, ok


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref = DEFAULT_BRANCH
    path: str = "/"


def _path_error(message: str, kind: str) -> Exception:
    return path_error(message, kind, "query")


def _entry(entry: Entry) -> DirectoryEntry:
    return DirectoryEntry(name=entry.name, type=entry.type, size=entry.size)


def list_files(request: Request, query: ListQuery) -> Response:
    project_id = request.path_id("projectId", "project")
    try:
        path = normalize_dir(query.path)
    except InvalidPath as error:
        raise _path_error(error.reason, "invalid_path") from None
    shown = path or "/"
    repo, commit = services.current().files.at(request.workspace_id, project_id, query.ref)
    try:
        entries = repo.list_dir(commit, path)
    except PathNotFound:
        raise not_found("directory", shown) from None
    except NotADirectory:
        raise _path_error(f"{shown} is a file, not a directory; read it at /files/{shown}", "not_a_directory") from None
    return ok(Directory(ref=query.ref, commit=commit, path=shown, entries=[_entry(e) for e in entries]))


handler = endpoint(list_files, Contract(query=ListQuery, answers=(Answer(200, model=Directory),)))

"""GET /v1/projects/{projectId}/files/{path+}?ref=main: one file of the project's repository.

Answers `{path, ref, commit, content, encoding, size}`: `encoding` is "utf-8" when the bytes
are UTF-8 text without NUL bytes (content is the text), else "base64". API Gateway passes
`{path+}` URL-decoded. Files over FILE_LIMIT_BYTES are refused with 413: a Lambda response
stops at 6 MB, so such files leave through an export of the project.
"""

import base64
import json

from pydantic import BaseModel, ConfigDict

from kiln import services
from kiln.domain.repository import DEFAULT_BRANCH, InvalidPath, IsADirectory, PathNotFound, normalize_path
from kiln.domain.views import RepositoryFile
from kiln.envelope import ErrorCode, KilnError, not_found
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.files import Ref, path_error
from kiln.http.request import Request
from kiln.http.response import Response, ok

FILE_LIMIT_BYTES = 4 * 1024 * 1024
# The content as it travels inside the Lambda proxy response (escaped for the JSON body, then
# again for the response document) must leave room under Lambda's 6 MB. Base64 of a 4 MiB
# file is 5.6 MB and needs no escaping; text full of quotes or control characters can grow
# much more when escaped, so past this it is sent as base64 instead.
_MAX_ESCAPED_TEXT = 5_600_000


class GetQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref = DEFAULT_BRANCH


def _path_error(message: str, kind: str) -> Exception:
    return path_error(message, kind, "path")


def _encoded(data: bytes) -> tuple[str, str]:
    if b"\0" not in data:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Escaping grows text at most 6x per pass: only large files need measuring.
            if len(data) * 36 <= _MAX_ESCAPED_TEXT or len(json.dumps(json.dumps(text))) <= _MAX_ESCAPED_TEXT:
                return text, "utf-8"
    return base64.b64encode(data).decode("ascii"), "base64"


def get_file(request: Request, query: GetQuery) -> Response:
    project_id = request.path_id("projectId", "project")
    try:
        path = normalize_path(request.path_params.get("path") or "")
    except InvalidPath as error:
        raise _path_error(error.reason, "invalid_path") from None
    repo, commit = services.current().files.at(request.workspace_id, project_id, query.ref)
    try:
        data = repo.read_file(commit, path)
    except PathNotFound:
        raise not_found("file", path) from None
    except IsADirectory:
        raise _path_error(f"{path} is a directory; list it with /files?path={path}", "is_a_directory") from None
    if len(data) > FILE_LIMIT_BYTES:
        raise KilnError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            "The file is over 4 MiB, too large for an API response; download it with an export of the project.",
            {"limitBytes": FILE_LIMIT_BYTES, "sizeBytes": len(data), "path": path},
        )
    content, encoding = _encoded(data)
    return ok(
        RepositoryFile(path=path, ref=query.ref, commit=commit, content=content, encoding=encoding, size=len(data))
    )


handler = endpoint(
    get_file,
    Contract(
        query=GetQuery,
        answers=(Answer(200, model=RepositoryFile),),
        errors={413: (ErrorCode.PAYLOAD_TOO_LARGE,)},
        notes="Files over 4 MiB are refused with 413: export the project to get them.",
    ),
)

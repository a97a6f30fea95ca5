"""GET /v1/projects/{projectId}/exports/{exportId}/download: 302 to a presigned URL minted now.

A presigned URL dies with the credentials that signed it (a function's session), so one is
minted on each call rather than stored.
"""

from kiln import services
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response


def download_export(request: Request) -> Response:
    project_id = request.path_id("projectId", "project")
    export_id = request.path_id("exportId", "export")
    services.current().projects.get(request.workspace_id, project_id)
    url = services.current().operations.download(request.workspace_id, project_id, export_id)
    return Response(302, headers={"Location": url, "Cache-Control": "no-store"})


handler = endpoint(
    download_export,
    Contract(
        answers=(
            Answer(
                302,
                "Redirect to a presigned download minted now (valid at most 15 minutes).",
                shape="empty",
                headers=("Location", "Cache-Control"),
            ),
        ),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

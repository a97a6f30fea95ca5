"""POST /v1/projects/{projectId}/export: the deprecated RPC form of POST .../exports."""

from kiln.handlers.exports_create import start_export
from kiln.http.api import endpoint
from kiln.http.deprecation import deprecation_headers
from kiln.http.request import Request
from kiln.http.response import Response


def start_export_legacy(request: Request) -> Response:
    successor = f"/v1/projects/{request.path_params.get('projectId', '')}/exports"
    return start_export(request, deprecation_headers(successor))


handler = endpoint(start_export_legacy)

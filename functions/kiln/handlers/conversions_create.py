"""POST /v1/conversions: convert an uploaded archive to zip, tar.gz or kiln (202).

Also serves the deprecated POST /v1/converter/convert (kiln.routes: the pipeline adds its
deprecation headers).
"""

from kiln import services
from kiln.domain.operations import ConversionCreate
from kiln.http.api import endpoint
from kiln.http.request import Request
from kiln.http.response import Response, ok


def start_conversion(request: Request) -> Response:
    body = request.body_as(ConversionCreate)
    operations = services.operations()
    operation = operations.convert(request.workspace_id, body)
    return ok(operations.view(operation), 202, {"Location": f"/v1/conversions/{operation.id}"})


handler = endpoint(start_conversion)

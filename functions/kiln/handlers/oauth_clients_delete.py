"""DELETE /v1/oauth/clients/{clientId} (admin): remove a client and revoke every grant it holds,
so its refresh tokens and access tokens stop working at once."""

from kiln import services
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response


def delete_client(request: Request) -> Response:
    assert request.principal is not None
    client_id = request.path_id("clientId", "oauth_client")
    services.current().oauth.delete_client(request.principal, client_id)
    return Response(204)


handler = endpoint(
    delete_client,
    Contract(path={"clientId": ("oauth_client",)}, answers=(Answer(204, "Deleted.", shape="empty"),)),
)

"""POST /oauth/introspect (RFC 7662, admin): what a token stands for, for a resource server.

Form-encoded `token` (an access or a refresh token). The caller authenticates as on any route
(a key or token with `admin`); only tokens of the caller's workspace are ever described:
anything else, unknown, expired or revoked answers `{"active": false}` alone.
"""

from kiln import services
from kiln.domain.oauth import OAuthError
from kiln.domain.oauth_views import TokenIntrospection
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.oauth_forms import NO_STORE, form
from kiln.http.public_url import base_url
from kiln.http.request import Request
from kiln.http.response import Response


def introspect(request: Request) -> Response:
    assert request.principal is not None
    try:
        token = form(request.event).get("token", "")
    except OAuthError as error:
        return Response(400, error.body(), dict(NO_STORE), enveloped=False)
    if not token:
        return Response(400, OAuthError("invalid_request", "Missing parameter: token.").body(), dict(NO_STORE))
    answer = services.current().oauth.introspect(request.principal, token, issuer=base_url(request.event))
    return Response(200, answer.body(), dict(NO_STORE), enveloped=False)


handler = endpoint(
    introspect,
    Contract(
        answers=(Answer(200, "The token's description, or only active: false.", TokenIntrospection, "raw"),),
        notes="Form-encoded: `token`, optional `token_type_hint` (not needed). A missing token is RFC 6749 "
        "JSON `invalid_request` (400).",
    ),
)

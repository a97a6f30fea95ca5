"""POST /v1/oauth/clients (admin): register a public OAuth client of the caller's workspace.

Registering an app that can obtain people's tokens is an admin act. Redirect URIs are https
(or http to localhost / 127.0.0.1), without fragments, matched exactly later; the client's
scopes are within the caller's own (kiln.domain.oauth).
"""

from pydantic import Field

from kiln import services
from kiln.domain.oauth import MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS, ClientRequest, client_view
from kiln.domain.oauth_views import OAuthClientView
from kiln.domain.projects import Name, Strict
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.routes import Scope


class OAuthClientCreate(Strict):
    name: Name = Field(description="Shown to people on the consent page.", examples=["Team Planner"])
    redirectUris: list[str] = Field(
        min_length=1,
        max_length=MAX_REDIRECT_URIS,
        description=f"https:// (or http://localhost, http://127.0.0.1, any port), no fragment, at most "
        f"{MAX_REDIRECT_URI_LENGTH} characters each; matched exactly.",
        examples=[["https://planner.example.com/oauth/callback"]],
    )
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=16,
        description="The most the client may ask for; each must be held by the caller.",
        examples=[["project:read"]],
    )


def create_client(request: Request, body: OAuthClientCreate) -> Response:
    assert request.principal is not None
    client = services.current().oauth.create_client(
        request.principal, ClientRequest(body.name, tuple(body.redirectUris), tuple(body.scopes))
    )
    return ok(OAuthClientView.model_validate(client_view(client)), 201)


handler = endpoint(
    create_client,
    Contract(body=OAuthClientCreate, answers=(Answer(201, "Registered.", OAuthClientView),)),
)

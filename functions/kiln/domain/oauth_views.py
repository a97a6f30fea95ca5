"""The documents of the OAuth authorization server's discovery routes (not enveloped).

Named by the handlers as "module:Class" strings: their functions answer plain dicts and load
no pydantic; a unit test validates their real answers against these models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kiln.domain.views import Timestamp, WorkspaceId, id_pattern
from kiln.routes import Scope


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PublicJwk(View):
    """One ES256 verification key (RFC 7517, RFC 7518 section 6.2)."""

    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    use: Literal["sig"]
    alg: Literal["ES256"]


class JsonWebKeySet(View):
    """The keys access tokens may be signed with: the next key (published before it signs), the
    current one and the retiring ones (kept until the last token they signed has expired)."""

    keys: list[PublicJwk]


class AuthorizationServerMetadata(View):
    """RFC 8414 metadata. Every URL is absolute, under the issuer."""

    issuer: str = Field(description="The API's base URL; the `iss` of every access token.")
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    introspection_endpoint: str
    jwks_uri: str
    response_types_supported: list[Literal["code"]]
    grant_types_supported: list[Literal["authorization_code", "refresh_token"]]
    code_challenge_methods_supported: list[Literal["S256"]]
    token_endpoint_auth_methods_supported: list[Literal["none"]]
    scopes_supported: list[str]
    authorization_response_iss_parameter_supported: Literal[True] = Field(
        description="RFC 9207: the redirects of /oauth/authorize carry `iss`, the issuer."
    )


class TokenAnswer(View):
    """POST /oauth/token's answer (RFC 6749 section 5.1)."""

    access_token: str = Field(description="A JWT (RFC 9068), 15 minutes; its `gid` claim names the grant.")
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Opaque, single use: each refresh answers a new one.")
    scope: str = Field(description="Space-separated scopes of the access token.")


class TokenIntrospection(View):
    """POST /oauth/introspect's answer (RFC 7662): only `active: false` for an inactive token."""

    active: bool
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = Field(default=None, description="The person's id.")
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None
    aud: str | None = None
    token_type: Literal["Bearer", "refresh_token"] | None = None
    workspace: str | None = None
    jti: str | None = None


class OAuthClientView(View):
    """A registered public client (no secret: PKCE S256 authenticates each code exchange)."""

    id: str = Field(pattern=id_pattern("oauth_client"), description="The client id.")
    clientId: str = Field(pattern=id_pattern("oauth_client"), description="The same id, as OAuth calls it.")
    name: str = Field(description="Shown to people on the consent page.")
    redirectUris: list[str] = Field(description="Matched exactly at authorization time.")
    scopes: list[Scope] = Field(description="The most the client may ask a person for.")
    workspaceId: WorkspaceId
    createdAt: Timestamp

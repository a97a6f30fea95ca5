"""The documents of the OAuth authorization server's discovery routes (not enveloped).

Named by the handlers as "module:Class" strings: their functions answer plain dicts and load
no pydantic; a unit test validates their real answers against these models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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

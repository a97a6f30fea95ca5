"""POST /oauth/revoke (RFC 7009): a client ends a refresh or an access token, and so its grant.

Public, form-encoded (`token`, optional `token_type_hint`, `client_id`), outside the shared
pipeline like /oauth/token. An unknown, expired or malformed token answers 200 as a revoked
one does (RFC 7009 section 2.2); another client's token is refused (unauthorized_client).
The hint is not needed: refresh tokens and access tokens cannot be mistaken for each other.
"""

from __future__ import annotations

from typing import Any

from kiln import config, services
from kiln.http.contract import Answer, Contract, described
from kiln.http.oauth_forms import required, serve
from kiln.http.public_url import base_url

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable


@described(
    Contract(
        answers=(Answer(200, "Revoked, or nothing to revoke (an unknown token).", shape="empty"),),
        notes=(
            "Form-encoded: `token`, `client_id`, optional `token_type_hint`. Revoking either token of a "
            "grant revokes the grant: its refresh token and every access token issued from it stop working. "
            "Errors are RFC 6749 JSON (invalid_request, invalid_client, unauthorized_client)."
        ),
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    issuer = base_url(event)

    def revoke(values: dict[str, str]) -> None:
        token, client_id = required(values, "token", "client_id")
        services.current().oauth.revoke(token, client_id, issuer=issuer)

    return serve(event, revoke)

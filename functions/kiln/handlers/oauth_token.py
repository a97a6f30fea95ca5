"""POST /oauth/token (RFC 6749 section 3.2, OAuth 2.1): authorization_code with PKCE, refresh_token.

Public, form-encoded, outside the shared pipeline: errors are RFC 6749 section 5.2 JSON, never
the envelope, and no answer is ever replayed (a replay would hand the same tokens out twice).
Codes and refresh tokens are 256-bit random values, so the route is no guessing oracle; the
stage throttle bounds its rate.
"""

from __future__ import annotations

from typing import Any

from kiln import config, services
from kiln.domain.oauth import OAuthError
from kiln.http.contract import Answer, Contract, described
from kiln.http.oauth_forms import required, serve
from kiln.http.public_url import base_url

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable


@described(
    Contract(
        answers=(
            Answer(
                200,
                "The tokens (Cache-Control: no-store). Errors are RFC 6749 JSON: {error, error_description}.",
                "kiln.domain.oauth_views:TokenAnswer",
                "raw",
                headers=("Cache-Control",),
            ),
        ),
        notes=(
            "Form-encoded (application/x-www-form-urlencoded). `grant_type=authorization_code` with "
            "`code`, `redirect_uri`, `client_id` and `code_verifier`; or `grant_type=refresh_token` with "
            "`refresh_token`, `client_id` and an optional narrower `scope`. Errors are RFC 6749 section 5.2 "
            "JSON with status 400 (invalid_request, invalid_client, invalid_grant, invalid_scope, "
            "unsupported_grant_type), never the envelope; see docs/errors.md."
        ),
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    issuer = base_url(event)

    def token(values: dict[str, str]) -> dict[str, Any]:
        (grant_type,) = required(values, "grant_type")
        oauth = services.current().oauth
        if grant_type == "authorization_code":
            code, redirect_uri, client_id, verifier = required(
                values, "code", "redirect_uri", "client_id", "code_verifier"
            )
            return oauth.exchange_code(code, client_id, redirect_uri, verifier, issuer=issuer).body()
        if grant_type == "refresh_token":
            refresh_token, client_id = required(values, "refresh_token", "client_id")
            return oauth.refresh(refresh_token, client_id, values.get("scope"), issuer=issuer).body()
        raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")

    return serve(event, token)

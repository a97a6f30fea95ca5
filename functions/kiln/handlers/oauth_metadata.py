"""GET /.well-known/oauth-authorization-server: RFC 8414 metadata. Not enveloped, public, no pydantic.

The issuer is the API's public base URL (kiln.http.public_url), the one the authorizer checks
access tokens against.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from kiln import config
from kiln.envelope import JSON_CONTENT_TYPE
from kiln.http import cors
from kiln.http.contract import Answer, Contract, described
from kiln.http.public_url import base_url
from kiln.routes import Scope

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable

CACHE_CONTROL = "public, max-age=3600"


def issuer(event: dict[str, Any]) -> str:
    return base_url(event)


def metadata(base: str) -> dict[str, Any]:
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": list(get_args(Scope)),
        # RFC 9207: every answer of /oauth/authorize names the issuer in `iss` (mix-up defence).
        "authorization_response_iss_parameter_supported": True,
    }


@described(
    Contract(
        answers=(
            Answer(
                200,
                "The authorization server's metadata.",
                "kiln.domain.oauth_views:AuthorizationServerMetadata",
                "raw",
                headers=("Cache-Control",),
            ),
        )
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    request_id = (event.get("requestContext") or {}).get("requestId", "unknown")
    return cors.apply(
        {
            "statusCode": 200,
            "headers": {"Content-Type": JSON_CONTENT_TYPE, "X-Request-Id": request_id, "Cache-Control": CACHE_CONTROL},
            "body": json.dumps(metadata(issuer(event))),
            "isBase64Encoded": False,
        },
        cors.request_origin(event),
    )

"""The API's public base URL, which is also the OAuth issuer and the access tokens' audience.

KILN_OAUTH_ISSUER when set (a custom domain), else the URL this request reached:
X-Forwarded-Proto (API Gateway sets it; https by default) and Host, plus `/<stage>` on an
execute-api host, whose paths start with the stage (a custom domain's and the local cloud's do
not). The metadata endpoint publishes it and the authorizer checks tokens against it, so both
derive it here. Light: the authorizer imports it.
"""

from __future__ import annotations

from typing import Any

from kiln import config


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name and isinstance(value, str) and value:
            return value.split(",")[0].strip()
    return None


def base_url(event: dict[str, Any]) -> str:
    """The base URL of the API as the caller reached it (an API Gateway REST event: a route's
    proxy event or a REQUEST authorizer's, which carry the same headers and requestContext)."""
    configured = config.oauth_issuer()
    if configured:
        return configured.rstrip("/")
    context = event.get("requestContext") or {}
    host = _header(event, "host") or context.get("domainName") or "localhost"
    proto = _header(event, "x-forwarded-proto") or "https"
    stage = context.get("stage")
    prefix = f"/{stage}" if stage and ".execute-api." in host else ""
    return f"{proto}://{host}{prefix}"

"""API Gateway REQUEST authorizer: an API key, an access token or a session cookie -> principal.

A REQUEST authorizer, not a TOKEN one: a TOKEN authorizer sees one header, and the session
cookie lives in `Cookie`, not `Authorization`. It declares no identity sources and API Gateway's
result cache is off (kiln.routes.AUTHORIZER_IDENTITY_SOURCES, AUTHORIZER_CACHE_TTL_SECONDS = 0):
API Gateway answers 401 without calling the function when a declared source is missing, so
declaring `Authorization` would lock out every browser and declaring `Cookie` every key
caller; and a REQUEST authorizer's cache needs identity sources to key on. The function keeps
its own bounded cache instead (kiln.domain.authentication.Authenticator), keyed by the
SHA-256 of the exact Authorization header, so a warm request with a key or token costs no
DynamoDB read; revoking a key, a grant or a person takes effect within
KILN_AUTHORIZER_CACHE_SECONDS (60 s by default, per container), and sessions are never cached.

Returns an Allow policy for the whole stage (scopes are checked per route by kiln.http.api from
the context returned here) and the workspace's usage key, so usage plans meter the workspace
(`apiKeySource: AUTHORIZER`) whatever the credential. Bad credentials raise "Unauthorized",
which API Gateway turns into its 401 gateway response.

Good credentials of a workspace created a moment ago are allowed here like any others. API
Gateway may not have propagated the workspace's usage key yet; it then refuses the key with
INVALID_API_KEY, which infra/gateway_responses.py answers as a retryable 503 ("still being
provisioned"), never a 401: this function cannot see propagation, and cannot answer 503.
"""

from __future__ import annotations

import logging
from typing import Any

from kiln import config, services
from kiln.domain.authentication import Credentials, principal_context
from kiln.http.public_url import base_url

logger = logging.getLogger("kiln.authorizer")
config.load(config.AuthorizerSettings)  # the cold start fails on a missing or malformed variable


def _stage_arn(method_arn: str) -> str:
    # arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path...}
    prefix, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{prefix}/{stage}/*"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    authentication = services.current().authenticator.authenticate(
        Credentials.from_event(event), base_url=base_url(event)
    )
    if authentication is None:
        raise Exception("Unauthorized")  # the exact message API Gateway maps to 401
    principal = authentication.principal
    return {
        "principalId": principal.key_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _stage_arn(event.get("methodArn", "")),
                }
            ],
        },
        "context": principal_context(principal),
        "usageIdentifierKey": authentication.usage_key_value,
    }

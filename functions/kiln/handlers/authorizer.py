"""API Gateway TOKEN authorizer: `Authorization: Bearer kiln_...` -> principal.

Returns an Allow policy for the whole stage (API Gateway caches the answer per token across
routes, so the policy must not be route-specific; scopes are checked per route by
kiln.http.api from the context returned here) and the workspace's usage key, so usage plans
meter the workspace (`apiKeySource: AUTHORIZER`). Bad credentials raise "Unauthorized",
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
from kiln.domain.authentication import principal_context

logger = logging.getLogger("kiln.authorizer")
config.load(config.AuthorizerSettings)  # the cold start fails on a missing or malformed variable


def _stage_arn(method_arn: str) -> str:
    # arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path...}
    prefix, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{prefix}/{stage}/*"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    authentication = services.current().access.authenticate(event.get("authorizationToken"))
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

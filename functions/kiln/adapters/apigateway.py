"""API Gateway adapter: the usage keys that meter each workspace in its tier's usage plan.

The authorizer returns a workspace's key value as `usageIdentifierKey`, so usage plans
throttle per workspace while clients only ever send `Authorization: Bearer`.
"""

from __future__ import annotations

import secrets

from kiln import config
from kiln.adapters.aws import client


class UsageKeyStore:
    """kiln.domain.access.UsageKeys on API Gateway API keys and usage plans."""

    def create(self, workspace_id: str, tier: str) -> tuple[str, str]:
        plans = config.usage_plan_ids()
        if tier not in plans:
            raise RuntimeError(f"no usage plan configured for tier {tier!r} (KILN_USAGE_PLANS)")
        apigw = client("apigateway")
        # The value is an identifier, never shown to clients; 40 random characters make it
        # unguessable anyway, so it cannot be replayed as an x-api-key header.
        key = apigw.create_api_key(
            name=f"kiln-{workspace_id}",
            description=f"Usage meter of workspace {workspace_id}",
            enabled=True,
            value=secrets.token_urlsafe(30),
        )
        apigw.create_usage_plan_key(usagePlanId=plans[tier], keyId=key["id"], keyType="API_KEY")
        return key["id"], key["value"]

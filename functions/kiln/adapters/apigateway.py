"""API Gateway adapter: the usage keys that meter each workspace in its tier's usage plan.

The authorizer returns a workspace's key value as `usageIdentifierKey`, so usage plans
throttle per workspace while clients only ever send `Authorization: Bearer`.

A tier change moves the workspace's key between plans. API Gateway refuses a key in two plans
of the same stage, so the move is: leave the old plan, join the new one, and on failure
rejoin the old one. The key is never left in the new plan while its workspace names the old
tier, and a failed move leaves it where it was.
"""

from __future__ import annotations

import logging
import secrets

from botocore.exceptions import ClientError

from kiln import config
from kiln.adapters.aws import client

logger = logging.getLogger("kiln.usage_keys")


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def plan_id(tier: str) -> str:
    plans = config.usage_plan_ids()
    if tier not in plans:
        raise RuntimeError(f"no usage plan configured for tier {tier!r} ({config.USAGE_PLANS})")
    return plans[tier]


class UsageKeyStore:
    """kiln.domain.access.UsageKeys on API Gateway API keys and usage plans."""

    def create(self, workspace_id: str, tier: str) -> tuple[str, str]:
        plan = plan_id(tier)
        apigw = client("apigateway")
        # The value is an identifier, never shown to clients; 40 random characters make it
        # unguessable anyway, so it cannot be replayed as an x-api-key header.
        key = apigw.create_api_key(
            name=f"kiln-{workspace_id}",
            description=f"Usage meter of workspace {workspace_id}",
            enabled=True,
            value=secrets.token_urlsafe(30),
        )
        try:
            apigw.create_usage_plan_key(usagePlanId=plan, keyId=key["id"], keyType="API_KEY")
        except Exception:
            self.delete(key["id"])
            raise
        return key["id"], key["value"]

    def move(self, key_id: str, from_tier: str, to_tier: str) -> None:
        old, new = plan_id(from_tier), plan_id(to_tier)
        if old == new:
            return
        apigw = client("apigateway")
        try:
            apigw.delete_usage_plan_key(usagePlanId=old, keyId=key_id)
        except ClientError as error:
            if _code(error) != "NotFoundException":  # not in the old plan: a retried move
                raise
        try:
            apigw.create_usage_plan_key(usagePlanId=new, keyId=key_id, keyType="API_KEY")
        except Exception as error:
            if isinstance(error, ClientError) and _code(error) == "ConflictException" and self._in_plan(new, key_id):
                return  # already there: a retried move
            self._rejoin(old, key_id)
            raise

    def delete(self, key_id: str) -> None:
        try:
            client("apigateway").delete_api_key(apiKey=key_id)
        except ClientError as error:
            if _code(error) != "NotFoundException":
                raise

    @staticmethod
    def _in_plan(plan: str, key_id: str) -> bool:
        try:
            client("apigateway").get_usage_plan_key(usagePlanId=plan, keyId=key_id)
        except ClientError as error:
            if _code(error) == "NotFoundException":
                return False
            raise
        return True

    @staticmethod
    def _rejoin(plan: str, key_id: str) -> None:
        try:
            client("apigateway").create_usage_plan_key(usagePlanId=plan, keyId=key_id, keyType="API_KEY")
        except Exception:  # the caller re-raises the move's own error
            # The key is in no plan: API Gateway refuses the workspace's requests until a
            # retried PATCH (which converges) puts it in one.
            logger.exception("usage key %s is in no usage plan after a failed tier change", key_id)

"""The REQUEST authorizer against moto: keys, access tokens and session cookies resolve to
principals, everything else is 401."""

from __future__ import annotations

import json

import boto3
import pytest

from kiln import services
from kiln.bootstrap import provision_admin
from kiln.domain.access import ALL_SCOPES, generate_secret
from kiln.handlers import authorizer

pytestmark = pytest.mark.usefixtures("cloud")

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/projects"


def authorize(header: str | None, cookie: str | None = None) -> dict:
    """The deployed REQUEST authorizer's answer (a trimmed event: the headers are what it reads)."""
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https"}
    if header is not None:
        headers["Authorization"] = header
    if cookie is not None:
        headers["Cookie"] = cookie
    return authorizer.handler(
        {
            "type": "REQUEST",
            "methodArn": METHOD_ARN,
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": {"stage": "prod", "domainName": headers["Host"]},
        }
    )


def test_valid_key_resolves_to_principal_and_usage_key():
    secret = provision_admin(tier="pro")
    answer = authorize(f"Bearer {secret}")
    context = answer["context"]
    assert context["scopes"].split() == sorted(ALL_SCOPES)
    assert context["tier"] == "pro"
    assert context["workspaceId"].startswith("ws_") and context["keyId"].startswith("key_")
    assert answer["principalId"] == context["keyId"]
    assert json.loads(context["allowedPaths"]) == []
    statement = answer["policyDocument"]["Statement"][0]
    # Stage-wide so the cached answer serves every route.
    assert statement == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*",
    }
    # The usage identifier is the workspace's API key in the pro usage plan.
    apigw = boto3.client("apigateway")
    key = next(k for k in apigw.get_api_keys(includeValues=True)["items"] if k["value"] == answer["usageIdentifierKey"])
    plan_id = json.loads(__import__("os").environ["KILN_USAGE_PLANS"])["pro"]
    assert key["id"] in [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan_id)["items"]]


def test_scheme_is_case_insensitive():
    secret = provision_admin()
    assert authorize(f"bearer {secret}")["context"]["tier"] == "enterprise"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer kiln_short",
        "Bearer not-a-kiln-key",
        "Token " + "kiln_" + "a" * 43,
    ],
)
def test_malformed_credentials_are_unauthorized(header):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(header)


def test_unknown_key_is_unauthorized():
    provision_admin()
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(f"Bearer {generate_secret()}")


def test_revoked_and_expired_keys_are_unauthorized():
    from kiln.adapters.aws import client
    from kiln.adapters.dynamodb.access import key_pk
    from kiln.adapters.dynamodb.items import to_item
    from kiln.domain.access import hash_secret

    for attribute, value in (("revokedAt", "2026-01-01T00:00:00.000Z"), ("expiresAt", "2020-01-01T00:00:00.000Z")):
        secret = provision_admin(workspace_name=attribute)
        assert authorize(f"Bearer {secret}")
        client("dynamodb").update_item(
            TableName="kiln-unit",
            Key=to_item({"pk": key_pk(hash_secret(secret)), "sk": "APIKEY"}),
            UpdateExpression="SET #a = :v",
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues=to_item({":v": value}),
        )
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(f"Bearer {secret}")


def test_only_the_hash_is_stored():
    secret = provision_admin()
    workspace_id = services.current().access.find_key(secret).workspace_id
    items = boto3.client("dynamodb").query(
        TableName="kiln-unit",
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": f"WS#{workspace_id}#APIKEYS"}},
    )["Items"]
    assert len(items) == 1
    assert secret not in json.dumps(items)
    assert items[0]["prefix"]["S"] == secret[:12]


def test_provision_admin_with_a_known_secret_is_idempotent():
    secret = generate_secret()
    assert provision_admin(secret=secret) == secret
    first = authorize(f"Bearer {secret}")["context"]["workspaceId"]
    assert provision_admin(secret=secret) == secret
    assert authorize(f"Bearer {secret}")["context"]["workspaceId"] == first


def test_provision_admin_rejects_a_malformed_secret():
    with pytest.raises(ValueError):
        provision_admin(secret="kiln_tooshort")


def test_a_failed_last_used_write_never_fails_the_authentication(monkeypatch, caplog):
    """Recording lastUsedAt is bookkeeping: an authorizer role without write access still answers."""
    from botocore.exceptions import ClientError

    from kiln.adapters import aws
    from kiln.adapters.dynamodb.access import AccessStore

    secret = provision_admin()
    dynamodb = aws.client("dynamodb")

    def denied(**kwargs):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "UpdateItem")

    monkeypatch.setattr(dynamodb, "update_item", denied)
    monkeypatch.setattr(AccessStore, "_touch_failure_logged", False)
    assert authorize(f"Bearer {secret}")["context"]["tier"] == "enterprise"
    assert authorize(f"bearer {secret}")["context"]["tier"] == "enterprise"
    assert [r.message for r in caplog.records if "lastUsedAt" in r.message][:1]  # logged, once per container
    assert len([r for r in caplog.records if "lastUsedAt" in r.message]) == 1


def test_a_key_an_eventually_consistent_read_misses_is_confirmed_by_a_consistent_read(monkeypatch):
    # DynamoDB's default reads can miss an item written a moment ago: a key minted just now (or
    # its new workspace) must not answer 401 for that. Here the eventually consistent reads see
    # nothing at all; only ConsistentRead finds the items.
    from kiln.adapters.dynamodb.access import AccessStore

    secret = provision_admin(tier="free", workspace_name="fresh")
    consistent_reads: list[str] = []

    def lagging(read):
        def get(self, item_id, consistent=False):
            if not consistent:
                return None
            consistent_reads.append(read.__name__)
            return read(self, item_id, consistent=True)

        return get

    monkeypatch.setattr(AccessStore, "get_key_by_hash", lagging(AccessStore.get_key_by_hash))
    monkeypatch.setattr(AccessStore, "get_workspace", lagging(AccessStore.get_workspace))
    answer = authorize(f"Bearer {secret}")
    assert answer["context"]["tier"] == "free"
    assert consistent_reads == ["get_key_by_hash", "get_workspace"]
    with pytest.raises(Exception, match=r"^Unauthorized$"):  # an unknown key is still refused
        authorize(f"Bearer {generate_secret()}")

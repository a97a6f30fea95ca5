"""Workspace handlers (admin) through the real pipeline, with moto's DynamoDB and API Gateway.

A tier change is checked where it matters: the workspace's usage key in API Gateway's usage
plans, and the tier the authorizer hands to the workspace's next request.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest
from botocore.exceptions import ClientError

from kiln import services
from kiln.adapters import aws
from kiln.adapters.apigateway import UsageKeyStore
from kiln.adapters.dynamodb.access import AccessStore
from kiln.handlers import authorizer, workspaces_create, workspaces_get, workspaces_list, workspaces_update
from tests.unit.conftest import parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

ITEM = "/v1/workspaces/{workspaceId}"
MISSING = "ws_01m885m8rskqxxjknrtpgbxzzz"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/projects"


def plans() -> dict[str, str]:
    return json.loads(os.environ["KILN_USAGE_PLANS"])


def create(name: str = "Acme", tier: str = "pro") -> dict:
    status, body = parse(
        workspaces_create.handler(proxy_event("POST", "/v1/workspaces", body={"name": name, "tier": tier}))
    )
    assert status == 201, body
    return body["data"]


def item_event(method: str, workspace_id: str, **kwargs) -> dict:
    return proxy_event(
        method, ITEM, f"/v1/workspaces/{workspace_id}", path_params={"workspaceId": workspace_id}, **kwargs
    )


def patch(workspace_id: str, body: dict) -> tuple[int, dict]:
    return parse(workspaces_update.handler(item_event("PATCH", workspace_id, body=body)))


def usage_key_id(workspace_id: str) -> str:
    workspace = AccessStore().get_workspace(workspace_id, consistent=True)
    assert workspace is not None
    return workspace.usage_key_id


def plans_of(key_id: str) -> set[str]:
    """The tiers whose usage plan lists the key (as API Gateway reports its members)."""
    apigw = boto3.client("apigateway")
    return {
        tier
        for tier, plan in plans().items()
        if key_id in [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan)["items"]]
    }


def test_create_returns_the_workspace_and_meters_it_in_its_tier_s_plan():
    response = workspaces_create.handler(proxy_event("POST", "/v1/workspaces", body={"name": " Acme ", "tier": "free"}))
    status, body = parse(response)
    assert status == 201
    workspace = body["data"]
    assert set(workspace) == {"id", "name", "tier", "createdAt", "updatedAt"}  # the usage key stays internal
    assert workspace["id"].startswith("ws_") and workspace["name"] == "Acme" and workspace["tier"] == "free"
    assert workspace["createdAt"] == workspace["updatedAt"]
    assert response["headers"]["Location"] == f"/v1/workspaces/{workspace['id']}"
    assert plans_of(usage_key_id(workspace["id"])) == {"free"}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "x"}, "tier"),
        ({"tier": "pro"}, "name"),
        ({"name": "x", "tier": "platinum"}, "tier"),
        ({"name": "", "tier": "pro"}, "name"),
        ({"name": "x", "tier": "pro", "owner": "me"}, "owner"),
    ],
)
def test_create_rejects_bad_input_and_creates_nothing(payload, field):
    status, body = parse(workspaces_create.handler(proxy_event("POST", "/v1/workspaces", body=payload)))
    assert status == 400
    assert field in [f["field"] for f in body["error"]["details"]["fields"]]
    assert parse(workspaces_list.handler(proxy_event("GET", "/v1/workspaces")))[1]["pagination"]["total"] == 0
    assert boto3.client("apigateway").get_api_keys()["items"] == []


def test_workspaces_are_admin_only():
    reader = principal_context(scopes="project:read project:write ai:invoke")
    for handler, event in (
        (
            workspaces_create.handler,
            proxy_event("POST", "/v1/workspaces", body={"name": "x", "tier": "pro"}, authorizer=reader),
        ),
        (workspaces_list.handler, proxy_event("GET", "/v1/workspaces", authorizer=reader)),
        (workspaces_get.handler, item_event("GET", MISSING, authorizer=reader)),
        (workspaces_update.handler, item_event("PATCH", MISSING, body={"tier": "free"}, authorizer=reader)),
    ):
        response = handler(event)
        status, body = parse(response)
        assert status == 403 and body["error"]["details"]["missingScopes"] == ["admin"]
        assert 'scope="admin"' in response["headers"]["WWW-Authenticate"]


def test_get_returns_what_was_created_and_a_missing_id_is_not_found():
    workspace = create()
    assert parse(workspaces_get.handler(item_event("GET", workspace["id"]))) == (
        200,
        {"success": True, "data": workspace},
    )
    status, body = parse(workspaces_get.handler(item_event("GET", MISSING)))
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["details"] == {"resource": "workspace", "id": MISSING}
    status, body = parse(workspaces_get.handler(item_event("GET", "proj_01m885m8rskqxxjknrtpgbxm1p")))
    assert status == 400 and body["error"]["details"]["fields"][0]["field"] == "workspaceId"


def test_list_in_page_and_cursor_modes_newest_first():
    made = [create(f"W{i}")["id"] for i in range(5)]
    status, body = parse(
        workspaces_list.handler(proxy_event("GET", "/v1/workspaces", query={"page": "2", "pageSize": "2"}))
    )
    assert status == 200
    assert body["pagination"] == {"page": 2, "pageSize": 2, "total": 5, "totalPages": 3}
    assert [w["id"] for w in body["data"]] == made[::-1][2:4]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = parse(workspaces_list.handler(proxy_event("GET", "/v1/workspaces", query=query)))[1]
        seen += [w["id"] for w in page["data"]]
        cursor = page["pagination"]["nextCursor"]
        assert page["pagination"]["hasMore"] is (cursor is not None)
        if cursor is None:
            break
    assert seen == made[::-1]
    status, body = parse(
        workspaces_list.handler(proxy_event("GET", "/v1/workspaces", query={"limit": "2", "cursor": "forged.abc"}))
    )
    assert status == 400 and body["error"]["details"]["fields"][0]["field"] == "cursor"
    assert parse(workspaces_list.handler(proxy_event("GET", "/v1/workspaces", query={"tier": "pro"})))[0] == 400


def test_rename_keeps_the_usage_key_where_it_is():
    workspace = create(tier="pro")
    status, body = patch(workspace["id"], {"name": "Renamed"})
    assert status == 200
    assert body["data"]["name"] == "Renamed" and body["data"]["tier"] == "pro"
    assert body["data"]["updatedAt"] >= workspace["updatedAt"]
    assert body["data"]["createdAt"] == workspace["createdAt"]
    assert plans_of(usage_key_id(workspace["id"])) == {"pro"}


def test_tier_change_moves_the_usage_key_and_the_next_request_sees_the_new_tier():
    workspace = create(tier="pro")
    _, secret = services.current().access.mint_key(workspace["id"], "k", ("project:read",))
    token = {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"Authorization": f"Bearer {secret}"}}
    before = authorizer.handler(token)
    assert before["context"]["tier"] == "pro"
    key_id = usage_key_id(workspace["id"])
    assert plans_of(key_id) == {"pro"}

    status, body = patch(workspace["id"], {"tier": "enterprise"})
    assert status == 200 and body["data"]["tier"] == "enterprise"
    assert plans_of(key_id) == {"enterprise"}  # out of the old plan, in the new one
    after = authorizer.handler(token)
    assert after["context"]["tier"] == "enterprise"
    assert after["usageIdentifierKey"] == before["usageIdentifierKey"]  # the same meter, moved
    assert parse(workspaces_get.handler(item_event("GET", workspace["id"])))[1]["data"]["tier"] == "enterprise"

    # Same tier again: nothing moves.
    assert patch(workspace["id"], {"tier": "enterprise", "name": "Acme 2"})[0] == 200
    assert plans_of(key_id) == {"enterprise"}


@pytest.mark.parametrize("payload", [{}, {"tier": None}, {"name": None}, {"tier": "gold"}, {"colour": "red"}])
def test_patch_rejects_bad_bodies_and_moves_nothing(payload):
    workspace = create(tier="pro")
    status, body = patch(workspace["id"], payload)
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"
    assert plans_of(usage_key_id(workspace["id"])) == {"pro"}
    assert parse(workspaces_get.handler(item_event("GET", workspace["id"])))[1]["data"] == workspace


def test_patch_of_a_missing_workspace_is_not_found():
    status, body = patch(MISSING, {"tier": "free"})
    assert status == 404 and body["error"]["details"] == {"resource": "workspace", "id": MISSING}


def test_a_failed_move_leaves_the_key_in_the_old_plan_and_the_tier_unchanged(monkeypatch):
    workspace = create(tier="pro")
    key_id = usage_key_id(workspace["id"])
    apigw = aws.client("apigateway")
    real = apigw.create_usage_plan_key

    def refuse_new_plan(**kwargs):
        if kwargs["usagePlanId"] == plans()["free"]:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "CreateUsagePlanKey")
        return real(**kwargs)

    monkeypatch.setattr(apigw, "create_usage_plan_key", refuse_new_plan)
    status, body = patch(workspace["id"], {"tier": "free"})
    assert status == 503 and body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert plans_of(key_id) == {"pro"}
    assert parse(workspaces_get.handler(item_event("GET", workspace["id"])))[1]["data"]["tier"] == "pro"


def test_a_failed_item_update_moves_the_key_back(monkeypatch):
    workspace = create(tier="pro")
    key_id = usage_key_id(workspace["id"])

    def fail(self, workspace_id, changes):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem")

    monkeypatch.setattr(AccessStore, "update_workspace", fail)
    status, _ = patch(workspace["id"], {"tier": "enterprise"})
    assert status == 503
    assert plans_of(key_id) == {"pro"}


class FakeApiGateway:
    """Records calls; `members` is plan -> key ids, with API Gateway's answers for strays."""

    def __init__(self, members: dict[str, set[str]]) -> None:
        self.members = members
        self.calls: list[tuple[str, str]] = []

    @staticmethod
    def _error(code: str, operation: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": code}}, operation)

    def delete_usage_plan_key(self, usagePlanId: str, keyId: str) -> None:
        self.calls.append(("delete", usagePlanId))
        if keyId not in self.members[usagePlanId]:
            raise self._error("NotFoundException", "DeleteUsagePlanKey")
        self.members[usagePlanId].discard(keyId)

    def create_usage_plan_key(self, usagePlanId: str, keyId: str, keyType: str) -> None:
        self.calls.append(("create", usagePlanId))
        if any(keyId in keys for keys in self.members.values()):
            raise self._error("ConflictException", "CreateUsagePlanKey")  # one plan per stage
        self.members[usagePlanId].add(keyId)

    def get_usage_plan_key(self, usagePlanId: str, keyId: str) -> dict:
        if keyId not in self.members[usagePlanId]:
            raise self._error("NotFoundException", "GetUsagePlanKey")
        return {"id": keyId}


def test_move_leaves_the_old_plan_before_joining_the_new_one(monkeypatch):
    fake = FakeApiGateway({plans()["pro"]: {"k1"}, plans()["free"]: set(), plans()["enterprise"]: set()})
    monkeypatch.setattr("kiln.adapters.apigateway.client", lambda service: fake)
    UsageKeyStore().move("k1", "pro", "free")
    assert fake.calls == [("delete", plans()["pro"]), ("create", plans()["free"])]
    assert fake.members[plans()["free"]] == {"k1"} and fake.members[plans()["pro"]] == set()


def test_a_retried_move_converges(monkeypatch):
    """A PATCH whose item update failed after the move: the key is already in the new plan."""
    fake = FakeApiGateway({plans()["pro"]: set(), plans()["free"]: {"k1"}, plans()["enterprise"]: set()})
    monkeypatch.setattr("kiln.adapters.apigateway.client", lambda service: fake)
    UsageKeyStore().move("k1", "pro", "free")
    assert fake.members[plans()["free"]] == {"k1"} and fake.members[plans()["pro"]] == set()


def test_a_move_into_a_conflicting_plan_rejoins_the_old_one(monkeypatch):
    # A stray membership in a third plan of the stage makes API Gateway refuse the new plan.
    fake = FakeApiGateway({plans()["pro"]: {"k1"}, plans()["free"]: set(), plans()["enterprise"]: {"k1"}})
    monkeypatch.setattr("kiln.adapters.apigateway.client", lambda service: fake)
    with pytest.raises(ClientError):
        UsageKeyStore().move("k1", "pro", "free")
    assert "k1" not in fake.members[plans()["free"]]
    assert fake.calls[-1] == ("create", plans()["pro"])  # tried to rejoin the old plan


def test_a_workspace_that_cannot_be_stored_leaves_no_usage_key(monkeypatch):
    def fail(self, workspace):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutItem")

    monkeypatch.setattr(AccessStore, "insert_workspace", fail)
    status, _ = parse(
        workspaces_create.handler(proxy_event("POST", "/v1/workspaces", body={"name": "x", "tier": "pro"}))
    )
    assert status == 503
    assert boto3.client("apigateway").get_api_keys()["items"] == []

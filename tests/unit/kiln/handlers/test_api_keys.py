"""API key handlers through the real pipeline and the real authorizer, with moto behind them.

Callers are real keys: each request's authorizer context is what the authorizer answered for
the caller's secret, so scopes, allow-lists, revocation and expiry are the stored ones. The
clock of the access service is pinned so expiry and the rotation grace can be crossed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from kiln import services
from kiln.adapters.apigateway import UsageKeyStore
from kiln.adapters.dynamodb.access import AccessStore
from kiln.bootstrap import provision_admin
from kiln.clock import iso
from kiln.domain.access import ROTATION_GRACE_SECONDS, AccessService, hash_secret
from kiln.handlers import api_keys_create, api_keys_list, api_keys_revoke, api_keys_rotate, authorizer
from tests.fakes import FakeClock
from tests.unit.conftest import TABLE, parse, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/api-keys"
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MISSING_KEY = "key_01m885m8rskqxxjknrtpgbxm1p"


@pytest.fixture
def clock() -> FakeClock:
    """Pins the clock of the access service used by the handlers and the authorizer."""
    pinned = FakeClock(START, step=timedelta(0))
    service = AccessService(AccessStore(), UsageKeyStore(), clock=pinned, sleep=pinned.sleep)
    services.use(services.build(access=service))
    return pinned


@pytest.fixture
def admin(clock: FakeClock) -> str:
    """The secret of a bootstrap admin key (every scope, its own enterprise workspace)."""
    return provision_admin()


# --- helpers -------------------------------------------------------------------------------------


def authorize(secret: str) -> dict:
    """The authorizer's answer for a secret; raises Exception("Unauthorized") for a 401."""
    return authorizer.handler(
        {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"Authorization": f"Bearer {secret}"}}
    )


def authenticates(secret: str) -> bool:
    try:
        authorize(secret)
    except Exception as error:  # noqa: BLE001
        assert str(error) == "Unauthorized"
        return False
    return True


def context_of(secret: str) -> dict:
    answer = authorize(secret)
    return {**answer["context"], "principalId": answer["principalId"]}


def create(caller: str | dict, expect: int | None = 201, **body) -> tuple[int, dict]:
    context = caller if isinstance(caller, dict) else context_of(caller)
    body.setdefault("name", "a key")
    body.setdefault("scopes", ["project:read"])
    response = api_keys_create.handler(proxy_event("POST", "/v1/api-keys", body=body, authorizer=context))
    status, payload = parse(response)
    if expect is not None:
        assert status == expect, payload
    if status == 201:
        assert response["headers"]["Cache-Control"] == "no-store"
    return status, payload


def new_key(caller: str, **body) -> dict:
    return create(caller, **body)[1]["data"]


def listing(caller: str | dict, **query) -> tuple[int, dict]:
    context = caller if isinstance(caller, dict) else context_of(caller)
    return parse(api_keys_list.handler(proxy_event("GET", "/v1/api-keys", query=query or None, authorizer=context)))


def revoke(caller: str | dict, key_id: str, **query) -> tuple[int, dict]:
    context = caller if isinstance(caller, dict) else context_of(caller)
    return parse(
        api_keys_revoke.handler(
            proxy_event(
                "DELETE",
                "/v1/api-keys/{keyId}",
                f"/v1/api-keys/{key_id}",
                path_params={"keyId": key_id},
                query=query or None,
                authorizer=context,
            )
        )
    )


def rotate(caller: str | dict, key_id: str, **query) -> tuple[int, dict]:
    context = caller if isinstance(caller, dict) else context_of(caller)
    response = api_keys_rotate.handler(
        proxy_event(
            "POST",
            "/v1/api-keys/{keyId}/rotate",
            f"/v1/api-keys/{key_id}/rotate",
            path_params={"keyId": key_id},
            query=query or None,
            authorizer=context,
        )
    )
    status, payload = parse(response)
    if status == 201:
        assert response["headers"]["Cache-Control"] == "no-store"
    return status, payload


def other_workspace(tier: str = "pro") -> str:
    return services.current().access.create_workspace("other", tier).id


def key_in(workspace_id: str, scopes: tuple[str, ...] = ("project:read",), **kwargs) -> tuple[str, str]:
    """(key id, secret) of a key minted directly in a workspace."""
    key, secret = services.current().access.mint_key(workspace_id, "direct", scopes, **kwargs)
    return key.id, secret


# --- create ------------------------------------------------------------------------------------


def test_create_returns_the_secret_once_and_it_authenticates(admin):
    key = new_key(
        admin,
        name="  CI  ",
        scopes=["project:write", "project:read", "project:read"],
        allowedPaths=["/v1/projects", "/v1/projects/*"],
    )
    secret = key.pop("secret")
    assert secret.startswith("kiln_") and len(secret) == 48
    admin_ws = context_of(admin)["workspaceId"]
    assert key == {
        "id": key["id"],
        "name": "CI",
        "prefix": secret[:12],
        "scopes": ["project:read", "project:write"],  # canonical order, no repeats
        "allowedPaths": ["/v1/projects", "/v1/projects/*"],
        "status": "active",
        "workspaceId": admin_ws,
        "createdAt": iso(START),
        "expiresAt": None,
        "lastUsedAt": None,
        "revokedAt": None,
        "rotatedAt": None,
        "previousSecretExpiresAt": None,
    }
    assert key["id"].startswith("key_")
    context = context_of(secret)
    assert context["workspaceId"] == admin_ws and context["keyId"] == key["id"]
    assert context["scopes"] == "project:read project:write"
    assert json.loads(context["allowedPaths"]) == ["/v1/projects", "/v1/projects/*"]


def test_only_the_hash_is_stored_and_the_list_never_shows_a_secret(admin):
    key = new_key(admin)
    secret = key["secret"]
    items = boto3.client("dynamodb").query(
        TableName=TABLE,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": f"WS#{key['workspaceId']}#APIKEYS"}},
    )["Items"]
    assert secret not in json.dumps(items)
    assert hash_secret(secret) in json.dumps(items)
    status, body = listing(admin)
    assert status == 200
    assert secret not in json.dumps(body) and hash_secret(secret) not in json.dumps(body)
    listed = {k["id"]: k for k in body["data"]}
    assert "secret" not in listed[key["id"]]
    assert listed[key["id"]]["prefix"] == secret[:12]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["project:read", "projects:delete"]}, "scopes.1"),
        ({"scopes": "project:read"}, "scopes"),
        ({"name": ""}, "name"),
        ({"allowedPaths": ["v1/projects"]}, "allowedPaths.0"),
        ({"allowedPaths": ["/v1/pro jects"]}, "allowedPaths.0"),
        ({"allowedPaths": ["/" + "a" * 200]}, "allowedPaths.0"),
        ({"allowedPaths": [f"/v1/p{i}" for i in range(21)]}, "allowedPaths"),
        ({"allowedPaths": None}, "allowedPaths"),
        ({"expiresAt": iso(START - timedelta(seconds=1))}, "expiresAt"),
        ({"expiresAt": iso(START + timedelta(days=731))}, "expiresAt"),
        ({"expiresAt": "2026-06-01T00:00:00"}, "expiresAt"),  # no time zone
        ({"expiresAt": "next week"}, "expiresAt"),
        ({"workspaceId": "not-a-workspace"}, "workspaceId"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_create_rejects_bad_input_and_stores_nothing(admin, body, field):
    status, payload = create(admin, expect=400, **body)
    assert payload["error"]["code"] == "VALIDATION_ERROR"
    assert field in [f["field"] for f in payload["error"]["details"]["fields"]], payload
    assert listing(admin)[1]["pagination"]["total"] == 1  # the admin key alone


def test_expiry_up_to_two_years_is_accepted(admin):
    far = START + timedelta(days=730)
    assert new_key(admin, expiresAt=far.isoformat())["expiresAt"] == iso(far)


def test_scopes_must_be_held_by_the_creator(admin):
    reader = new_key(admin, scopes=["project:read"])["secret"]
    status, body = create(reader, expect=403, scopes=["project:read", "project:write", "admin"])
    error = body["error"]
    assert error["code"] == "FORBIDDEN"
    assert error["details"]["missingScopes"] == ["project:write", "admin"]
    assert "project:write admin" in error["message"]
    assert listing(admin)[1]["pagination"]["total"] == 2
    # What it holds, it may grant.
    assert new_key(reader, scopes=["project:read"])["scopes"] == ["project:read"]


def test_missing_scope_answer_carries_the_insufficient_scope_challenge(admin):
    reader = new_key(admin, scopes=["project:read"])["secret"]
    response = api_keys_create.handler(
        proxy_event("POST", "/v1/api-keys", body={"name": "x", "scopes": ["ai:invoke"]}, authorizer=context_of(reader))
    )
    assert response["statusCode"] == 403
    assert (
        response["headers"]["WWW-Authenticate"] == 'Bearer realm="kiln", error="insufficient_scope", scope="ai:invoke"'
    )


def test_a_restricted_creator_only_makes_keys_within_its_allow_list(admin):
    limited = new_key(admin, scopes=["project:read"], allowedPaths=["/v1/api-keys", "/v1/projects/**"])["secret"]
    status, body = create(limited, expect=403)  # no allow-list would be every path
    assert body["error"]["details"]["allowedPaths"] == ["/v1/api-keys", "/v1/projects/**"]
    status, body = create(limited, expect=403, allowedPaths=["/v1/projects/*", "/v1/workspaces"])
    assert body["error"]["details"]["pathsOutsideAllowList"] == ["/v1/workspaces"]
    made = new_key(limited, allowedPaths=["/v1/projects/*", "/v1/projects/proj_x/runs", "/v1/projects/**"])
    assert made["allowedPaths"] == ["/v1/projects/*", "/v1/projects/proj_x/runs", "/v1/projects/**"]


def test_a_key_never_makes_a_key_that_outlives_it(admin, clock):
    ends = START + timedelta(days=1)
    mortal = new_key(admin, scopes=["project:read"], expiresAt=iso(ends))["secret"]
    assert new_key(mortal)["expiresAt"] == iso(ends)  # inherited when not given
    assert new_key(mortal, expiresAt=iso(ends - timedelta(hours=1)))["expiresAt"] == iso(ends - timedelta(hours=1))
    status, body = create(mortal, expect=403, expiresAt=iso(ends + timedelta(seconds=1)))
    assert body["error"]["details"]["callerExpiresAt"] == iso(ends)


def test_workspace_id_is_admin_only_and_must_exist(admin):
    theirs = other_workspace()
    reader = new_key(admin, scopes=["project:read"])["secret"]
    status, body = create(reader, expect=403, workspaceId=theirs)
    assert body["error"]["details"]["missingScopes"] == ["admin"]
    # Naming one's own workspace is fine for anyone.
    assert (
        new_key(reader, workspaceId=context_of(reader)["workspaceId"])["workspaceId"]
        == context_of(reader)["workspaceId"]
    )
    status, body = create(admin, expect=404, workspaceId="ws_01m885m8rskqxxjknrtpgbxzzz")
    assert body["error"]["code"] == "NOT_FOUND" and body["error"]["details"]["resource"] == "workspace"
    minted = new_key(admin, workspaceId=theirs, scopes=["project:read", "project:write"])
    assert minted["workspaceId"] == theirs
    context = context_of(minted["secret"])
    assert context["workspaceId"] == theirs and context["tier"] == "pro"


# --- list ----------------------------------------------------------------------------------------


def test_list_pages_and_cursors_over_the_workspace_s_keys_only(admin):
    made = [new_key(admin, name=f"k{i}")["id"] for i in range(4)]
    theirs = other_workspace()
    key_in(theirs)
    status, body = listing(admin, pageSize="2", page="1")
    assert status == 200
    assert body["pagination"] == {"page": 1, "pageSize": 2, "total": 5, "totalPages": 3}
    assert [k["id"] for k in body["data"]] == made[::-1][:2]  # newest first
    first = listing(admin, limit="3")[1]
    assert first["pagination"]["hasMore"] is True and len(first["data"]) == 3
    rest = listing(admin, limit="3", cursor=first["pagination"]["nextCursor"])[1]
    assert rest["pagination"] == {"limit": 3, "nextCursor": None, "hasMore": False}
    ids = [k["id"] for k in first["data"] + rest["data"]]
    assert len(ids) == len(set(ids)) == 5
    assert set(made) < set(ids)
    assert all(k["workspaceId"] == context_of(admin)["workspaceId"] for k in first["data"] + rest["data"])


def test_an_admin_lists_another_workspace_s_keys_others_may_not(admin):
    theirs = other_workspace()
    their_key, _ = key_in(theirs)
    body = listing(admin, workspaceId=theirs)[1]
    assert [k["id"] for k in body["data"]] == [their_key]
    reader = new_key(admin, scopes=["project:read"])["secret"]
    assert listing(reader, workspaceId=theirs)[0] == 403
    assert listing(admin, workspaceId="ws_01m885m8rskqxxjknrtpgbxzzz")[0] == 404
    # A cursor is bound to the list it came from.
    key_in(theirs)
    cursor = listing(admin, workspaceId=theirs, limit="1")[1]["pagination"]["nextCursor"]
    status, body = listing(admin, limit="1", cursor=cursor)
    assert status == 400 and body["error"]["details"]["fields"][0]["field"] == "cursor"


def test_last_used_is_recorded_at_most_once_a_minute(admin, clock):
    secret = new_key(admin)["secret"]

    def last_used() -> str | None:
        return services.current().access.find_key(secret).last_used_at

    assert last_used() is None
    authorize(secret)
    assert last_used() == iso(START)
    clock.advance(seconds=59)
    authorize(secret)
    assert last_used() == iso(START)
    clock.advance(seconds=2)
    authorize(secret)
    assert last_used() == iso(START + timedelta(seconds=61))
    listed = {k["prefix"]: k for k in listing(admin)[1]["data"]}
    assert listed[secret[:12]]["lastUsedAt"] == iso(START + timedelta(seconds=61))


# --- revoke --------------------------------------------------------------------------------------


def test_revoke_is_idempotent_and_the_authorizer_rejects_the_key(admin, clock):
    key = new_key(admin, scopes=["project:read", "project:write"])
    assert authenticates(key["secret"])
    clock.advance(seconds=5)
    status, body = revoke(admin, key["id"])
    assert status == 200
    revoked = body["data"]
    assert revoked["status"] == "revoked" and revoked["revokedAt"] == iso(START + timedelta(seconds=5))
    assert "secret" not in revoked
    assert not authenticates(key["secret"])
    clock.advance(seconds=5)
    assert revoke(admin, key["id"]) == (200, body)  # the same record, the first revokedAt
    listed = {k["id"]: k for k in listing(admin)[1]["data"]}
    assert listed[key["id"]]["status"] == "revoked"


def test_a_revoked_key_cannot_manage_keys_even_while_its_answer_is_cached(admin):
    key = new_key(admin, scopes=["project:read"])
    cached = context_of(key["secret"])  # what API Gateway keeps for up to 60 s
    assert revoke(admin, key["id"])[0] == 200
    status, body = create(cached, expect=401)
    assert body["error"]["code"] == "UNAUTHORIZED"
    assert rotate(cached, key["id"])[0] == 401
    # Listing stays possible within the cache window: it changes nothing.
    assert listing(cached)[0] == 200


def test_a_caller_key_not_yet_in_the_index_is_waited_for(admin, clock, monkeypatch):
    """gsi1 lags the table a little: a key used a moment after its creation is still itself."""
    fresh = new_key(admin, scopes=["project:read"])
    context = context_of(fresh["secret"])
    real = AccessStore.find_key
    lagging = {"misses": 2}

    def find_key(self, workspace_id, key_id):
        if key_id == fresh["id"] and lagging["misses"]:
            lagging["misses"] -= 1
            return None
        return real(self, workspace_id, key_id)

    monkeypatch.setattr(AccessStore, "find_key", find_key)
    assert create(context)[0] == 201
    assert clock.sleeps == [0.2, 0.4]
    # A key that is nowhere (a forged context) is refused after the short wait.
    clock.sleeps.clear()
    forged = {**context, "keyId": MISSING_KEY}
    assert create(forged, expect=401)[1]["error"]["code"] == "UNAUTHORIZED"
    assert sum(clock.sleeps) < 2


def test_a_key_revokes_only_keys_within_its_powers_admin_any(admin):
    reader = new_key(admin, scopes=["project:read"])
    writer = new_key(admin, scopes=["project:read", "project:write"])
    status, body = revoke(reader["secret"], writer["id"])
    assert status == 403 and body["error"]["details"]["missingScopes"] == ["project:write"]
    assert authenticates(writer["secret"])
    peer = new_key(admin, scopes=["project:read"])
    assert revoke(reader["secret"], peer["id"])[0] == 200
    assert revoke(writer["secret"], reader["id"])[0] == 200  # itself or a lesser key
    admin_only = new_key(admin, scopes=["admin"])
    assert revoke(admin_only["secret"], writer["id"])[0] == 200  # admin: any key


def test_another_workspace_s_key_is_not_found_exactly_like_a_missing_one(admin):
    theirs = other_workspace()
    their_key, their_secret = key_in(theirs)
    reader = new_key(admin, scopes=["project:read"])["secret"]
    for action in (revoke, rotate):
        for caller in (reader, admin):  # admin too, unless it names the workspace
            theirs_answer = action(caller, their_key)
            missing_answer = action(caller, MISSING_KEY)
            assert theirs_answer[0] == missing_answer[0] == 404
            assert theirs_answer[1]["error"]["code"] == missing_answer[1]["error"]["code"] == "NOT_FOUND"
            assert theirs_answer[1]["error"]["message"] == missing_answer[1]["error"]["message"]
            assert theirs_answer[1]["error"]["details"] == {**missing_answer[1]["error"]["details"], "id": their_key}
    assert authenticates(their_secret)
    assert revoke(reader, their_key, workspaceId=theirs)[0] == 403
    status, body = revoke(admin, their_key, workspaceId=theirs)
    assert status == 200 and body["data"]["workspaceId"] == theirs
    assert not authenticates(their_secret)


def test_path_ids_that_are_not_key_ids_are_validation_errors(admin):
    status, body = revoke(admin, "proj_01m885m8rskqxxjknrtpgbxm1p")
    assert status == 400 and body["error"]["details"]["fields"][0]["field"] == "keyId"


# --- rotate --------------------------------------------------------------------------------------


def test_rotate_issues_a_new_secret_and_the_old_one_works_for_the_grace_period(admin, clock):
    key = new_key(admin, scopes=["project:read", "project:write"], allowedPaths=["/v1/projects/**"])
    old = key["secret"]
    clock.advance(minutes=1)
    rotated_at = clock.now
    status, body = rotate(admin, key["id"])
    assert status == 201
    rotated = body["data"]
    new = rotated.pop("secret")
    grace_end = rotated_at + timedelta(seconds=ROTATION_GRACE_SECONDS)
    assert ROTATION_GRACE_SECONDS == 24 * 60 * 60
    assert new != old and rotated["prefix"] == new[:12]
    assert rotated["id"] == key["id"] and rotated["scopes"] == key["scopes"]
    assert rotated["allowedPaths"] == key["allowedPaths"] and rotated["createdAt"] == key["createdAt"]
    assert rotated["rotatedAt"] == iso(rotated_at)
    assert rotated["previousSecretExpiresAt"] == iso(grace_end)
    assert rotated["status"] == "rotated"
    # Both secrets are the same key.
    assert context_of(old)["keyId"] == context_of(new)["keyId"] == key["id"]
    # The list shows the key once, as its new secret.
    listed = [k for k in listing(admin)[1]["data"] if k["id"] == key["id"]]
    assert len(listed) == 1 and listed[0]["prefix"] == new[:12]
    clock.now = grace_end - timedelta(milliseconds=1)
    assert authenticates(old) and authenticates(new)
    clock.now = grace_end
    assert not authenticates(old)
    assert authenticates(new)
    listed = {k["id"]: k for k in listing(admin)[1]["data"]}
    assert listed[key["id"]]["status"] == "active"


def test_the_superseded_secret_leaves_the_list_index_and_expires_by_ttl(admin, clock):
    key = new_key(admin)
    rotate(admin, key["id"])
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"APIKEY#{hash_secret(key['secret'])}"}, "sk": {"S": "APIKEY"}}
    )["Item"]
    assert "gsi1pk" not in item and "gsi1sk" not in item
    grace_end = START + timedelta(seconds=ROTATION_GRACE_SECONDS)
    assert item["graceUntil"]["S"] == iso(grace_end)
    assert int(item["expiresAtEpoch"]["N"]) == int(grace_end.timestamp()) + 24 * 60 * 60


def test_the_grace_period_is_configurable(admin, clock, monkeypatch):
    monkeypatch.setenv("KILN_KEY_ROTATION_GRACE_SECONDS", "5")
    key = new_key(admin)
    rotated = rotate(admin, key["id"])[1]["data"]
    assert rotated["previousSecretExpiresAt"] == iso(START + timedelta(seconds=5))
    clock.advance(seconds=5)
    assert not authenticates(key["secret"]) and authenticates(rotated["secret"])


def test_rotating_again_ends_the_earlier_secret_at_once(admin, clock):
    key = new_key(admin)
    first = key["secret"]
    second = rotate(admin, key["id"])[1]["data"]["secret"]
    clock.advance(minutes=10)
    assert authenticates(first)
    third = rotate(admin, key["id"])[1]["data"]
    assert not authenticates(first)  # at most two working secrets
    assert authenticates(second) and authenticates(third["secret"])
    assert third["previousSecretExpiresAt"] == iso(clock.now + timedelta(seconds=ROTATION_GRACE_SECONDS))


def test_revoking_during_the_grace_period_revokes_both_secrets(admin):
    key = new_key(admin)
    new = rotate(admin, key["id"])[1]["data"]["secret"]
    status, body = revoke(admin, key["id"])
    assert status == 200 and body["data"]["status"] == "revoked"
    assert not authenticates(key["secret"]) and not authenticates(new)


def test_a_stale_index_entry_still_leads_to_the_current_secret(admin):
    """gsi1 is eventually consistent: just after a rotation it may still name the old secret."""
    dynamodb = boto3.client("dynamodb")
    key = new_key(admin)
    rotated = rotate(admin, key["id"])[1]["data"]
    old_key = {"pk": {"S": f"APIKEY#{hash_secret(key['secret'])}"}, "sk": {"S": "APIKEY"}}
    new_key_ = {"pk": {"S": f"APIKEY#{hash_secret(rotated['secret'])}"}, "sk": {"S": "APIKEY"}}
    # The index as it may look for a moment: the old secret's entry, not yet the new one's.
    dynamodb.update_item(
        TableName=TABLE,
        Key=old_key,
        UpdateExpression="SET gsi1pk = :p, gsi1sk = :s",
        ExpressionAttributeValues={":p": {"S": f"WS#{key['workspaceId']}#APIKEYS"}, ":s": {"S": f"APIKEY#{key['id']}"}},
    )
    dynamodb.update_item(TableName=TABLE, Key=new_key_, UpdateExpression="REMOVE gsi1pk, gsi1sk")
    found = AccessStore().find_key(key["workspaceId"], key["id"])
    assert found is not None and found.secret_hash == hash_secret(rotated["secret"])
    # So a revocation in that moment still reaches both secrets.
    assert revoke(admin, key["id"])[0] == 200
    assert not authenticates(key["secret"]) and not authenticates(rotated["secret"])


def test_rotating_a_revoked_or_expired_key_is_a_conflict(admin, clock):
    key = new_key(admin)
    revoke(admin, key["id"])
    status, body = rotate(admin, key["id"])
    assert status == 409 and body["error"]["details"]["currentStatus"] == "revoked"
    short = new_key(admin, expiresAt=iso(START + timedelta(hours=1)))
    clock.advance(hours=1)
    status, body = rotate(admin, short["id"])
    assert status == 409 and body["error"]["details"]["currentStatus"] == "expired"


def test_the_previous_secret_never_outlives_the_key(admin):
    ends = START + timedelta(hours=2)
    key = new_key(admin, expiresAt=iso(ends))
    assert rotate(admin, key["id"])[1]["data"]["previousSecretExpiresAt"] == iso(ends)


def test_a_key_rotates_only_keys_within_its_powers(admin):
    reader = new_key(admin, scopes=["project:read"])
    writer = new_key(admin, scopes=["project:read", "project:write"])
    status, body = rotate(reader["secret"], writer["id"])
    assert status == 403 and body["error"]["details"]["missingScopes"] == ["project:write"]
    # Not even admin obtains a secret with scopes it lacks.
    admin_only = new_key(admin, scopes=["admin"])
    assert rotate(admin_only["secret"], writer["id"])[0] == 403
    assert rotate(writer["secret"], reader["id"])[0] == 201
    assert rotate(reader["secret"], reader["id"])[0] == 201  # itself


# --- expiry ----------------------------------------------------------------------------------------


def test_an_expired_key_is_rejected_by_the_authorizer_and_listed_as_expired(admin, clock):
    key = new_key(admin, expiresAt=iso(START + timedelta(hours=1)))
    clock.now = START + timedelta(hours=1) - timedelta(milliseconds=1)
    assert authenticates(key["secret"])
    clock.now = START + timedelta(hours=1)
    assert not authenticates(key["secret"])
    listed = {k["id"]: k for k in listing(admin)[1]["data"]}
    assert listed[key["id"]]["status"] == "expired"


def test_a_retried_creation_replays_the_key_without_its_secret_and_stores_none(admin):
    context = context_of(admin)
    body = {"name": "ci", "scopes": ["project:read"]}

    def post():
        return parse(
            api_keys_create.handler(
                proxy_event(
                    "POST", "/v1/api-keys", body=body, authorizer=context, headers={"Idempotency-Key": "mint-ci"}
                )
            )
        )

    (first_status, first), (second_status, second) = post(), post()
    assert first_status == second_status == 201
    assert first["data"]["secret"].startswith("kiln_")
    assert second["data"]["id"] == first["data"]["id"]  # one key, not two
    assert "secret" not in second["data"] and second["data"] == {
        k: v for k, v in first["data"].items() if k != "secret"
    }
    stored = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "IDEMPOTENCY#api_keys_create"}},
        ConsistentRead=True,
    )["Items"]
    assert stored and first["data"]["secret"] not in json.dumps(stored)

"""People over HTTP against a local cloud started with a bootstrap person: what a client of
/v1/users sees, and what the table behind it holds (never a password, only a scrypt hash)."""

from __future__ import annotations

import re

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

TABLE = "kiln-local"
BOOTSTRAP_EMAIL = "Owner@Example.com"
BOOTSTRAP_PASSWORD = "bootstrap password, never printed"
PASSWORD = "correct horse battery staple"
SCRYPT = re.compile(r"^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$")


@pytest.fixture(scope="module")
def cloud(local_cloud_factory):
    cloud = local_cloud_factory(
        env={"KILN_LOCAL_ADMIN_EMAIL": BOOTSTRAP_EMAIL, "KILN_LOCAL_ADMIN_PASSWORD": BOOTSTRAP_PASSWORD}
    )
    yield cloud
    cloud.stop()  # now rather than at the session's end


def call(cloud, method: str, path: str, key: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {key or cloud.admin_key}"}
    return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


def table_items(cloud) -> list[dict]:
    return cloud.aws("dynamodb").scan(TableName=TABLE)["Items"]


def test_the_bootstrap_person_is_listed_and_only_its_email_is_printed(cloud):
    listed = call(cloud, "GET", "/v1/users").json()["data"]
    assert [u["email"] for u in listed] == ["owner@example.com"]
    assert listed[0]["scopes"] == ["project:read", "project:write", "ai:invoke", "admin"]
    assert "owner@example.com" in cloud.log() and BOOTSTRAP_PASSWORD not in cloud.log()


def test_people_are_created_read_listed_changed_and_deleted(cloud):
    answers: list[requests.Response] = []
    created = call(
        cloud,
        "POST",
        "/v1/users",
        json={"email": "Ada@Example.com", "name": "Ada", "password": PASSWORD, "scopes": ["project:read"]},
    )
    answers.append(created)
    assert created.status_code == 201, created.text
    user = created.json()["data"]
    assert user["email"] == "ada@example.com" and user["name"] == "Ada" and "password" not in user
    user_id = user["id"]

    answers.append(got := call(cloud, "GET", f"/v1/users/{user_id}"))
    assert got.status_code == 200 and got.json()["data"] == user
    answers.append(page := call(cloud, "GET", "/v1/users?page=1&pageSize=1"))
    assert page.json()["pagination"]["total"] == 2 and page.json()["data"][0]["id"] == user_id  # newest first
    answers.append(first := call(cloud, "GET", "/v1/users?limit=1"))
    cursor = first.json()["pagination"]["nextCursor"]
    answers.append(second := call(cloud, "GET", "/v1/users", params={"limit": 1, "cursor": cursor}))
    assert [u["email"] for u in first.json()["data"] + second.json()["data"]] == [
        "ada@example.com",
        "owner@example.com",
    ]

    new_password = "another long passphrase"
    answers.append(
        patched := call(
            cloud,
            "PATCH",
            f"/v1/users/{user_id}",
            json={"name": "Ada L.", "scopes": ["project:read", "project:write"], "password": new_password},
        )
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["data"]["name"] == "Ada L." and patched.json()["data"]["scopes"] == [
        "project:read",
        "project:write",
    ]
    assert patched.json()["data"]["passwordChangedAt"] > user["passwordChangedAt"]

    # Nothing a client or the table sees holds a password; the stored hash is scrypt's.
    for answer in answers:
        assert PASSWORD not in answer.text and new_password not in answer.text
    items = table_items(cloud)
    for secret in (PASSWORD, new_password, BOOTSTRAP_PASSWORD):
        assert secret not in str(items)
    person = next(i for i in items if i["sk"]["S"] == f"USER#{user_id}")
    assert SCRYPT.match(person["passwordHash"]["S"]), person["passwordHash"]["S"]
    assert {k for k in person if "password" in k.lower()} == {"passwordHash", "passwordChangedAt"}

    deleted = call(cloud, "DELETE", f"/v1/users/{user_id}")
    assert deleted.status_code == 204 and deleted.text == ""
    assert call(cloud, "GET", f"/v1/users/{user_id}").status_code == 404
    assert not [i for i in table_items(cloud) if i["pk"]["S"] == "EMAIL#ada@example.com"]
    # Its email is free again.
    again = call(
        cloud,
        "POST",
        "/v1/users",
        json={"email": "ada@example.com", "name": "Ada", "password": PASSWORD, "scopes": ["project:read"]},
    )
    assert again.status_code == 201
    assert call(cloud, "DELETE", f"/v1/users/{again.json()['data']['id']}").status_code == 204


def test_a_duplicate_email_is_409_and_a_short_password_400_changing_nothing(cloud):
    body = {"email": "OWNER@example.com", "name": "Twin", "password": PASSWORD, "scopes": ["project:read"]}
    duplicate = call(cloud, "POST", "/v1/users", json=body)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "CONFLICT"
    short = call(cloud, "POST", "/v1/users", json={**body, "email": "short@example.com", "password": "elevenchars"})
    assert short.status_code == 400 and short.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "elevenchars" not in short.text
    assert [u["email"] for u in call(cloud, "GET", "/v1/users").json()["data"]] == ["owner@example.com"]


def test_another_workspace_s_person_is_404_like_a_missing_one(cloud):
    workspace = call(cloud, "POST", "/v1/workspaces", json={"name": "Elsewhere", "tier": "pro"}).json()["data"]["id"]
    theirs = call(
        cloud,
        "POST",
        "/v1/users",
        json={
            "email": "them@example.com",
            "name": "Them",
            "password": PASSWORD,
            "scopes": ["admin"],
            "workspaceId": workspace,
        },
    )
    assert theirs.status_code == 201 and theirs.json()["data"]["workspaceId"] == workspace
    their_id = theirs.json()["data"]["id"]
    missing = "usr_01m885m8rskqxxjknrtpgbxzzz"
    for method, extra in (("GET", {}), ("PATCH", {"json": {"name": "x"}}), ("DELETE", {})):
        mine, absent = (
            call(cloud, method, f"/v1/users/{their_id}", **extra),
            call(cloud, method, f"/v1/users/{missing}", **extra),
        )
        assert mine.status_code == absent.status_code == 404
        assert mine.json()["error"]["code"] == absent.json()["error"]["code"] == "NOT_FOUND"
        assert set(mine.json()["error"]["details"]) == set(absent.json()["error"]["details"])
    assert call(cloud, "GET", f"/v1/users/{their_id}?workspaceId={workspace}").status_code == 200
    assert call(cloud, "GET", f"/v1/users?workspaceId={workspace}").json()["data"][0]["id"] == their_id


def test_scopes_above_the_creator_s_are_refused(cloud):
    minted = call(cloud, "POST", "/v1/api-keys", json={"name": "people admin", "scopes": ["admin", "project:read"]})
    narrow = minted.json()["data"]["secret"]
    body = {"email": "wide@example.com", "name": "Wide", "password": PASSWORD, "scopes": ["project:read", "ai:invoke"]}
    refused = call(cloud, "POST", "/v1/users", narrow, json=body)
    assert refused.status_code == 403 and refused.json()["error"]["details"]["missingScopes"] == ["ai:invoke"]
    assert "wide@example.com" not in str(table_items(cloud))
    allowed = call(cloud, "POST", "/v1/users", narrow, json={**body, "scopes": ["project:read"]})
    assert allowed.status_code == 201
    raise_it = call(cloud, "PATCH", f"/v1/users/{allowed.json()['data']['id']}", narrow, json={"scopes": ["ai:invoke"]})
    assert raise_it.status_code == 403
    assert call(cloud, "DELETE", f"/v1/users/{allowed.json()['data']['id']}").status_code == 204


def test_an_idempotent_create_replays_the_person_and_its_record_holds_no_password(cloud):
    body = {"email": "retry@example.com", "name": "Retry", "password": PASSWORD, "scopes": ["project:read"]}
    headers = {"Authorization": f"Bearer {cloud.admin_key}", "Idempotency-Key": "people-retry"}
    first = requests.post(f"{cloud.url}/v1/users", json=body, headers=headers, timeout=30)
    again = requests.post(f"{cloud.url}/v1/users", json=body, headers=headers, timeout=30)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["data"] == first.json()["data"]
    records = [i for i in table_items(cloud) if i["pk"]["S"].startswith("IDEMPOTENCY#users_create")]
    assert records and PASSWORD not in str(records)
    assert call(cloud, "DELETE", f"/v1/users/{first.json()['data']['id']}").status_code == 204

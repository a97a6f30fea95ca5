"""People handlers through the real pipeline on moto's DynamoDB: what a caller sees, what the
table holds (never the password), the email's uniqueness item, and the fake that the domain
tests use answering as this adapter does."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from kiln.adapters.dynamodb.access import AccessStore
from kiln.adapters.dynamodb.people import PeopleStore
from kiln.domain.access import Workspace
from kiln.domain.people import EmailTaken, Person, PersonMissing
from kiln.handlers import users_create, users_delete, users_get, users_list, users_update
from tests.fakes import FakePeople
from tests.unit.conftest import TABLE, parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WS = "ws_01m885m8rskqxxjknrtpgbxm2p"
ITEM = "/v1/users/{userId}"
PASSWORD = "correct horse battery staple"


def create(email: str = "ada@example.com", **fields: Any) -> tuple[int, dict]:
    body = {"email": email, "name": "Ada", "password": PASSWORD, "scopes": ["project:read"], **fields}
    return parse(users_create.handler(proxy_event("POST", "/v1/users", body=body)))


def on_item(module: Any, method: str, user_id: str, **kwargs: Any) -> tuple[int, dict]:
    event = proxy_event(method, ITEM, f"/v1/users/{user_id}", path_params={"userId": user_id}, **kwargs)
    return parse(module.handler(event))


def table_items() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Items"]


def test_create_answers_the_person_and_stores_only_a_scrypt_hash():
    status, body = create("Ada@Example.com")
    assert status == 201, body
    user = body["data"]
    assert set(user) == {"id", "email", "name", "scopes", "workspaceId", "createdAt", "updatedAt", "passwordChangedAt"}
    assert user["email"] == "ada@example.com" and user["workspaceId"] == WS and user["scopes"] == ["project:read"]
    items = table_items()
    assert PASSWORD not in str(items)
    person = next(i for i in items if i["sk"]["S"] == f"USER#{user['id']}")
    assert person["passwordHash"]["S"].startswith("scrypt$32768$8$1$")
    email = next(i for i in items if i["pk"]["S"] == "EMAIL#ada@example.com")
    assert email["userId"]["S"] == user["id"]


def test_bad_input_is_refused_without_echoing_the_password_and_changes_nothing():
    status, body = create(password="too short")
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR" and "too short" not in str(body)
    status, body = create(email="not-an-email")
    assert status == 400
    status, body = create(scopes=["admin", "ai:invoke"])  # held by the default admin principal: fine
    assert status == 201
    narrow = principal_context(scopes="admin project:read")
    event = proxy_event(
        "POST",
        "/v1/users",
        body={"email": "b@example.com", "name": "B", "password": PASSWORD, "scopes": ["project:write"]},
        authorizer=narrow,
    )
    status, body = parse(users_create.handler(event))
    assert status == 403 and body["error"]["details"]["missingScopes"] == ["project:write"]
    assert len([i for i in table_items() if i.get("type", {}).get("S") == "user"]) == 1


def test_duplicate_email_is_a_conflict():
    assert create()[0] == 201
    status, body = create("ADA@example.com")
    assert status == 409 and body["error"]["code"] == "CONFLICT"


def test_get_list_patch_and_delete():
    user = create()[1]["data"]
    create("grace@example.com")
    status, body = on_item(users_get, "GET", user["id"])
    assert status == 200 and body["data"] == user
    status, body = parse(users_list.handler(proxy_event("GET", "/v1/users", query={"pageSize": "1"})))
    assert status == 200 and body["pagination"]["total"] == 2 and len(body["data"]) == 1
    status, body = parse(users_list.handler(proxy_event("GET", "/v1/users", query={"limit": "1"})))
    assert body["pagination"]["hasMore"] is True
    cursor = body["pagination"]["nextCursor"]
    status, rest = parse(users_list.handler(proxy_event("GET", "/v1/users", query={"limit": "1", "cursor": cursor})))
    assert {body["data"][0]["email"], rest["data"][0]["email"]} == {"ada@example.com", "grace@example.com"}

    before = next(i for i in table_items() if i["sk"]["S"] == f"USER#{user['id']}")["passwordHash"]["S"]
    status, body = on_item(
        users_update,
        "PATCH",
        user["id"],
        body={"name": "Ada L.", "email": "lovelace@example.com", "password": "x" * 12},
    )
    assert status == 200 and body["data"]["name"] == "Ada L." and body["data"]["email"] == "lovelace@example.com"
    after = next(i for i in table_items() if i["sk"]["S"] == f"USER#{user['id']}")["passwordHash"]["S"]
    assert after != before and "x" * 12 not in str(table_items())
    emails = {i["pk"]["S"] for i in table_items() if i["pk"]["S"].startswith("EMAIL#")}
    assert emails == {"EMAIL#lovelace@example.com", "EMAIL#grace@example.com"}
    assert on_item(users_update, "PATCH", user["id"], body={"email": "grace@example.com"})[0] == 409
    assert on_item(users_update, "PATCH", user["id"], body={})[0] == 400

    status, body = on_item(users_delete, "DELETE", user["id"])
    assert status == 204 and body == {}
    assert on_item(users_get, "GET", user["id"])[0] == 404
    assert on_item(users_delete, "DELETE", user["id"])[0] == 404
    assert "EMAIL#lovelace@example.com" not in {i["pk"]["S"] for i in table_items()}


def test_another_workspace_s_person_answers_as_a_missing_one():
    AccessStore().insert_workspace(Workspace(OTHER_WS, "Other", "pro", "u", "v", "2026-01-01T00:00:00.000Z"))
    theirs = create(workspaceId=OTHER_WS)[1]["data"]
    missing = "usr_01m885m8rskqxxjknrtpgbxzzz"
    for module, method in ((users_get, "GET"), (users_update, "PATCH"), (users_delete, "DELETE")):
        kwargs = {"body": {"name": "x"}} if method == "PATCH" else {}
        status, answer = on_item(module, method, theirs["id"], **kwargs)
        status_missing, answer_missing = on_item(module, method, missing, **kwargs)
        assert status == status_missing == 404
        assert answer["error"]["code"] == answer_missing["error"]["code"] == "NOT_FOUND"
    assert on_item(users_get, "GET", theirs["id"], query={"workspaceId": OTHER_WS})[0] == 200


def _person(suffix: str, email: str) -> Person:
    stamp = "2026-11-25T10:00:00.000Z"
    return Person(
        f"usr_01m885m8rskqxxjknrtpgbx{suffix}", WS, email, suffix, ("admin",), "scrypt$1$1$1$a$b", stamp, stamp, stamp
    )


def _scenario(store: Any) -> list[Any]:
    seen: list[Any] = []

    def outcome(call: Any) -> Any:
        try:
            return call()
        except (EmailTaken, PersonMissing) as refusal:
            return type(refusal).__name__

    a, b, c = _person("m1a", "a@x.io"), _person("m1b", "b@x.io"), _person("m1c", "c@x.io")
    for person in (a, b, c):
        seen.append(outcome(lambda person=person: store.insert_person(person)))
    seen.append(outcome(lambda: store.insert_person(_person("m1d", "a@x.io"))))
    seen.append(outcome(lambda: store.replace_person(a, _person("m1a", "b@x.io"))))
    seen.append(outcome(lambda: store.replace_person(a, _person("m1a", "z@x.io"))))
    seen.append(outcome(lambda: store.replace_person(_person("m1z", "y@x.io"), _person("m1z", "w@x.io"))))
    seen.append(store.find_by_email("a@x.io"))
    seen.append(store.find_by_email("z@x.io"))
    seen.append(store.get_person(WS, b.id))
    seen.append(store.get_person(OTHER_WS, b.id))
    seen.append(store.list_people_page(WS, 1, 2))
    first, after = store.list_people_cursor(WS, 2, None)
    seen.append((first, store.list_people_cursor(WS, 2, after)))
    seen.append(store.delete_person(b))
    seen.append(store.delete_person(b))
    seen.append(store.find_by_email("b@x.io"))
    seen.append(outcome(lambda: store.insert_person(_person("m1e", "b@x.io"))))
    return seen


def test_the_fake_answers_as_the_dynamodb_adapter_does():
    assert _scenario(FakePeople()) == _scenario(PeopleStore())

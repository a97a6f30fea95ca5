"""Session handlers through the real pipeline on moto's DynamoDB: the cookie and its attributes,
what the table holds (a token hash, never the token or the password), the CSRF check on changes
made with the cookie, sign-out, the throttle's item, and the sessions a person's deletion ends."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
import pytest

from kiln.domain.sessions import SESSION_COOKIE
from kiln.handlers import (
    projects_create,
    sessions_create,
    sessions_current_delete,
    sessions_current_get,
    users_create,
    users_delete,
)
from tests.unit.conftest import TABLE, parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
PASSWORD = "correct horse battery staple"
CURRENT = "/v1/sessions/current"


@pytest.fixture
def person() -> dict[str, Any]:
    body = {
        "email": "ada@example.com",
        "name": "Ada",
        "password": PASSWORD,
        "scopes": ["project:read", "project:write"],
    }
    status, answer = parse(users_create.handler(proxy_event("POST", "/v1/users", body=body)))
    assert status == 201, answer
    return answer["data"]


def sign_in(email: str = "ada@example.com", password: str = PASSWORD, **kwargs: Any) -> dict[str, Any]:
    event = proxy_event("POST", "/v1/sessions", body={"email": email, "password": password}, authorizer={}, **kwargs)
    return sessions_create.handler(event)


def cookie_of(response: dict[str, Any]) -> str:
    name, _, rest = response["headers"]["Set-Cookie"].partition("=")
    assert name == SESSION_COOKIE
    return rest.split(";")[0]


def session_context(person: dict[str, Any], csrf_token: str) -> dict[str, Any]:
    """What the authorizer hands the functions for a session (kiln.domain.authentication)."""
    return {
        **principal_context(scopes=" ".join(person["scopes"])),
        "keyId": person["id"],
        "principalId": person["id"],
        "credential": "session",
        "userId": person["id"],
        "csrfHash": hashlib.sha256(csrf_token.encode()).hexdigest(),
    }


def as_session(method: str, resource: str, token: str, context: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    headers = {"Cookie": f"theme=dark; {SESSION_COOKIE}={token}", **kwargs.pop("headers", {})}
    return proxy_event(method, resource, headers=headers, authorizer=context, **kwargs)


def table_items() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Items"]


def test_sign_in_sets_the_cookie_and_stores_only_its_hash(person):
    response = sign_in(" ADA@example.com ")
    status, body = parse(response)
    assert status == 201, body
    assert set(body["data"]) == {"user", "csrfToken", "expiresAt"} and body["data"]["user"]["id"] == person["id"]
    attributes = response["headers"]["Set-Cookie"].split("; ")[1:]
    assert attributes == ["Path=/", "HttpOnly", "Secure", "SameSite=Lax", f"Max-Age={12 * 3600}"]
    assert response["headers"]["Cache-Control"] == "no-store"
    token = cookie_of(response)
    assert len(token) == 43 and token not in json.dumps(body)
    items = table_items()
    assert token not in str(items) and PASSWORD not in str(items)
    (session,) = [i for i in items if i["pk"]["S"].startswith("SESSION#")]
    assert session["pk"]["S"] == "SESSION#" + hashlib.sha256(token.encode()).hexdigest()
    assert session["userId"]["S"] == person["id"] and session["csrfToken"]["S"] == body["data"]["csrfToken"]
    assert int(session["expiresAtEpoch"]["N"]) > 0 and session["gsi1pk"]["S"] == f"SESSIONS#{WS}#{person['id']}"


def test_wrong_email_and_wrong_password_answer_alike(person):
    answers = [parse(sign_in("ada@example.com", "not the password")), parse(sign_in("bob@example.com", PASSWORD))]
    for status, body in answers:
        assert status == 401 and body["error"]["message"] == "The email or password is wrong."
    assert answers[0][1]["error"] == answers[1][1]["error"]
    status, body = parse(sign_in(password=""))
    assert status == 400 and body["error"]["code"] == "VALIDATION_ERROR"


def test_the_throttle_locks_the_email_and_keeps_no_email(person):
    for _ in range(5):
        assert parse(sign_in(password="not the password"))[0] == 401
    response = sign_in()
    status, body = parse(response)
    assert status == 429 and body["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 895 <= int(response["headers"]["Retry-After"]) <= 900 == body["error"]["details"]["window"]
    (counter,) = [i for i in table_items() if i["pk"]["S"].startswith("SIGNIN#")]
    assert "ada@example.com" not in str(counter) and len(counter["attempts"]["L"]) == 5


def test_an_idempotency_key_never_replays_the_cookie_nor_records_the_body(person):
    first = sign_in(headers={"Idempotency-Key": "same"})
    second = sign_in(headers={"Idempotency-Key": "same"})
    assert first["statusCode"] == second["statusCode"] == 201
    assert cookie_of(first) != cookie_of(second) and "Idempotent-Replayed" not in second["headers"]
    assert not [i for i in table_items() if i["pk"]["S"].startswith("IDEMPOTENCY#")]


def test_current_session_with_its_cookie_and_404_for_a_key(person):
    response = sign_in()
    token, csrf = cookie_of(response), parse(response)[1]["data"]["csrfToken"]
    context = session_context(person, csrf)
    status, body = parse(sessions_current_get.handler(as_session("GET", CURRENT, token, context)))
    assert status == 200 and body["data"]["csrfToken"] == csrf and body["data"]["user"]["email"] == "ada@example.com"
    status, body = parse(sessions_current_get.handler(proxy_event("GET", CURRENT, headers={"Cookie": f"x={token}"})))
    assert status == 404 and body["error"]["details"] == {"resource": "session", "id": "current"}


def test_changes_made_with_the_cookie_need_the_csrf_token(person):
    response = sign_in()
    token, csrf = cookie_of(response), parse(response)[1]["data"]["csrfToken"]
    context = session_context(person, csrf)
    project = {"name": "Planner", "description": "A planner for small teams with boards and tasks."}
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": token}):
        event = as_session("POST", "/v1/projects", token, context, body=project, headers=headers)
        status, body = parse(projects_create.handler(event))
        assert status == 403 and body["error"]["details"]["reason"] == "csrf", headers
    assert not [i for i in table_items() if "PROJECT#" in i["sk"]["S"]]  # refused: nothing changed
    event = as_session("POST", "/v1/projects", token, context, body=project, headers={"X-CSRF-Token": csrf})
    assert parse(projects_create.handler(event))[0] == 201


def test_sign_out_ends_the_session_and_clears_the_cookie(person):
    response = sign_in()
    token, csrf = cookie_of(response), parse(response)[1]["data"]["csrfToken"]
    context = session_context(person, csrf)
    refused = sessions_current_delete.handler(as_session("DELETE", CURRENT, token, context))
    assert parse(refused)[0] == 403 and parse(refused)[1]["error"]["details"]["reason"] == "csrf"
    signed_out = sessions_current_delete.handler(
        as_session("DELETE", CURRENT, token, context, headers={"X-CSRF-Token": csrf})
    )
    assert signed_out["statusCode"] == 204
    assert (
        signed_out["headers"]["Set-Cookie"] == f"{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
    )
    assert not [i for i in table_items() if i["pk"]["S"].startswith("SESSION#")]
    assert parse(sessions_current_get.handler(as_session("GET", CURRENT, token, context)))[0] == 404


def test_deleting_the_person_ends_their_sessions(person):
    for _ in range(2):
        assert sign_in()["statusCode"] == 201
    assert len([i for i in table_items() if i["pk"]["S"].startswith("SESSION#")]) == 2
    event = proxy_event(
        "DELETE", "/v1/users/{userId}", f"/v1/users/{person['id']}", path_params={"userId": person["id"]}
    )
    assert users_delete.handler(event)["statusCode"] == 204
    assert not [i for i in table_items() if i["pk"]["S"].startswith("SESSION#")]

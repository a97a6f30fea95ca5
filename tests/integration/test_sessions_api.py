"""Browser sessions over HTTP against the local cloud: sign in as a person made through /v1/users,
use the cookie on other routes, the CSRF token on changes, sign out, the ends a person's deletion
or password change bring, and the sign-in throttle. The cookie is sent as a `Cookie:` header, as
a browser would: requests' cookie jar keeps `Secure` cookies off plain-HTTP localhost."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.integration.oauth_helpers import COOKIE, PASSWORD, new_person, signed_in, with_cookie

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

PROJECT = {"name": "Team Planner", "description": "A planner for small teams with boards, tasks and due dates."}


def admin(cloud, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {cloud.admin_key}"}
    return requests.request(method, cloud.url + path, headers=headers, timeout=30, **kwargs)


def sign_in(cloud, email: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(cloud.url + "/v1/sessions", json={"email": email, "password": password}, timeout=30)


def test_sign_in_answers_the_person_and_a_secure_cookie(local_cloud):
    person = new_person(local_cloud)
    response = sign_in(local_cloud, person["email"].upper())
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == {"user", "csrfToken", "expiresAt"} and data["user"]["id"] == person["id"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert cookie.split("; ")[1:] == ["Path=/", "HttpOnly", "Secure", "SameSite=Lax", f"Max-Age={12 * 3600}"]
    assert cookie.split(";")[0].split("=", 1)[1] not in response.text  # the token is in the cookie only


def test_the_cookie_works_and_changes_need_the_csrf_token(local_cloud):
    person = new_person(local_cloud)
    token, csrf = signed_in(local_cloud, person["email"])

    listed = with_cookie(local_cloud, "GET", "/v1/projects", token)
    assert listed.status_code == 200, listed.text
    current = with_cookie(local_cloud, "GET", "/v1/sessions/current", token)
    assert current.status_code == 200 and current.json()["data"]["csrfToken"] == csrf
    assert current.json()["data"]["user"]["email"] == person["email"]

    before = listed.json()["pagination"]["total"]  # the workspace is shared with other tests
    for forged in (None, "not-the-token", token):
        refused = with_cookie(local_cloud, "POST", "/v1/projects", token, forged, json=PROJECT)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN" and refused.json()["error"]["details"]["reason"] == "csrf"
    assert with_cookie(local_cloud, "GET", "/v1/projects", token).json()["pagination"]["total"] == before  # none made

    created = with_cookie(local_cloud, "POST", "/v1/projects", token, csrf, json=PROJECT)
    assert created.status_code == 201, created.text
    # The same workspace sees it through the admin key: the person acted in their workspace.
    assert admin(local_cloud, "GET", f"/v1/projects/{created.json()['data']['id']}").status_code == 200


def test_sign_out_needs_the_csrf_token_then_the_cookie_no_longer_works(local_cloud):
    person = new_person(local_cloud)
    token, csrf = signed_in(local_cloud, person["email"])
    other_token, _ = signed_in(local_cloud, person["email"])  # another browser of the same person

    refused = with_cookie(local_cloud, "DELETE", "/v1/sessions/current", token)
    assert refused.status_code == 403 and refused.json()["error"]["details"]["reason"] == "csrf"
    assert with_cookie(local_cloud, "GET", "/v1/projects", token).status_code == 200

    signed_out = with_cookie(local_cloud, "DELETE", "/v1/sessions/current", token, csrf)
    assert signed_out.status_code == 204, signed_out.text
    assert signed_out.headers["Set-Cookie"] == f"{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
    gone = with_cookie(local_cloud, "GET", "/v1/projects", token)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "UNAUTHORIZED"
    assert with_cookie(local_cloud, "GET", "/v1/projects", other_token).status_code == 200  # only that one ended


def test_a_key_has_no_current_session(local_cloud):
    response = admin(local_cloud, "GET", "/v1/sessions/current")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert admin(local_cloud, "DELETE", "/v1/sessions/current").status_code == 404


def test_a_password_change_and_a_deletion_end_the_persons_sessions(local_cloud):
    person = new_person(local_cloud)
    token, _ = signed_in(local_cloud, person["email"])
    changed = admin(local_cloud, "PATCH", f"/v1/users/{person['id']}", json={"password": "a brand new passphrase"})
    assert changed.status_code == 200, changed.text
    assert with_cookie(local_cloud, "GET", "/v1/projects", token).status_code == 401

    token = signed_in_with(local_cloud, person["email"], "a brand new passphrase")
    assert with_cookie(local_cloud, "GET", "/v1/projects", token).status_code == 200
    assert admin(local_cloud, "DELETE", f"/v1/users/{person['id']}").status_code == 204
    assert with_cookie(local_cloud, "GET", "/v1/projects", token).status_code == 401


def signed_in_with(cloud, email: str, password: str) -> str:
    response = sign_in(cloud, email, password)
    assert response.status_code == 201, response.text
    return response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]


def test_brute_force_is_throttled_and_wrong_email_or_password_look_alike(local_cloud):
    person = new_person(local_cloud)
    wrong_password = [sign_in(local_cloud, person["email"], "not the password") for _ in range(5)]
    wrong_email = sign_in(local_cloud, f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    for response in [*wrong_password, wrong_email]:
        assert response.status_code == 401 and "Set-Cookie" not in response.headers
        assert response.json() == wrong_email.json()  # same code, message and details
    assert wrong_email.json()["error"]["code"] == "UNAUTHORIZED"

    locked = sign_in(local_cloud, person["email"])  # the right password, too late
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED" and "Set-Cookie" not in locked.headers
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60 and locked.json()["error"]["details"]["retryAfterSeconds"] == retry_after
    assert sign_in(local_cloud, person["email"].upper()).status_code == 429  # the same email, however written

"""The /oauth/authorize pages over HTTP against the local cloud, as a browser without JavaScript
meets them (a cookie-less client that reads the HTML forms and sends them back): error pages
that never redirect, errors that go back to the client, the sign-in form, the consent page,
Approve and Deny, the CSRF token, and the protective headers on every answer."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kiln.domain import consent
from kiln.domain.oauth import s256
from tests.html_pages import Form, Page, policy, read_page

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:8765/callback?tenant=7"
VERIFIER = secrets.token_urlsafe(48)
COOKIE = re.compile(r"^__Host-kiln_session=([A-Za-z0-9_-]{43}); Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=\d+$")


class Browser:
    """What a browser does with these pages, spelled out: no redirect followed, the session
    cookie kept by hand (http.cookiejar would not send a Secure cookie to http://127.0.0.1, where
    browsers do), every answer kept to check its headers."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookie: str | None = None
        self.answers: list[requests.Response] = []

    def _send(self, method: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookie:
            headers["Cookie"] = f"__Host-kiln_session={self.cookie}"
        answer = requests.request(
            method, f"{self.base}/oauth/authorize", headers=headers, allow_redirects=False, timeout=30, **kwargs
        )
        self.answers.append(answer)
        if "Set-Cookie" in answer.headers:
            match = COOKIE.match(answer.headers["Set-Cookie"])
            assert match, answer.headers["Set-Cookie"]
            self.cookie = match.group(1)
        return answer

    def open(self, query: dict[str, str]) -> requests.Response:
        return self._send("GET", params=query)

    def submit(self, form: Form, button: str, headers: dict[str, str] | None = None, **typed: str) -> requests.Response:
        assert form.action == "authorize" and form.method == "post"  # back to this very page
        return self._send("POST", data=form.submit(button, **typed), headers=headers or {})


def page(answer: requests.Response) -> Page:
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8", answer.text
    return read_page(answer.text)


def back_at_client(answer: requests.Response) -> dict[str, list[str]]:
    assert answer.status_code == 303, answer.text
    parts = urlsplit(answer.headers["Location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:8765/callback"
    query = parse_qs(parts.query)
    assert query["tenant"] == ["7"]  # the registered query kept
    return query


@pytest.fixture(scope="module")
def people(local_cloud) -> dict[str, str]:
    """Two people of the admin's workspace (one holding project:read only) and one of another
    workspace; their emails are unique to this module (the sign-in throttle counts per email)."""
    api = local_cloud.session()
    tag = secrets.token_hex(4)

    def person(email: str, scopes: list[str], workspace_id: str | None = None) -> str:
        body = {"email": email, "name": email.split("@")[0].title(), "password": PASSWORD, "scopes": scopes}
        if workspace_id:
            body["workspaceId"] = workspace_id
        answer = api.post(f"{local_cloud.url}/v1/users", json=body, timeout=30)
        assert answer.status_code == 201, answer.text
        return email

    other = api.post(f"{local_cloud.url}/v1/workspaces", json={"name": f"Other {tag}", "tier": "pro"}, timeout=30)
    assert other.status_code == 201, other.text
    return {
        "ada": person(f"ada-{tag}@example.com", ["project:read", "project:write"]),
        "reader": person(f"reader-{tag}@example.com", ["project:read"]),
        "stranger": person(f"stranger-{tag}@example.com", ["project:read"], other.json()["data"]["id"]),
    }


@pytest.fixture(scope="module")
def client_id(local_cloud) -> str:
    answer = local_cloud.session().post(
        f"{local_cloud.url}/v1/oauth/clients",
        json={
            "name": "Planner <script>alert(1)</script>",
            "redirectUris": [REDIRECT],
            "scopes": ["project:read", "project:write"],
        },
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]["clientId"]


@pytest.fixture
def browser(local_cloud) -> Iterator[Browser]:
    browser = Browser(local_cloud.url)
    yield browser
    # Every answer of the pages, whatever it was, carries the protective headers.
    for answer in browser.answers:
        rules = policy(answer.headers["Content-Security-Policy"])
        assert rules["default-src"] == "'none'" and rules["frame-ancestors"] == "'none'", answer.url
        assert rules["base-uri"] == "'none'" and "script-src" not in rules
        assert answer.headers["X-Frame-Options"] == "DENY" and answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in answer.headers and answer.headers["X-Request-Id"]


def request(client: str, **changes: str | None) -> dict[str, str]:
    """The authorization request of the client `client`, with `changes`."""
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": REDIRECT,
        "scope": "project:read project:write",
        "state": "af0ifjsldkj",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def sign_in(browser: Browser, client_id: str, email: str) -> Form:
    """Through the sign-in page to the consent page's form."""
    form = page(browser.open(request(client_id))).forms[0]
    answer = browser.submit(form, "sign_in", email=email, password=PASSWORD)
    assert answer.status_code == 200 and browser.cookie
    return page(answer).forms[0]


def test_an_unknown_client_is_a_400_page(browser, client_id):
    answer = browser.open(request(client_id, client_id="client_01m885m8rskqxxjknrtpgbxm1p"))
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "This sign-in link does not work" in page(answer).text


@pytest.mark.parametrize(
    "redirect_uri", [REDIRECT + "/", "http://127.0.0.1:8765/callback", "http://localhost:8765/callback?tenant=7"]
)
def test_a_redirect_uri_not_exactly_registered_is_a_400_page_never_a_redirect(browser, client_id, redirect_uri):
    answer = browser.open(request(client_id, redirect_uri=redirect_uri))
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "redirect_uri is not registered" in page(answer).text


def test_the_plain_method_goes_back_to_the_client_as_invalid_request(browser, client_id, local_cloud):
    query = back_at_client(browser.open(request(client_id, code_challenge_method="plain")))
    assert query["error"] == ["invalid_request"] and "S256" in query["error_description"][0]
    assert query["state"] == ["af0ifjsldkj"] and query["iss"] == [local_cloud.url]
    # RFC 9207: the metadata says so, and `iss` is the metadata's issuer.
    metadata = requests.get(f"{local_cloud.url}/.well-known/oauth-authorization-server", timeout=30).json()
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert (
        metadata["issuer"] == local_cloud.url
        and metadata["authorization_endpoint"] == f"{local_cloud.url}/oauth/authorize"
    )


def test_wrong_password_then_right_one_then_approve(browser, client_id, people, local_cloud):
    sign_in_page = page(browser.open(request(client_id)))
    assert "Planner <script>alert(1)</script> asks to use your Kiln account" in sign_in_page.text  # inert text
    form = sign_in_page.forms[0]
    assert form.hidden() == request(client_id)

    wrong = browser.submit(form, "sign_in", email=people["ada"], password="not the password at all")
    assert wrong.status_code == 401 and browser.cookie is None
    assert "That email and password do not match" in page(wrong).text
    unknown = browser.submit(form, "sign_in", email="nobody-" + people["ada"], password="not the password at all")
    assert unknown.status_code == 401 and "That email and password do not match" in page(unknown).text

    right = browser.submit(page(wrong).forms[0], "sign_in", email=people["ada"], password=PASSWORD)
    assert right.status_code == 200 and browser.cookie
    shown = page(right)
    assert "Allow Planner <script>alert(1)</script> to use your Kiln account?" in shown.text
    for scope in ("project:read", "project:write"):
        assert consent.SCOPE_WORDS[scope] in shown.text
    assert policy(right.headers["Content-Security-Policy"])["form-action"] == "'self' http://127.0.0.1:8765"

    # With the cookie, the same link shows the consent page straight away.
    again = page(browser.open(request(client_id)))
    assert (
        "Allow Planner" in again.text and again.forms[0].hidden()["csrf_token"] == shown.forms[0].hidden()["csrf_token"]
    )

    query = back_at_client(browser.submit(shown.forms[0], "approve"))
    assert query["state"] == ["af0ifjsldkj"] and query["iss"] == [local_cloud.url]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code"][0])


def test_the_consent_page_offers_only_what_the_person_holds(browser, client_id, people):
    shown = read_page(
        browser.submit(
            page(browser.open(request(client_id))).forms[0], "sign_in", email=people["reader"], password=PASSWORD
        ).text
    )
    assert consent.SCOPE_WORDS["project:read"] in shown.text
    assert consent.SCOPE_WORDS["project:write"] not in shown.text


def test_deny_sends_access_denied(browser, client_id, people):
    form = sign_in(browser, client_id, people["ada"])
    query = back_at_client(browser.submit(form, "deny"))
    assert query["error"] == ["access_denied"] and query["state"] == ["af0ifjsldkj"] and "code" not in query


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_decision_without_the_right_csrf_token_is_refused(browser, client_id, people, token):
    form = sign_in(browser, client_id, people["ada"])
    form.fields = [(kind, name, value) for kind, name, value in form.fields if name != "csrf_token"]
    if token is not None:
        form.fields.append(("hidden", "csrf_token", token))
    answer = browser.submit(form, "approve")
    assert answer.status_code == 403 and "Location" not in answer.headers
    assert "This form has expired" in page(answer).text


def test_a_person_of_another_workspace_meets_the_unknown_client_page(browser, client_id, people):
    form = page(browser.open(request(client_id))).forms[0]
    answer = browser.submit(form, "sign_in", email=people["stranger"], password=PASSWORD)
    unknown = browser.open(request(client_id, client_id="client_01m885m8rskqxxjknrtpgbxm1p"))
    assert answer.status_code == unknown.status_code == 400
    assert page(answer).text.split("Request id")[0] == page(unknown).text.split("Request id")[0]


def test_a_sign_in_posted_from_another_site_is_refused(browser, client_id, people, local_cloud):
    form = page(browser.open(request(client_id))).forms[0]
    cross = browser.submit(
        form,
        "sign_in",
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        email=people["ada"],
        password=PASSWORD,
    )
    assert cross.status_code == 403 and browser.cookie is None
    same = browser.submit(
        form,
        "sign_in",
        {"Origin": local_cloud.url, "Sec-Fetch-Site": "same-origin"},
        email=people["ada"],
        password=PASSWORD,
    )
    assert same.status_code == 200 and browser.cookie

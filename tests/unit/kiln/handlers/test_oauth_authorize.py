"""GET and POST /oauth/authorize called as Lambda would call them, on the real domain services
over the shared fakes: which requests get an error page and which go back to the client, the
sign-in form, the consent page, the CSRF token, the cross-site refusal, and a code that the
token exchange really accepts."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from kiln import services
from kiln.domain import consent, tokens
from kiln.domain.access import Principal
from kiln.domain.oauth import ClientRequest, OAuthClient, s256
from kiln.domain.people import Person
from kiln.domain.sessions import MAX_SIGN_IN_ATTEMPTS, SESSION_COOKIE
from kiln.handlers import oauth_authorize
from tests.fakes import FakeAccess, FakeOAuth, FakePeople, FakeSessions
from tests.html_pages import Form, policy, read_page
from tests.unit.conftest import proxy_event

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WS = "ws_01m885m8rskqxxjknrtpgbxm2p"
HOST = "api.example.com"
ISSUER = f"https://{HOST}"
REDIRECT = "https://app.example.com/cb?tenant=7"
PASSWORD = "correct horse battery staple"
VERIFIER = secrets.token_urlsafe(48)


@dataclass
class World:
    root: services.Services
    client: OAuthClient
    ada: Person


@pytest.fixture
def world() -> Iterator[World]:
    keys = tokens.KeySet.initial(1_800_000_000)
    root = services.use(
        services.build(
            oauth_store=FakeOAuth(),
            session_store=FakeSessions(),
            people_store=FakePeople(),
            access_store=FakeAccess(),
            signing_key_set=lambda: keys,
        )
    )
    admin = Principal(
        WS, "key_01m885m8rskqxxjknrtpgbxm1q", frozenset({"project:read", "project:write", "admin"}), "pro"
    )
    client = root.oauth.create_client(
        admin, ClientRequest("Planner <b>&", (REDIRECT, "http://127.0.0.1:8765/cb"), ("project:read", "project:write"))
    )
    # Ada holds project:read only: the consent page offers what the client asks and she holds.
    ada = root.people.add(WS, "ada@example.com", "Ada", PASSWORD, ("project:read", "ai:invoke"))
    yield World(root, client, ada)


def authorization(client: OAuthClient, **changes: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.id,
        "redirect_uri": REDIRECT,
        "scope": "project:read project:write",
        "state": "st&te=1",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def call(
    method: str,
    *,
    query: dict[str, str] | None = None,
    form: list[tuple[str, str]] | None = None,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    sent = {"Host": HOST, "X-Forwarded-Proto": "https", **(headers or {})}
    if cookie:
        sent["Cookie"] = f"theme=dark; {SESSION_COOKIE}={cookie}"
    if form is not None:
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    event = proxy_event(
        method, "/oauth/authorize", query=dict(query or {}), headers=sent, raw_body=urlencode(form) if form else None
    )
    event["requestContext"].pop("authorizer")  # not behind the authorizer
    return oauth_authorize.handler(event)


def page_of(answer: dict[str, Any]):
    assert answer["headers"]["Content-Type"] == "text/html; charset=utf-8"
    return read_page(answer["body"])


def location(answer: dict[str, Any]) -> tuple[str, dict[str, list[str]]]:
    assert answer["statusCode"] == 303, answer.get("body")
    target = answer["headers"]["Location"]
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def signed_in(world: World) -> tuple[str, Form]:
    """Ada signs in through the form: her cookie and the consent page's form."""
    sign_in = page_of(call("GET", query=authorization(world.client))).forms[0]
    answer = call("POST", form=sign_in.submit("sign_in", email="Ada@Example.com", password=PASSWORD))
    assert answer["statusCode"] == 200
    cookie = re.match(
        rf"{SESSION_COOKIE}=([^;]+); Path=/; HttpOnly; Secure; SameSite=Lax", answer["headers"]["Set-Cookie"]
    )
    assert cookie is not None
    return cookie.group(1), page_of(answer).forms[0]


# --- what is never redirected ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "client_01m885m8rskqxxjknrtpgbxm9z"},  # unknown
        {"client_id": "not-a-client"},
        {"client_id": None},
        {"redirect_uri": "https://app.example.com/cb?tenant=7/"},  # a trailing slash too many
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": None},
    ],
)
def test_an_unknown_client_or_redirect_uri_is_an_error_page_never_a_redirect(world, changes):
    answer = call("GET", query=authorization(world.client, **changes))
    assert answer["statusCode"] == 400 and "Location" not in answer["headers"]
    page = page_of(answer)
    assert "This sign-in link does not work" in page.text and page.forms == []
    assert policy(answer["headers"]["Content-Security-Policy"])["form-action"] == "'self'"


def test_a_person_of_another_workspace_sees_the_unknown_client_page(world):
    world.root.people.add(OTHER_WS, "bo@example.com", "Bo", PASSWORD, ("project:read",))
    sign_in = page_of(call("GET", query=authorization(world.client))).forms[0]
    answer = call("POST", form=sign_in.submit("sign_in", email="bo@example.com", password=PASSWORD))
    unknown = call("GET", query=authorization(world.client, client_id="client_01m885m8rskqxxjknrtpgbxm9z"))
    assert answer["statusCode"] == unknown["statusCode"] == 400
    assert "Set-Cookie" in answer["headers"]  # signed in all the same
    request_id = re.compile(r"Request id: [^<]+")
    assert request_id.sub("", answer["body"]) == request_id.sub("", unknown["body"])
    cookie = answer["headers"]["Set-Cookie"].split(";")[0].split("=", 1)[1]
    again = call("GET", query=authorization(world.client), cookie=cookie)
    assert again["statusCode"] == 400 and request_id.sub("", again["body"]) == request_id.sub("", unknown["body"])


# --- what goes back to the client ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "project:read everything"}, "invalid_scope"),
    ],
)
def test_a_mistake_of_the_client_goes_back_to_it_with_the_state(world, changes, error):
    target, query = location(call("GET", query=authorization(world.client, **changes)))
    assert target == "https://app.example.com/cb"
    assert query["tenant"] == ["7"] and query["error"] == [error] and query["error_description"]
    assert query["state"] == ["st&te=1"] and query["iss"] == [ISSUER]


# --- sign-in ----------------------------------------------------------------------------------------


def test_without_a_session_the_sign_in_form_carries_the_request(world):
    answer = call("GET", query=authorization(world.client))
    assert answer["statusCode"] == 200
    page = page_of(answer)
    assert "Planner <b>& asks to use your Kiln account" in page.text  # the name, escaped, as text
    [form] = page.forms
    assert form.hidden() == authorization(world.client)
    rules = policy(answer["headers"]["Content-Security-Policy"])
    assert rules["form-action"] == "'self' https://app.example.com" and rules["frame-ancestors"] == "'none'"
    assert answer["headers"]["Cache-Control"] == "no-store" and "Access-Control-Allow-Origin" not in answer["headers"]


def test_a_wrong_password_is_the_generic_message_then_the_throttle(world):
    form = page_of(call("GET", query=authorization(world.client))).forms[0]
    for email in ("ada@example.com", "nobody@example.com"):
        answer = call("POST", form=form.submit("sign_in", email=email, password="wrong password!!"))
        assert answer["statusCode"] == 401 and "Set-Cookie" not in answer["headers"]
        page = page_of(answer)
        assert oauth_authorize.WRONG_CREDENTIALS in page.text
        assert page.forms[0].hidden() == authorization(world.client)  # ready to try again
        assert ("email", "email", email) in page.forms[0].fields
    for _ in range(MAX_SIGN_IN_ATTEMPTS - 1):
        call("POST", form=form.submit("sign_in", email="ada@example.com", password="wrong password!!"))
    refused = call("POST", form=form.submit("sign_in", email="ada@example.com", password=PASSWORD))
    assert refused["statusCode"] == 429 and int(refused["headers"]["Retry-After"]) > 0
    assert "Too many attempts" in page_of(refused).text and "Set-Cookie" not in refused["headers"]


def test_an_empty_form_asks_for_both(world):
    form = page_of(call("GET", query=authorization(world.client))).forms[0]
    answer = call("POST", form=form.submit("sign_in", email="", password=""))
    assert answer["statusCode"] == 400 and oauth_authorize.MISSING_CREDENTIALS in page_of(answer).text


def test_a_good_sign_in_sets_the_cookie_and_shows_the_consent_page(world):
    cookie, form = signed_in(world)
    hidden = form.hidden()
    assert hidden.pop("csrf_token")
    assert hidden == authorization(world.client)
    shown = page_of(call("GET", query=authorization(world.client), cookie=cookie))
    assert "Allow Planner <b>& to use your Kiln account?" in shown.text
    assert consent.SCOPE_WORDS["project:read"] in shown.text
    assert consent.SCOPE_WORDS["project:write"] not in shown.text  # asked for, but Ada does not hold it
    assert "Signed in as Ada (ada@example.com)" in shown.text


# --- the decision ----------------------------------------------------------------------------------------


def test_approve_sends_a_code_the_token_endpoint_accepts(world):
    cookie, form = signed_in(world)
    target, query = location(call("POST", form=form.submit("approve"), cookie=cookie))
    assert target == "https://app.example.com/cb"
    assert query["state"] == ["st&te=1"] and query["tenant"] == ["7"] and query["iss"] == [ISSUER]
    [code] = query["code"]
    answer = world.root.oauth.exchange_code(code, world.client.id, REDIRECT, VERIFIER, issuer=ISSUER)
    assert answer.body()["scope"] == "project:read"  # requested, registered, and held


def test_deny_sends_access_denied(world):
    cookie, form = signed_in(world)
    _, query = location(call("POST", form=form.submit("deny"), cookie=cookie))
    assert query["error"] == ["access_denied"] and query["state"] == ["st&te=1"] and "code" not in query


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_a_decision_without_the_session_csrf_token_is_refused(world, token):
    cookie, form = signed_in(world)
    pairs = [(name, value) for name, value in form.submit("approve") if name != "csrf_token"]
    if token is not None:
        pairs.append(("csrf_token", token))
    answer = call("POST", form=pairs, cookie=cookie)
    assert answer["statusCode"] == 403 and "Location" not in answer["headers"]
    assert "This form has expired" in page_of(answer).text
    assert not world.root.oauth_store.codes  # nothing issued


def test_a_decision_without_a_session_asks_to_sign_in_again(world):
    _, form = signed_in(world)
    answer = call("POST", form=form.submit("approve"))
    assert answer["statusCode"] == 401 and oauth_authorize.SESSION_ENDED in page_of(answer).text


def test_the_hidden_fields_are_checked_again(world):
    cookie, form = signed_in(world)
    tampered = [(n, "admin" if n == "scope" else v) for n, v in form.submit("approve")]
    _, query = location(call("POST", form=tampered, cookie=cookie))
    assert query["error"] == ["invalid_scope"] and "code" not in query
    moved = [(n, "https://evil.example/cb" if n == "redirect_uri" else v) for n, v in form.submit("approve")]
    answer = call("POST", form=moved, cookie=cookie)
    assert answer["statusCode"] == 400 and "Location" not in answer["headers"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://evil.example"},
    ],
)
def test_a_form_posted_from_another_site_is_refused(world, headers):
    form = page_of(call("GET", query=authorization(world.client))).forms[0]
    answer = call("POST", form=form.submit("sign_in", email="ada@example.com", password=PASSWORD), headers=headers)
    assert answer["statusCode"] == 403 and "Set-Cookie" not in answer["headers"]
    assert "did not come from Kiln" in page_of(answer).text


def test_a_form_posted_from_kiln_itself_is_accepted(world):
    form = page_of(call("GET", query=authorization(world.client))).forms[0]
    headers = {"Sec-Fetch-Site": "same-origin", "Origin": ISSUER}
    answer = call("POST", form=form.submit("sign_in", email="ada@example.com", password=PASSWORD), headers=headers)
    assert answer["statusCode"] == 200 and "Set-Cookie" in answer["headers"]


def test_a_body_that_is_not_a_form_is_refused(world):
    answer = call("POST", form=[("action", "sign_in")], headers={"Content-Type": "application/json"})
    assert answer["statusCode"] == 415 and "Location" not in answer["headers"]
    page_of(answer)

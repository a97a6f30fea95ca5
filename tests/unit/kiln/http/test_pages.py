"""The sign-in, consent and error pages as HTML: well formed and accessible, no script, every
outside value escaped (a client named `<script>` is shown as text), and a policy that allows
the inline stylesheet by its hash and forms to this origin and the client's only."""

from __future__ import annotations

import base64
import hashlib
import re

from kiln.http import pages
from tests.html_pages import Page, policy, read_page

FIELDS = [("client_id", "client_01m885m8rskqxxjknrtpgbxm1p"), ("state", 'a"b<c>&d')]
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_the_sign_in_page_is_a_labelled_form_posting_back_with_the_request():
    page = read_page(pages.sign_in_page("Planner", FIELDS, email="ada@example.com", message="Wrong."))
    assert page.lang == "en" and page.title == "Sign in - Kiln"
    [form] = page.forms
    assert (form.action, form.method) == ("authorize", "post")
    assert form.hidden() == dict(FIELDS)  # the quote, the brackets and the ampersand survive
    assert ("email", "email", "ada@example.com") in form.fields and ("password", "password", "") in form.fields
    assert form.buttons == [("action", "sign_in", "Sign in")]
    assert "Planner asks to use your Kiln account" in page.text and "Wrong." in page.text


def test_the_consent_page_names_the_client_the_person_and_each_scope():
    page = read_page(
        pages.consent_page(
            "Planner", "https://app.example.com", "Ada", "ada@example.com", ["Read it", "Change it"], FIELDS, "tok"
        )
    )
    assert "Allow Planner to use your Kiln account?" in page.text
    assert "Signed in as Ada (ada@example.com)" in page.text
    assert "Read it" in page.text and "Change it" in page.text and "https://app.example.com" in page.text
    [form] = page.forms
    assert form.hidden() == {**dict(FIELDS), "csrf_token": "tok"}
    assert [(value, text) for _, value, text in form.buttons] == [("approve", "Approve"), ("deny", "Deny")]


def test_nothing_to_grant_leaves_only_deny():
    page = read_page(pages.consent_page("Planner", "https://a.example", "Ada", "a@example.com", [], FIELDS, "tok"))
    assert [value for _, value, _ in page.forms[0].buttons] == ["deny"]
    assert "none of the permissions" in page.text


def test_a_hostile_client_name_and_person_render_inert():
    for markup in (
        pages.sign_in_page(HOSTILE, FIELDS, email='"><script>'),
        pages.consent_page(HOSTILE, "https://a.example", HOSTILE, "a@example.com", [HOSTILE], FIELDS, '"><b>'),
        pages.error_page(HOSTILE, HOSTILE, '"><i>'),
    ):
        page = read_page(markup)  # no <script>, no <img>, no handler: read_page fails on any
        assert "img" not in page.elements and "b" not in page.elements and "i" not in page.elements
        assert '<script>alert("x")</script>' in page.text  # shown as the characters it is
        assert "&lt;script&gt;" in markup


def test_the_error_page_says_what_and_shows_the_request_id():
    page = read_page(pages.error_page("This sign-in link does not work", "Unknown client_id.", "req-1"))
    assert page.forms == [] and "Unknown client_id." in page.text and "Request id: req-1" in page.text


def test_the_policy_allows_the_inline_style_by_hash_and_nothing_else():
    markup = pages.sign_in_page("Planner", FIELDS)
    [css] = re.findall(r"<style>(.*?)</style>", markup, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    rules = policy(pages.content_security_policy())
    assert rules == {
        "default-src": "'none'",
        "style-src": f"'sha256-{digest}'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
    }


def test_form_action_adds_the_client_origin_but_never_a_malformed_one():
    rules = policy(pages.content_security_policy(["http://127.0.0.1:8765", "https://app.example.com"]))
    assert rules["form-action"] == "'self' http://127.0.0.1:8765 https://app.example.com"
    for bad in (
        "https://a.example; script-src *",
        "https://a.example 'unsafe-inline'",
        "javascript:x",
        "https://a\r\n",
    ):
        assert policy(pages.content_security_policy([bad]))["form-action"] == "'self'", bad


def test_every_answer_carries_the_protective_headers():
    page = pages.html_answer(401, "<p>x</p>", "req-1", form_origins=["https://a.example"], headers={"X": "1"})
    redirect = pages.redirect_answer("https://a.example/cb?code=c", "req-2")
    assert page["statusCode"] == 401 and page["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert redirect["statusCode"] == 303 and redirect["headers"]["Location"] == "https://a.example/cb?code=c"
    for answer in (page, redirect):
        headers = answer["headers"]
        assert policy(headers["Content-Security-Policy"])["frame-ancestors"] == "'none'"
        assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
        assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"
    assert page["headers"]["X-Request-Id"] == "req-1" and page["headers"]["X"] == "1"


def test_the_page_checker_catches_what_it_guards():
    # The checker the page tests rely on refuses a script, an unlabelled field and a stray tag.
    assert any(
        "script" in p for p in Page("<!doctype html><html lang=en><body><main><h1>x</h1><script></script>").problems
    )
    unlabelled = Page(
        '<!doctype html><html lang="en"><title>t</title><body><main><h1>x</h1><input id="a"></main></body></html>'
    )
    assert unlabelled.problems == ["the field #a has no <label for>"]
    assert Page(
        '<!doctype html><html lang="en"><title>t</title><body><main><h1>x</h1></div></main></body></html>'
    ).problems

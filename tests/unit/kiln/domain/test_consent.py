"""The authorization request of /oauth/authorize: how it is read, the order of its checks
(RFC 6749 section 4.1.2.1), the plain words of each scope, and the redirect back to the client."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from kiln.domain import consent
from kiln.domain.access import ALL_SCOPES
from kiln.domain.consent import AuthorizationRequest, check, read_request, redirect_to, requested_scopes

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
REGISTERED = ("project:read", "project:write")


def request(**changes: str | None) -> AuthorizationRequest:
    values: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "client_01m885m8rskqxxjknrtpgbxm1p",
        "redirect_uri": "https://app.example.com/cb",
        "scope": "project:read",
        "state": "xyz",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    values.update(changes)
    return read_request([(name, value) for name, value in values.items() if value is not None])


def test_every_scope_has_plain_words():
    assert set(consent.SCOPE_WORDS) == set(ALL_SCOPES)
    assert (
        consent.SCOPE_WORDS["project:read"]
        == "Read your projects, specifications, runs and files, and download exports"
    )
    for scope, words in consent.SCOPE_WORDS.items():
        assert scope not in words and not words.endswith("."), words  # words for a person, in a list


def test_reading_ignores_unknown_parameters_and_remembers_repeated_ones():
    read = read_request([("client_id", "a"), ("prompt", "login"), ("scope", "x"), ("scope", "y"), ("scope", "z")])
    assert read.client_id == "a" and read.scope == "z" and read.repeated == ("scope",)
    assert read.hidden_fields() == [("client_id", "a"), ("scope", "z")]  # the absent ones left out


def test_a_good_request_passes_and_asks_for_its_scopes_in_catalog_order():
    good = request(scope="project:write project:read")
    assert check(good, REGISTERED) is None
    assert requested_scopes(good, REGISTERED) == ("project:read", "project:write")
    # No scope: the client's registered ones (RFC 6749 section 3.3 lets the server choose).
    assert requested_scopes(request(scope=None), REGISTERED) == REGISTERED
    assert check(request(scope=None), REGISTERED) is None


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"response_type": None}, "invalid_request", "response_type"),
        ({"response_type": "token"}, "unsupported_response_type", "code"),
        ({"code_challenge": None}, "invalid_request", "code_challenge"),
        ({"code_challenge_method": None}, "invalid_request", "S256"),
        ({"code_challenge_method": "plain"}, "invalid_request", "plain"),
        ({"code_challenge": "short"}, "invalid_request", "43"),
        ({"code_challenge": CHALLENGE[:-1] + "="}, "invalid_request", "base64url"),
        ({"state": "s" * 1025}, "invalid_request", "state"),
        ({"scope": "project:read root"}, "invalid_scope", "root"),
        ({"scope": "admin"}, "invalid_scope", "did not register"),
    ],
)
def test_each_mistake_of_the_client_is_named(changes, error, words):
    problem = check(request(**changes), REGISTERED)
    assert problem is not None and problem.error == error and words in problem.description


def test_the_checks_run_in_order_the_first_mistake_wins():
    # Unsupported response_type before a missing challenge before an unknown scope.
    problem = check(request(response_type="token", code_challenge=None, scope="nope"), REGISTERED)
    assert problem is not None and problem.error == "unsupported_response_type"
    repeated = read_request([*request().hidden_fields(), ("state", "again")])
    problem = check(repeated, REGISTERED)
    assert problem is not None and problem.error == "invalid_request" and "state" in problem.description


def test_the_redirect_keeps_the_registered_query_and_adds_ours_encoded():
    location = redirect_to(
        "https://app.example.com/cb?tenant=a%20b&x=1",
        {"code": "c0de", "state": "s p&a=c", "error": None, "iss": "https://api.example.com"},
    )
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("https", "app.example.com", "/cb", "")
    assert parts.query.startswith("tenant=a%20b&x=1&")  # the registered query, byte for byte, first
    assert parse_qsl(parts.query) == [
        ("tenant", "a b"),
        ("x", "1"),
        ("code", "c0de"),
        ("state", "s p&a=c"),
        ("iss", "https://api.example.com"),
    ]


def test_the_redirect_never_carries_a_second_code_or_state():
    location = redirect_to("http://localhost:8765/cb?code=planted&state=old&keep=1", {"code": "real", "state": "new"})
    assert parse_qsl(urlsplit(location).query) == [("keep", "1"), ("code", "real"), ("state", "new")]
    assert redirect_to("https://app.example.com/cb", {"error": "access_denied", "state": None}) == (
        "https://app.example.com/cb?error=access_denied"
    )


def test_origin_of_a_redirect_uri():
    assert consent.origin_of("https://app.example.com/cb?x=1") == "https://app.example.com"
    assert consent.origin_of("http://127.0.0.1:8765/cb") == "http://127.0.0.1:8765"

"""CORS: the allow-list's syntax and matching, and the headers the functions answer with."""

from __future__ import annotations

import json
import re

import pytest

from kiln import config
from kiln.handlers import docs_openapi, method_not_allowed, projects_create, projects_get, root
from kiln.http import cors
from kiln.http.cors import CorsPolicy, check_origins, origin_pattern, parse_origins
from tests.unit.conftest import proxy_event

APP = "https://app.example.com"
LOCAL = "http://localhost:5173"

# --- the allow-list ----------------------------------------------------------------------------------


def test_origins_are_trimmed_deduplicated_and_checked():
    assert parse_origins("") == ()
    assert parse_origins(f" {APP} ,{LOCAL},,{APP}") == (APP, LOCAL)
    assert parse_origins("https://*.example.com,*") == ("https://*.example.com", "*")
    for bad in (
        "https://app.example.com/",
        "app.example.com",
        "ftp://x.example.com",
        "https://a b.com",
        "https://app.*.com",
        "https://*",
        "null",
    ):
        with pytest.raises(ValueError, match="CORS origins"):
            check_origins([bad])


@pytest.mark.parametrize(
    ("origins", "origin", "allowed"),
    [
        ((APP,), APP, True),
        ((APP,), "HTTPS://APP.EXAMPLE.COM", True),  # scheme and host are case-insensitive
        ((APP,), "http://app.example.com", False),  # another scheme is another origin
        ((APP,), "https://app.example.com:8443", False),
        ((APP,), "https://app.example.com.evil.net", False),
        ((APP,), "https://appxexample.com", False),  # the dots are literal
        ((LOCAL,), LOCAL, True),
        ((LOCAL,), "http://localhost:5174", False),
        (("https://*.example.com",), "https://a.example.com", True),
        (("https://*.example.com",), "https://a.b.example.com", True),
        (("https://*.example.com",), "https://example.com", False),  # a subdomain, not the domain
        (("https://*.example.com",), "https://evil.com/.example.com", False),
        (("*",), "https://anything.example.net", True),
        (("*",), "null", True),
        ((), APP, False),
    ],
)
def test_matching(origins, origin, allowed):
    assert CorsPolicy(origins).allows(origin) is allowed


def test_the_pattern_is_plain_enough_for_a_velocity_string_and_java():
    pattern = origin_pattern((APP, LOCAL, "https://*.example.org", "*"))
    assert pattern is not None and pattern.startswith("(?i)(")
    assert not set(pattern) & set("\\'\"$#")
    assert origin_pattern(()) is None
    # Java's String.matches is a whole-string match, as fullmatch is.
    assert re.fullmatch(origin_pattern((APP,)), APP) and not re.fullmatch(origin_pattern((APP,)), APP + "x")


# --- headers -----------------------------------------------------------------------------------------


def test_actual_responses_name_allowed_origins_only():
    policy = CorsPolicy((APP,))
    assert policy.response_headers(APP) == {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Expose-Headers": ", ".join(cors.EXPOSED_HEADERS),
    }
    assert policy.response_headers("https://evil.example.com") == {"Vary": "Origin"}
    assert policy.response_headers(None) == {"Vary": "Origin"}
    assert CorsPolicy().response_headers(APP) == {}
    for name in (
        "X-Request-Id",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "RateLimit",
        "RateLimit-Policy",
        "Retry-After",
        "Idempotent-Replayed",
        "Location",
        "Deprecation",
        "Sunset",
        "Link",
    ):
        assert name in cors.EXPOSED_HEADERS


def test_preflights_allow_methods_and_headers_for_allowed_origins_only():
    policy = CorsPolicy((APP,))
    headers = policy.preflight_headers(APP, ["GET", "POST"])
    assert headers["Access-Control-Allow-Origin"] == APP
    assert headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert headers["Access-Control-Allow-Headers"] == (
        "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Last-Event-ID, X-CSRF-Token"
    )
    assert headers["Access-Control-Max-Age"] == str(cors.MAX_AGE_SECONDS)
    assert "Access-Control-Expose-Headers" not in headers
    assert policy.preflight_headers("https://evil.example.com", ["GET"]) == {"Vary": "Origin"}


def test_gateway_responses_name_the_single_origin_or_echo():
    assert CorsPolicy((APP,)).gateway_headers("https://evil.example.com")["Access-Control-Allow-Origin"] == APP
    several = CorsPolicy((APP, LOCAL))
    assert several.gateway_origin is None
    assert several.gateway_headers(LOCAL)["Access-Control-Allow-Origin"] == LOCAL
    assert "Access-Control-Allow-Origin" not in several.gateway_headers(None)
    assert CorsPolicy(("https://*.example.com",)).gateway_origin is None
    assert CorsPolicy().gateway_headers(APP) == {}


def test_vary_is_merged_with_what_a_response_varies_on():
    headers = {"vary": "Accept"}
    cors.add_headers(headers, {"Vary": "Origin", "Access-Control-Allow-Origin": APP})
    assert headers == {"vary": "Accept, Origin", "Access-Control-Allow-Origin": APP}
    cors.add_headers(headers, {"Vary": "Origin"})
    assert headers["vary"] == "Accept, Origin"


# --- through the functions -----------------------------------------------------------------------------


@pytest.fixture
def allow_app(monkeypatch):
    monkeypatch.setenv(config.CORS_ALLOWED_ORIGINS, f"{APP},{LOCAL}")
    config.reset()  # settings loaded at import would keep the list they read then
    yield
    config.reset()


def with_origin(event: dict, origin: str) -> dict:
    event["headers"] = {**(event.get("headers") or {}), "origin": origin}  # HTTP/2 clients send lowercase
    event["multiValueHeaders"] = {**(event.get("multiValueHeaders") or {}), "origin": [origin]}
    return event


@pytest.mark.usefixtures("cloud", "allow_app")
def test_pipeline_answers_carry_the_allowed_origin_success_or_error():
    created = projects_create.handler(
        with_origin(proxy_event("POST", "/v1/projects", body={"name": "Browser", "description": "From a page."}), APP)
    )
    assert created["statusCode"] == 201
    assert created["headers"]["Access-Control-Allow-Origin"] == APP
    assert created["headers"]["Vary"] == "Origin"
    exposed = created["headers"]["Access-Control-Expose-Headers"]
    assert "Location" in exposed and "X-RateLimit-Remaining" in exposed
    assert "X-RateLimit-Remaining" in created["headers"]  # the limit headers are still there

    missing = projects_get.handler(
        with_origin(
            proxy_event(
                "GET",
                "/v1/projects/{projectId}",
                "/v1/projects/proj_00000000000000000000000000",
                path_params={"projectId": "proj_00000000000000000000000000"},
            ),
            LOCAL,
        )
    )
    assert missing["statusCode"] == 404
    assert missing["headers"]["Access-Control-Allow-Origin"] == LOCAL


@pytest.mark.usefixtures("cloud", "allow_app")
def test_pipeline_answers_to_other_origins_carry_no_allow_origin():
    answer = root.handler(with_origin(proxy_event("GET", "/", authorizer={}), "https://evil.example.com"))
    assert answer["statusCode"] == 200
    assert "Access-Control-Allow-Origin" not in answer["headers"]
    assert answer["headers"]["Vary"] == "Origin"


@pytest.mark.usefixtures("cloud")
def test_without_origins_nothing_changes(monkeypatch):
    monkeypatch.delenv(config.CORS_ALLOWED_ORIGINS, raising=False)
    config.reset()
    answer = root.handler(with_origin(proxy_event("GET", "/", authorizer={}), APP))
    assert not [h for h in answer["headers"] if h.lower().startswith("access-control-") or h == "Vary"]


@pytest.mark.usefixtures("cloud", "allow_app")
def test_an_idempotent_replay_answers_the_replaying_origin():
    def create(origin: str) -> dict:
        event = proxy_event(
            "POST",
            "/v1/projects",
            body={"name": "Once", "description": "Created once."},
            headers={"Idempotency-Key": "cors-1"},
        )
        return projects_create.handler(with_origin(event, origin))

    first, replay = create(APP), create(LOCAL)
    assert replay["headers"]["Idempotent-Replayed"] == "true"
    assert json.loads(replay["body"]) == json.loads(first["body"])
    assert first["headers"]["Access-Control-Allow-Origin"] == APP
    assert replay["headers"]["Access-Control-Allow-Origin"] == LOCAL


@pytest.mark.usefixtures("cloud", "allow_app")
def test_the_405_function_and_the_openapi_document_answer_with_cors_too():
    refused = method_not_allowed.handler(with_origin(proxy_event("PUT", "/v1/projects", authorizer={}), APP))
    assert refused["statusCode"] == 405
    assert refused["headers"]["Access-Control-Allow-Origin"] == APP
    document = docs_openapi.handler(with_origin(proxy_event("GET", "/v1/openapi.json", authorizer={}), LOCAL))
    assert document["headers"]["Access-Control-Allow-Origin"] == LOCAL

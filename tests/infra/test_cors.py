"""CORS in the synthesized API: preflight MOCK methods, gateway responses, the functions' allow-list.

The synthetic app allows SYNTHETIC_CORS_ORIGINS (two origins, so gateway responses echo the
request's Origin); the main app, as cdk.json ships it, allows none.
"""

from __future__ import annotations

import json
import re

import pytest

from kiln import config
from kiln.http.cors import ALLOWED_HEADERS, EXPOSED_HEADERS, MAX_AGE_SECONDS
from kiln.routes import AUTHORIZER_HANDLER, METHOD_NOT_ALLOWED_HANDLER, ROUTES

from .conftest import SYNTHETIC_CORS_ORIGINS, Synth
from .test_stack import functions, methods_by_route

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ALLOW_ORIGIN = "$context.responseOverride.header.Access-Control-Allow-Origin"


def preflights(synth: Synth) -> dict[str, dict]:
    return {path: props for (method, path), props in methods_by_route(synth).items() if method == "OPTIONS"}


def origin_regex(template: str) -> str:
    """The allow-list's regular expression, as the Velocity template hands it to String.matches."""
    (pattern,) = re.findall(r"\$origin\.matches\('([^']*)'\)", template)
    return pattern


@pytest.mark.parametrize("name", ["main", "synthetic"])
def test_every_resource_answers_options_itself_without_credentials(name: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(name)
    options = preflights(synth)
    by_path: dict[str, set[str]] = {}
    for route in synth.routes:
        by_path.setdefault(route.path, set()).add(route.method)
    assert set(options) == set(by_path)
    for path, props in options.items():
        assert props["AuthorizationType"] == "NONE" and not props.get("ApiKeyRequired", False), path
        integration = props["Integration"]
        assert integration["Type"] == "MOCK"
        assert json.loads(integration["RequestTemplates"]["application/json"]) == {"statusCode": 204}
        (response,) = integration["IntegrationResponses"]
        assert response["StatusCode"] == "204"
        methods = sorted(by_path[path])
        assert response["ResponseParameters"]["method.response.header.Allow"] == f"'{', '.join([*methods, 'OPTIONS'])}'"
        template = response["ResponseTemplates"]["application/json"]
        assert "#set($context.responseOverride.header.X-Request-Id = $context.requestId)" in template
        assert "\n" not in template  # directives only: the 204 has no body
        (declared,) = props["MethodResponses"]
        assert declared["StatusCode"] == "204"
        assert "method.response.header.Access-Control-Allow-Origin" in declared["ResponseParameters"]


def test_preflights_allow_the_configured_origins_only(synthetic: Synth) -> None:
    for path, props in preflights(synthetic).items():
        (response,) = props["Integration"]["IntegrationResponses"]
        assert response["ResponseParameters"]["method.response.header.Vary"] == "'Origin'"
        assert "method.response.header.Access-Control-Allow-Origin" not in response["ResponseParameters"]
        template = response["ResponseTemplates"]["application/json"]
        pattern = origin_regex(template)
        for origin in SYNTHETIC_CORS_ORIGINS:
            assert re.fullmatch(pattern, origin), (path, origin)
        for other in ("https://evil.example.com", "https://app.example.com.evil.net", "http://localhost:5174"):
            assert not re.fullmatch(pattern, other), (path, other)
        # The allow headers are set inside the origin check, each once (a second override is a 5XX).
        inside = template.split(f"$origin.matches('{pattern}'))", 1)[1]
        assert inside.startswith(f"#set({ALLOW_ORIGIN} = $origin)") and inside.endswith("#end")
        assert template.count(ALLOW_ORIGIN) == 1
        methods = sorted({r.method for r in synthetic.routes if r.path == path})
        assert f'Access-Control-Allow-Methods = "{", ".join(methods)}"' in inside
        assert f'Access-Control-Allow-Headers = "{", ".join(ALLOWED_HEADERS)}"' in inside
        assert f'Access-Control-Max-Age = "{MAX_AGE_SECONDS}"' in inside


def test_without_origins_preflights_carry_no_cors_header(main: Synth) -> None:
    for props in preflights(main).values():
        (response,) = props["Integration"]["IntegrationResponses"]
        assert set(response["ResponseParameters"]) == {"method.response.header.Allow"}
        assert "Access-Control" not in response["ResponseTemplates"]["application/json"]


def gateway_responses(synth: Synth) -> dict[str, dict]:
    return {
        v["Properties"]["ResponseType"]: v["Properties"]
        for v in synth.root["Resources"].values()
        if v["Type"] == "AWS::ApiGateway::GatewayResponse"
    }


def test_gateway_responses_echo_the_origin_when_several_are_allowed(synthetic: Synth) -> None:
    for props in gateway_responses(synthetic).values():
        headers = props["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.Origin"
        assert headers["gatewayresponse.header.Vary"] == "'Origin'"
        assert headers["gatewayresponse.header.Access-Control-Expose-Headers"] == f"'{', '.join(EXPOSED_HEADERS)}'"


def test_gateway_responses_carry_no_cors_without_origins(main: Synth) -> None:
    for props in gateway_responses(main).values():
        assert not [h for h in props["ResponseParameters"] if "Access-Control" in h or h.endswith(".Vary")]


def test_a_key_api_gateway_has_not_propagated_is_a_retryable_503(main: Synth) -> None:
    props = gateway_responses(main)["INVALID_API_KEY"]
    assert props["StatusCode"] == "503"
    assert props["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'2'"
    assert "gatewayresponse.header.WWW-Authenticate" not in props["ResponseParameters"]
    body = json.loads(props["ResponseTemplates"]["application/json"])
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "still being provisioned" in body["error"]["message"]


def test_functions_that_answer_http_learn_the_allow_list(synthetic: Synth, main: Synth) -> None:
    expected = ",".join(SYNTHETIC_CORS_ORIGINS)
    fns = functions(synthetic)
    for handler in {r.handler_ref for r in synthetic.routes} | {METHOD_NOT_ALLOWED_HANDLER}:
        assert fns[handler][2]["Environment"]["Variables"][config.CORS_ALLOWED_ORIGINS] == expected, handler
    assert config.CORS_ALLOWED_ORIGINS not in fns[AUTHORIZER_HANDLER][2]["Environment"]["Variables"]
    for route in ROUTES:
        assert config.CORS_ALLOWED_ORIGINS not in functions(main)[route.handler_ref][2]["Environment"]["Variables"]

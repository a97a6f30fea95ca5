"""The API Gateway emulator in-process: proxy events, responses, authorizer, routing, limits."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client

from kiln import routes
from kiln.envelope import ErrorCode
from local import lambda_runtime
from local.gateway import (
    MAX_PAYLOAD_BYTES,
    AuthorizerConfigurationError,
    Gateway,
    LambdaAuthorizer,
    build_event,
    identity_source_value,
    method_arn,
    parse_authorizer_output,
    policy_allows,
    proxy_response,
)
from local.usage_plans import Admission

API = "a1b2c3d4e5"
TOKEN = "Bearer kiln_" + "A" * 43


# --- proxy events --------------------------------------------------------------------------


def event(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        method="GET",
        path="/v1/projects/proj_1",
        resource="/v1/projects/{projectId}",
        path_parameters={"projectId": "proj_1"},
        headers=[("Host", "localhost:3001")],
        query_string="",
        body=b"",
        request_id="req-1",
        api_id=API,
        now=1_700_000_000.5,
    )
    args.update(overrides)
    return build_event(**args)


def test_event_has_the_rest_v1_shape():
    e = event()
    assert e["resource"] == "/v1/projects/{projectId}"
    assert e["path"] == "/v1/projects/proj_1"
    assert e["httpMethod"] == "GET"
    assert e["pathParameters"] == {"projectId": "proj_1"}
    assert e["stageVariables"] is None
    assert e["body"] is None and e["isBase64Encoded"] is False
    assert e["queryStringParameters"] is None and e["multiValueQueryStringParameters"] is None
    context = e["requestContext"]
    assert context["requestId"] == "req-1"
    assert context["resourcePath"] == "/v1/projects/{projectId}"
    assert context["httpMethod"] == "GET"
    assert context["stage"] == "prod"
    assert context["path"] == "/prod/v1/projects/proj_1"
    assert context["requestTimeEpoch"] == 1_700_000_000_500
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["apiId"] == API
    assert "authorizer" not in context


def test_repeated_headers_and_query_parameters_keep_every_value():
    e = event(
        headers=[("Accept", "text/plain"), ("X-Tag", "a"), ("X-Tag", "b")], query_string="tag=x&tag=y&empty=&q=a%20b"
    )
    assert e["headers"] == {"Accept": "text/plain", "X-Tag": "b"}
    assert e["multiValueHeaders"] == {"Accept": ["text/plain"], "X-Tag": ["a", "b"]}
    assert e["queryStringParameters"] == {"tag": "y", "empty": "", "q": "a b"}
    assert e["multiValueQueryStringParameters"] == {"tag": ["x", "y"], "empty": [""], "q": ["a b"]}


def test_no_path_parameters_is_none():
    assert event(path="/v1/projects", resource="/v1/projects", path_parameters={})["pathParameters"] is None


@pytest.mark.parametrize(
    "content_type", ["application/zip", "application/gzip", "application/octet-stream", "Application/Zip; name=x"]
)
def test_binary_media_types_arrive_base64_encoded(content_type):
    raw = bytes(range(256))
    e = event(method="POST", headers=[("Content-Type", content_type)], body=raw)
    assert e["isBase64Encoded"] is True
    assert base64.b64decode(e["body"]) == raw


def test_text_bodies_arrive_as_text():
    e = event(method="POST", headers=[("Content-Type", "application/json")], body='{"name":"é"}'.encode())
    assert e["isBase64Encoded"] is False
    assert e["body"] == '{"name":"é"}'


def test_authorizer_context_and_api_key_are_in_the_request_context():
    e = event(authorizer={"workspaceId": "ws_1", "principalId": "key_1"}, api_key=("id1", "value1"))
    assert e["requestContext"]["authorizer"] == {"workspaceId": "ws_1", "principalId": "key_1"}
    assert e["requestContext"]["identity"]["apiKeyId"] == "id1"
    assert e["requestContext"]["identity"]["apiKey"] == "value1"


def test_method_arn_names_api_stage_method_and_path():
    assert method_arn(API, "GET", "/v1/projects") == (
        f"arn:aws:execute-api:us-east-1:123456789012:{API}/prod/GET/v1/projects"
    )
    assert method_arn(API, "GET", "/") == f"arn:aws:execute-api:us-east-1:123456789012:{API}/prod/GET/"


# --- proxy responses ---------------------------------------------------------------------------


def test_response_merges_headers_with_multi_value_headers_winning():
    response = proxy_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Set-Cookie": "ignored", "X-Count": 3},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
            "body": "{}",
        },
        "req-1",
    )
    assert response is not None and response.status == 201
    assert ("Content-Type", "application/json") in response.headers
    assert ("X-Count", "3") in response.headers
    assert [v for k, v in response.headers if k.lower() == "set-cookie"] == ["a=1", "b=2"]
    assert response.header("X-Request-Id") == "req-1"


def test_response_keeps_the_handlers_request_id():
    response = proxy_response({"statusCode": 200, "headers": {"X-Request-Id": "mine"}, "body": ""}, "req-1")
    assert [v for k, v in response.headers if k == "X-Request-Id"] == ["mine"]


def test_base64_response_bodies_are_decoded():
    raw = b"PK\x03\x04\x00\xff"
    response = proxy_response({"statusCode": 200, "body": base64.b64encode(raw).decode(), "isBase64Encoded": True}, "r")
    assert response.body == raw


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "text",
        {},
        {"statusCode": "200"},
        {"statusCode": 200, "body": 5},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        {"statusCode": 200, "headers": []},
    ],
)
def test_malformed_proxy_results_are_rejected(payload):
    assert proxy_response(payload, "r") is None


# --- authorizer policy -----------------------------------------------------------------------


def allow(resource: str) -> dict[str, Any]:
    return {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}


def test_stage_wildcard_allows_every_route_of_the_stage():
    arn = method_arn(API, "DELETE", "/v1/projects/proj_1")
    assert policy_allows([allow(f"arn:aws:execute-api:us-east-1:123456789012:{API}/prod/*")], arn)
    assert not policy_allows([allow(f"arn:aws:execute-api:us-east-1:123456789012:{API}/dev/*")], arn)
    assert not policy_allows([allow(f"arn:aws:execute-api:us-east-1:123456789012:{API}/prod/GET/*")], arn)


def test_explicit_deny_wins_and_no_statement_denies():
    arn = method_arn(API, "GET", "/v1/projects")
    deny = {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}
    assert not policy_allows([allow("*"), deny], arn)
    assert not policy_allows([], arn)


def test_context_values_are_stringified_like_api_gateway():
    answer = parse_authorizer_output(
        {
            "principalId": "key_1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [allow("*")]},
            "context": {"s": "x", "n": 3, "b": True, "none": None},
            "usageIdentifierKey": "usage-value",
        }
    )
    assert answer.context == {"s": "x", "n": "3", "b": "true", "none": None}
    assert answer.usage_key == "usage-value"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"policyDocument": {"Statement": []}},
        {"principalId": "p"},
        {"principalId": "p", "policyDocument": {"Statement": []}, "context": {"scopes": ["a"]}},
    ],
)
def test_invalid_authorizer_output_is_a_configuration_error(payload):
    with pytest.raises(AuthorizerConfigurationError):
        parse_authorizer_output(payload)


# --- the WSGI gateway with stand-in functions ----------------------------------------------------


class Lambdas:
    """Stands in for lambda_runtime.invoke: records calls, runs the given functions."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.functions: dict[str, Callable[[dict[str, Any]], Any]] = {
            routes.AUTHORIZER_HANDLER: self.allow,
        }

    @staticmethod
    def allow(event: dict[str, Any]) -> dict[str, Any]:
        """Like Kiln's authorizer for a good credential; no credential at all is refused."""
        if event["type"] == "REQUEST" and not any(
            name.lower() == "authorization" and value for name, value in (event["headers"] or {}).items()
        ):
            raise Exception("Unauthorized")
        return {
            "principalId": "key_1",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [allow(event["methodArn"].rsplit("/prod/", 1)[0] + "/prod/*")],
            },
            "context": {
                "workspaceId": "ws_1",
                "keyId": "key_1",
                "scopes": "project:read",
                "tier": "free",
                "allowedPaths": "[]",
            },
            "usageIdentifierKey": "usage-value",
        }

    @staticmethod
    def echo(event: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}

    def __call__(
        self, handler_ref: str, event: Any, function_name: str, **kwargs: Any
    ) -> lambda_runtime.InvocationResult:
        self.calls.append((handler_ref, event))
        function = self.functions.get(handler_ref, self.echo)
        try:
            return lambda_runtime.InvocationResult(function(event))
        except Exception as exc:  # noqa: BLE001 - as the runtime does
            return lambda_runtime.InvocationResult(lambda_runtime.error_document(exc, "r"), "Unhandled", exc)

    def refs(self) -> list[str]:
        return [ref for ref, _ in self.calls]


class Plans:
    def __init__(self, admission: Admission | None = None) -> None:
        self.admission = admission or Admission(api_key_id="apikey1")
        self.seen: list[str | None] = []

    def admit(self, key_value: str | None) -> Admission:
        self.seen.append(key_value)
        return self.admission


@pytest.fixture
def lambdas() -> Lambdas:
    return Lambdas()


@pytest.fixture
def plans() -> Plans:
    return Plans()


@pytest.fixture
def http(lambdas, plans) -> Client:
    gateway = Gateway(API, plans, LambdaAuthorizer(invoke=lambdas), invoke=lambdas, log=lambda line: None)  # type: ignore[arg-type]
    return Client(gateway)


def envelope_error(response) -> dict[str, Any]:
    body = response.json
    assert body["success"] is False and body["data"] is None
    assert response.headers["X-Request-Id"]
    assert body["error"]["details"]["requestId"] == response.headers["X-Request-Id"]
    return body["error"]


def test_unknown_path_is_endpoint_not_found(http, lambdas):
    response = http.get("/v2/nothing")
    assert response.status_code == 404
    assert envelope_error(response)["code"] == "ENDPOINT_NOT_FOUND"
    assert lambdas.calls == []


def test_undeclared_method_goes_to_the_405_function_without_auth(http, lambdas):
    lambdas.functions[routes.METHOD_NOT_ALLOWED_HANDLER] = lambda e: {
        "statusCode": 405,
        "headers": {"Allow": "GET, POST"},
        "body": json.dumps({"resource": e["resource"]}),
    }
    response = http.put("/v1/projects/proj_9")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.headers["X-Request-Id"]
    assert lambdas.refs() == [routes.METHOD_NOT_ALLOWED_HANDLER]
    assert json.loads(response.data) == {"resource": "/v1/projects/{projectId}"}


def test_public_route_skips_the_authorizer(http, lambdas, plans):
    response = http.get("/health")
    assert response.status_code == 200
    assert lambdas.refs() == ["kiln.handlers.health.handler"]
    assert plans.seen == []


def test_a_trailing_slash_reaches_the_resource_without_it_and_keeps_the_path(http, lambdas):
    # As API Gateway does: /app/ is served by GET /app, whose function sees the path as sent.
    response = http.get("/app/")
    assert response.status_code == 200
    [(ref, event)] = lambdas.calls
    assert ref == "kiln.handlers.console.handler"
    assert (event["resource"], event["path"]) == ("/app", "/app/")


def test_the_deployed_authorizer_declares_no_identity_source_so_the_function_decides(http, lambdas):
    # kiln.routes: a REQUEST authorizer without identity sources (a caller sends a key, a token
    # or a cookie), so a request without Authorization still reaches the function.
    def reject(event):
        raise Exception("Unauthorized")

    lambdas.functions[routes.AUTHORIZER_HANDLER] = reject
    response = http.get("/v1/projects")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="kiln"'
    assert envelope_error(response)["code"] == "UNAUTHORIZED"
    assert lambdas.refs() == [routes.AUTHORIZER_HANDLER]


def test_a_missing_declared_identity_source_is_401_without_calling_the_authorizer(lambdas, plans):
    authorizer = LambdaAuthorizer(
        invoke=lambdas,  # type: ignore[arg-type]
        identity_sources=("method.request.header.Authorization", "method.request.header.Cookie"),
    )
    http = Client(Gateway(API, plans, authorizer, invoke=lambdas, log=lambda line: None))  # type: ignore[arg-type]
    # One of two declared sources present: still refused before the function, as on AWS.
    for authorization, cookie in ((None, None), (TOKEN, None), (None, "1"), ("", "1")):
        # werkzeug's test client sends cookies from its own jar, never a Cookie header.
        http.set_cookie("a", cookie) if cookie else http.delete_cookie("a")
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = http.get("/v1/projects", headers=headers)
        assert response.status_code == 401, (authorization, cookie)
        assert envelope_error(response)["code"] == "UNAUTHORIZED"
    assert lambdas.calls == []
    http.set_cookie("a", "1")
    assert http.get("/v1/projects", headers={"Authorization": TOKEN}).status_code == 200
    assert lambdas.refs()[0] == routes.AUTHORIZER_HANDLER


def test_identity_sources_read_headers_case_insensitively_and_query_strings():
    request = event(headers=[("authorization", "Bearer x"), ("Host", "h")], query_string="token=t")
    assert identity_source_value("method.request.header.Authorization", request) == "Bearer x"
    assert identity_source_value("method.request.querystring.token", request) == "t"
    assert identity_source_value("method.request.header.Cookie", request) is None
    with pytest.raises(ValueError):
        identity_source_value("stageVariables.x", request)


def test_impossible_configurations_are_refused_as_api_gateway_refuses_them():
    with pytest.raises(ValueError):  # a cache needs identity sources to key on
        LambdaAuthorizer(identity_sources=(), cache_seconds=60)
    with pytest.raises(ValueError):
        LambdaAuthorizer(authorizer_type="TOKEN", identity_sources=(), cache_seconds=0)
    with pytest.raises(ValueError):
        LambdaAuthorizer(authorizer_type="COGNITO_USER_POOLS")


def test_unauthorized_from_the_authorizer_is_401(http, lambdas):
    def reject(event):
        raise Exception("Unauthorized")

    lambdas.functions[routes.AUTHORIZER_HANDLER] = reject
    response = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert response.status_code == 401
    assert envelope_error(response)["code"] == "UNAUTHORIZED"
    assert lambdas.refs() == [routes.AUTHORIZER_HANDLER]


def test_a_deny_policy_is_401(http, lambdas):
    def deny(event):
        answer = Lambdas.allow(event)
        answer["policyDocument"]["Statement"][0]["Effect"] = "Deny"
        return answer

    lambdas.functions[routes.AUTHORIZER_HANDLER] = deny
    response = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert response.status_code == 401
    assert envelope_error(response)["code"] == "UNAUTHORIZED"


def test_a_crashing_authorizer_is_503(http, lambdas):
    def crash(event):
        raise ConnectionError("table unreachable")

    lambdas.functions[routes.AUTHORIZER_HANDLER] = crash
    response = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert response.status_code == 503
    assert envelope_error(response)["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"] == "1"


def test_an_invalid_authorizer_answer_is_503_like_the_deployed_configuration_error(http, lambdas):
    lambdas.functions[routes.AUTHORIZER_HANDLER] = lambda event: {"principalId": "key_1"}
    response = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert response.status_code == 503
    assert envelope_error(response)["code"] == "SERVICE_UNAVAILABLE"
    assert "kiln.handlers.projects_list.handler" not in lambdas.refs()


def test_authorized_event_carries_the_authorizer_context(http, lambdas, plans):
    http.set_cookie("a", "1")
    response = http.get("/v1/projects/proj_1?x=1", headers={"Authorization": TOKEN})
    assert response.status_code == 200
    assert lambdas.refs() == [routes.AUTHORIZER_HANDLER, "kiln.handlers.projects_get.handler"]
    authorizer_event = lambdas.calls[0][1]
    # The REQUEST authorizer's event: the request itself, as the integration will see it
    # (without a body, and before there is an authorizer context).
    integration_event = response.json
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"] == method_arn(API, "GET", "/v1/projects/proj_1")
    for name in (
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
    ):
        assert authorizer_event[name] == integration_event[name], name
    assert authorizer_event["headers"]["Cookie"] == "a=1"
    assert authorizer_event["pathParameters"] == {"projectId": "proj_1"}
    assert "body" not in authorizer_event and "authorizer" not in authorizer_event["requestContext"]
    # The same request context, but before the authorizer answered: no principal, and no
    # usage key yet (it comes from the authorizer's answer).
    expected_context = {k: v for k, v in integration_event["requestContext"].items() if k != "authorizer"}
    expected_context["identity"] = {
        k: v for k, v in expected_context["identity"].items() if k not in ("apiKey", "apiKeyId")
    }
    assert authorizer_event["requestContext"] == expected_context
    context = integration_event["requestContext"]
    assert context["authorizer"]["principalId"] == "key_1"
    assert context["authorizer"]["workspaceId"] == "ws_1"
    assert context["authorizer"]["scopes"] == "project:read"
    assert context["identity"]["apiKeyId"] == "apikey1"
    assert integration_event["pathParameters"] == {"projectId": "proj_1"}
    assert plans.seen == ["usage-value"]


def test_a_token_authorizer_gets_the_token_event(lambdas, plans):
    authorizer = LambdaAuthorizer(
        invoke=lambdas,  # type: ignore[arg-type]
        authorizer_type="TOKEN",
        identity_sources=("method.request.header.Authorization",),
        cache_seconds=0,
    )
    http = Client(Gateway(API, plans, authorizer, invoke=lambdas, log=lambda line: None))  # type: ignore[arg-type]
    assert http.get("/v1/projects/proj_1", headers={"Authorization": TOKEN}).status_code == 200
    assert lambdas.calls[0][1] == {
        "type": "TOKEN",
        "authorizationToken": TOKEN,
        "methodArn": method_arn(API, "GET", "/v1/projects/proj_1"),
    }


def test_the_deployed_configuration_calls_the_authorizer_on_every_request(http, lambdas):
    for _ in range(3):
        assert http.get("/v1/projects", headers={"Authorization": TOKEN}).status_code == 200
    assert lambdas.refs().count(routes.AUTHORIZER_HANDLER) == 3


def cached_client(lambdas, plans, clock=None, sources=("method.request.header.Authorization",)) -> Client:
    authorizer = LambdaAuthorizer(
        invoke=lambdas,  # type: ignore[arg-type]
        identity_sources=sources,
        cache_seconds=60,
        **({"clock": clock} if clock else {}),
    )
    return Client(Gateway(API, plans, authorizer, invoke=lambdas, log=lambda line: None))  # type: ignore[arg-type]


def test_a_cached_answer_is_keyed_by_the_identity_sources_across_routes(lambdas, plans):
    http = cached_client(lambdas, plans, sources=("method.request.header.Authorization", "method.request.header.X-Id"))
    for path in ("/v1/projects", "/v1/projects/proj_1", "/v1/projects"):
        assert http.get(path, headers={"Authorization": TOKEN, "X-Id": "1", "Other": path}).status_code == 200
    assert lambdas.refs().count(routes.AUTHORIZER_HANDLER) == 1
    assert http.get("/v1/projects", headers={"Authorization": TOKEN, "X-Id": "2"}).status_code == 200
    assert http.get("/v1/projects", headers={"Authorization": TOKEN + "x", "X-Id": "1"}).status_code == 200
    assert lambdas.refs().count(routes.AUTHORIZER_HANDLER) == 3


def test_cache_expires_after_its_ttl(lambdas, plans):
    now = [0.0]
    http = cached_client(lambdas, plans, clock=lambda: now[0])
    http.get("/v1/projects", headers={"Authorization": TOKEN})
    now[0] = 59.0
    http.get("/v1/projects", headers={"Authorization": TOKEN})
    now[0] = 60.0
    http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert lambdas.refs().count(routes.AUTHORIZER_HANDLER) == 2


@pytest.mark.parametrize(
    ("refusal", "code"),
    [("THROTTLED", ErrorCode.TOO_MANY_REQUESTS), ("QUOTA_EXCEEDED", ErrorCode.USAGE_LIMIT_EXCEEDED)],
)
def test_usage_plan_refusals_carry_retry_after(lambdas, refusal, code):
    plans = Plans(Admission(refusal, retry_after=7, api_key_id="k"))
    http = Client(Gateway(API, plans, LambdaAuthorizer(invoke=lambdas), invoke=lambdas, log=lambda line: None))  # type: ignore[arg-type]
    response = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert envelope_error(response)["code"] == code.value
    assert "kiln.handlers.projects_list.handler" not in lambdas.refs()


def test_a_usage_key_api_gateway_does_not_know_yet_is_a_retryable_503_not_a_401(lambdas):
    plans = Plans(Admission("INVALID_API_KEY"))
    http = Client(Gateway(API, plans, LambdaAuthorizer(invoke=lambdas), invoke=lambdas, log=lambda line: None))  # type: ignore[arg-type]
    response = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert response.status_code == 503
    error = envelope_error(response)
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == "The credentials are valid but still being provisioned; retry in a few seconds."
    assert response.headers["Retry-After"] == "2"
    assert "WWW-Authenticate" not in response.headers  # nothing is wrong with the credentials


def test_binary_upload_reaches_the_handler_base64_encoded(http):
    raw = b"PK\x03\x04" + bytes(range(256))
    response = http.post("/v1/projects", data=raw, headers={"Authorization": TOKEN, "Content-Type": "application/zip"})
    assert response.json["isBase64Encoded"] is True
    assert base64.b64decode(response.json["body"]) == raw


def test_raw_headers_from_the_server_keep_repeats_and_names(http):
    response = http.get(
        "/health", environ_overrides={"kiln.raw_headers": [("x-trace", "1"), ("x-trace", "2"), ("Host", "h")]}
    )
    assert response.json["multiValueHeaders"]["x-trace"] == ["1", "2"]
    assert response.json["headers"]["x-trace"] == "2"


def test_body_over_the_gateway_limit_is_413(http, lambdas):
    response = http.post(
        "/v1/projects",
        data=b"x" * (MAX_PAYLOAD_BYTES + 1),
        headers={"Authorization": TOKEN, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert envelope_error(response)["code"] == "PAYLOAD_TOO_LARGE"
    assert lambdas.calls == []


def test_handler_crash_is_an_internal_error_envelope(http, lambdas):
    def crash(event):
        raise RuntimeError("bug")

    lambdas.functions["kiln.handlers.health.handler"] = crash
    response = http.get("/health")
    assert response.status_code == 500
    assert envelope_error(response)["code"] == "INTERNAL_ERROR"


def test_malformed_handler_result_is_an_internal_error_envelope(http, lambdas):
    lambdas.functions["kiln.handlers.health.handler"] = lambda e: {"status": "ok"}
    response = http.get("/health")
    assert response.status_code == 500
    assert envelope_error(response)["code"] == "INTERNAL_ERROR"


def test_gateway_adds_forwarding_headers(http):
    response = http.get("/health", headers={"X-Forwarded-For": "203.0.113.7"})
    headers = response.json["headers"]
    assert headers["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Amzn-Trace-Id"].startswith("Root=1-")


# --- a key minted for a workspace created a moment ago ---------------------------------------------


@pytest.fixture
def moto_apigateway(monkeypatch):
    import boto3
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.client(
            "apigateway", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )


def test_a_fresh_usage_key_answers_503_until_it_exists_then_200_at_once(lambdas, moto_apigateway):
    # The gateway meters with the real directory over moto's API Gateway, as the local cloud
    # does; the authorizer answers with a usage key that does not exist yet (on AWS: created but
    # not propagated). Nothing moves the clock: the key works on the very next request.
    from local.usage_plans import UsagePlanDirectory, UsagePlanEnforcer

    usage_value = "u" * 40
    lambdas.functions[routes.AUTHORIZER_HANDLER] = lambda event: {
        **Lambdas.allow(event),
        "usageIdentifierKey": usage_value,
    }
    plan = moto_apigateway.create_usage_plan(
        name="free", apiStages=[{"apiId": API, "stage": "prod"}], throttle={"rateLimit": 10.0, "burstLimit": 20}
    )
    clock = lambda: 0.0  # noqa: E731
    directory = UsagePlanDirectory(moto_apigateway, API, "prod", cache_seconds=60.0, clock=clock)
    gateway = Gateway(
        API,
        UsagePlanEnforcer(directory),
        LambdaAuthorizer(invoke=lambdas, clock=clock),  # type: ignore[arg-type]
        invoke=lambdas,
        log=lambda line: None,
    )
    http = Client(gateway)

    for _ in range(2):
        early = http.get("/v1/projects", headers={"Authorization": TOKEN})
        assert early.status_code == 503, early.data
        assert early.headers["Retry-After"] == "2"
        assert envelope_error(early)["code"] == "SERVICE_UNAVAILABLE"
    assert "kiln.handlers.projects_list.handler" not in lambdas.refs()

    key = moto_apigateway.create_api_key(name="kiln-ws_1", enabled=True, value=usage_value)
    moto_apigateway.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    ready = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert ready.status_code == 200, ready.data
    assert ready.json["requestContext"]["identity"]["apiKeyId"] == key["id"]


# --- CORS --------------------------------------------------------------------------------------------

APP = "https://app.example.com"


def cors_client(lambdas, plans, *origins: str) -> Client:
    from kiln.http.cors import CorsPolicy

    return Client(
        Gateway(
            API,
            plans,
            LambdaAuthorizer(invoke=lambdas),
            invoke=lambdas,  # type: ignore[arg-type]
            log=lambda line: None,
            cors=CorsPolicy(origins),
        )
    )


def preflight(http: Client, path: str, origin: str, method: str = "POST"):
    return http.open(
        path,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )


def test_a_preflight_from_an_allowed_origin_succeeds_without_credentials(lambdas, plans):
    http = cors_client(lambdas, plans, APP, "https://*.example.org")
    for origin in (APP, "https://a.b.example.org"):
        response = preflight(http, "/v1/projects", origin)
        assert response.status_code == 204 and response.data == b""
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Vary"] == "Origin"
        assert response.headers["Access-Control-Allow-Methods"] == "GET, POST"
        allowed = [h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")]
        assert {
            "authorization",
            "content-type",
            "idempotency-key",
            "x-request-id",
            "last-event-id",
            "x-csrf-token",
        } <= set(allowed)
        assert int(response.headers["Access-Control-Max-Age"]) > 0
        assert response.headers["Allow"] == "GET, POST, OPTIONS"
    # Neither the authorizer, nor the 405 function, nor the usage plans saw it.
    assert lambdas.calls == [] and plans.seen == []


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://app.example.com",
        "https://example.org",
        "https://app.example.com.evil.net",
        "null",
    ],
)
def test_a_preflight_from_another_origin_gets_no_allow_headers(lambdas, plans, origin):
    http = cors_client(lambdas, plans, APP, "https://*.example.org")
    response = preflight(http, "/v1/projects/proj_1", origin, "DELETE")
    assert response.status_code == 204
    assert not [h for h, _ in response.headers if h.lower().startswith("access-control-")]
    assert response.headers["Vary"] == "Origin"
    assert lambdas.calls == []


def test_options_is_answered_by_the_gateway_even_without_cors(lambdas, plans):
    http = cors_client(lambdas, plans)
    response = preflight(http, "/v1/projects/proj_1", APP)
    assert response.status_code == 204
    assert response.headers["Allow"] == "DELETE, GET, PATCH, OPTIONS"
    assert not [h for h, _ in response.headers if h.lower().startswith("access-control-") or h == "Vary"]
    assert lambdas.calls == []  # not the 405 function


def test_options_on_an_unknown_path_is_404(lambdas, plans):
    response = preflight(cors_client(lambdas, plans, APP), "/v9/nothing", APP)
    assert response.status_code == 404
    assert envelope_error(response)["code"] == "ENDPOINT_NOT_FOUND"


def test_function_answers_pass_through_with_their_own_cors_headers(lambdas, plans):
    # The integration's headers are the function's (kiln.http.cors adds them there): the gateway
    # adds nothing of its own to a proxy response.
    lambdas.functions["kiln.handlers.health.handler"] = lambda e: {
        "statusCode": 200,
        "headers": {"Access-Control-Allow-Origin": APP, "Vary": "Origin"},
        "body": "{}",
    }
    response = cors_client(lambdas, plans, APP).get("/health", headers={"Origin": APP})
    assert response.headers.getlist("Access-Control-Allow-Origin") == [APP]
    assert response.headers.getlist("Vary") == ["Origin"]


def test_gateway_errors_name_the_one_configured_origin(lambdas, plans):
    http = cors_client(lambdas, plans, APP)
    for origin in (APP, "https://evil.example.com"):
        response = http.get("/v1/projects", headers={"Origin": origin})  # no credentials: 401
        assert response.status_code == 401
        assert response.headers["Access-Control-Allow-Origin"] == APP  # static: useless to others
        assert response.headers["Vary"] == "Origin"
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


def test_gateway_errors_echo_the_origin_when_the_list_cannot_be_static(lambdas):
    plans = Plans(Admission("THROTTLED", retry_after=3, api_key_id="k"))
    http = cors_client(lambdas, plans, APP, "http://localhost:5173")
    response = http.get("/v1/projects", headers={"Authorization": TOKEN, "Origin": "http://localhost:5173"})
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    exposed = [h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")]
    assert {"Retry-After", "X-Request-Id", "X-RateLimit-Remaining", "RateLimit"} <= set(exposed)
    without_origin = http.get("/v1/projects", headers={"Authorization": TOKEN})
    assert "Access-Control-Allow-Origin" not in without_origin.headers


def test_gateway_errors_carry_no_cors_headers_without_origins(http):
    response = http.get("/v1/projects", headers={"Origin": APP})
    assert response.status_code == 401
    assert "Access-Control-Allow-Origin" not in response.headers and "Vary" not in response.headers

"""An API Gateway REST API (v1) in front of Kiln's handlers, built from `kiln.routes`.

It reproduces what the deployed API does before and after a handler runs, so handlers behave
the same locally: resource matching (and the ANY method that answers 405), the Lambda
authorizer as kiln.routes configures it (type, identity sources, result cache), API-key usage
plans (throttle and quota), the payload limit, the Lambda proxy event and the proxy response.
Every answer the gateway produces by itself is rendered from the deployed gateway responses
(infra/gateway_responses.py), CORS headers included, and every resource answers OPTIONS itself
as the deployed MOCK method does (infra/api.py), without the authorizer: browsers send preflights without credentials.
"""

from __future__ import annotations

import base64
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.serving import WSGIRequestHandler, make_server

from infra import gateway_responses
from kiln import routes
from kiln.envelope import JSON_CONTENT_TYPE, ErrorCode, dumps, error_body, error_headers
from kiln.http.cors import CorsPolicy, allow_header
from local import lambda_runtime
from local.constants import ACCOUNT_ID, REGION, STAGE, function_name
from local.server import BackgroundServer
from local.usage_plans import Admission, UsagePlanEnforcer
from local.websocket import LocalSockets

# API Gateway's own request payload limit.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Content types the deployed API lists as binaryMediaTypes: their bodies reach the handler
# base64-encoded with isBase64Encoded=True.
BINARY_MEDIA_TYPES = frozenset(routes.BINARY_MEDIA_TYPES)
# Lambda's timeout for API handlers is shorter than API Gateway's 29 s integration timeout.
HANDLER_TIMEOUT_SECONDS = 29
# Response headers the gateway computes itself; a handler's values would be wrong after
# base64 decoding or would break the connection.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_RAW_HEADERS = "kiln.raw_headers"

Invoke = Callable[..., lambda_runtime.InvocationResult]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    own: bool = False  # made by the gateway itself (a gateway response), not by a function

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


def gateway_error(
    code: ErrorCode,
    request_id: str,
    message: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> GatewayResponse:
    """An answer from the gateway itself (a gateway response in the deployed API)."""
    headers = {"Content-Type": JSON_CONTENT_TYPE, "X-Request-Id": request_id}
    headers.update(error_headers(code))
    headers.update(extra_headers or {})
    body = dumps(error_body(code, message, {"requestId": request_id})).encode()
    return GatewayResponse(code.status, list(headers.items()), body, own=True)


def gateway_response(
    response_type: str,
    request_id: str,
    message: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> GatewayResponse:
    """API Gateway's answer of one response type, as infra/gateway_responses.py deploys it.

    `message` stands in for `$context.error.messageString` on the types that show API Gateway's
    own message; `extra_headers` are what the emulator knows and the deployed gateway does not
    say (a throttle's Retry-After).
    """
    mapping = gateway_responses.mapping(response_type)
    headers = {**mapping.static_headers(), **(extra_headers or {})}
    return gateway_error(mapping.code, request_id, message if mapping.gateway_message else mapping.message, headers)


# --- the Lambda proxy event ------------------------------------------------------------------


def method_arn(api_id: str, method: str, path: str) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/{STAGE}/{method}/{path.lstrip('/')}"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def build_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: dict[str, str],
    headers: list[tuple[str, str]],
    query_string: str,
    body: bytes,
    request_id: str,
    api_id: str,
    source_ip: str = "127.0.0.1",
    authorizer: dict[str, Any] | None = None,
    api_key: tuple[str, str] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy integration event for one request."""
    now = time.time() if now is None else now
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value  # the last value wins, as in API Gateway
        multi_headers.setdefault(name, []).append(value)

    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)

    content_type = next((v for k, v in reversed(headers) if k.lower() == "content-type"), None)
    is_binary = media_type(content_type) in BINARY_MEDIA_TYPES
    if not body:
        event_body = None
    elif is_binary:
        event_body = base64.b64encode(body).decode("ascii")
    else:
        event_body = body.decode("utf-8", "replace")

    user_agent = next((v for k, v in reversed(headers) if k.lower() == "user-agent"), None)
    identity: dict[str, Any] = {
        "sourceIp": source_ip,
        "userAgent": user_agent,
        "accountId": None,
        "caller": None,
        "user": None,
        "userArn": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
    }
    if api_key is not None:
        identity["apiKeyId"], identity["apiKey"] = api_key
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "resourceId": _resource_id(resource),
        "resourcePath": resource,
        "httpMethod": method,
        "extendedRequestId": request_id,
        "requestId": request_id,
        "requestTime": formatdate(now, usegmt=True),
        "requestTimeEpoch": int(now * 1000),
        "path": f"/{STAGE}{path}",
        "stage": STAGE,
        "domainName": next((v for k, v in reversed(headers) if k.lower() == "host"), "localhost"),
        "protocol": "HTTP/1.1",
        "identity": identity,
    }
    if authorizer is not None:
        request_context["authorizer"] = authorizer
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": event_body,
        "isBase64Encoded": bool(event_body) and is_binary,
    }


def _resource_id(resource: str) -> str:
    """A stable 6-character id per resource path, shaped like API Gateway's."""
    return uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6]


def proxy_response(payload: Any, request_id: str) -> GatewayResponse | None:
    """The HTTP response for a Lambda proxy result; None when the result is malformed."""
    if not isinstance(payload, dict):
        return None
    status = payload.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None
    headers = payload.get("headers")
    multi = payload.get("multiValueHeaders")
    headers = {} if headers is None else headers
    multi = {} if multi is None else multi
    if not isinstance(headers, dict) or not isinstance(multi, dict):
        return None
    # Documented merge: a name in multiValueHeaders takes only those values.
    multi_names = {name.lower() for name in multi}
    merged: list[tuple[str, str]] = [
        (name, _header_value(value)) for name, value in headers.items() if name.lower() not in multi_names
    ]
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            merged.append((name, _header_value(value)))
    merged = [(k, v) for k, v in merged if k.lower() not in _HOP_BY_HOP]
    if not any(k.lower() == "x-request-id" for k, _ in merged):
        merged.append(("X-Request-Id", request_id))

    body = payload.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        return None
    elif payload.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            return None
    else:
        raw = body.encode("utf-8")
    return GatewayResponse(status, merged, raw)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- the Lambda authorizer ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizerAnswer:
    principal_id: str
    statements: tuple[dict[str, Any], ...]
    context: dict[str, Any]  # already stringified, as the integration will see it
    usage_key: str | None


@dataclass(frozen=True)
class AuthResult:
    refusal: str | None = None  # the gateway response type API Gateway answers with
    answer: AuthorizerAnswer | None = None
    latency_ms: int = 0


class AuthorizerConfigurationError(Exception):
    """The authorizer's output is not what API Gateway accepts."""


def parse_authorizer_output(payload: Any) -> AuthorizerAnswer:
    if not isinstance(payload, dict):
        raise AuthorizerConfigurationError("output is not an object")
    principal = payload.get("principalId")
    policy = payload.get("policyDocument")
    if not isinstance(principal, str) or not principal:
        raise AuthorizerConfigurationError("principalId is missing")
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), (list, dict)):
        raise AuthorizerConfigurationError("policyDocument.Statement is missing")
    statements = policy["Statement"]
    statements = tuple(statements if isinstance(statements, list) else [statements])
    context: dict[str, Any] = {}
    for name, value in (payload.get("context") or {}).items():
        # API Gateway rejects objects and arrays in the context and stringifies the rest.
        if isinstance(value, (dict, list)):
            raise AuthorizerConfigurationError(f"context value {name!r} is an object or array")
        if value is None:
            context[name] = None
        elif isinstance(value, bool):
            context[name] = "true" if value else "false"
        else:
            context[name] = str(value)
    usage_key = payload.get("usageIdentifierKey")
    return AuthorizerAnswer(principal, statements, context, usage_key if isinstance(usage_key, str) else None)


def _arn_pattern(resource: str) -> re.Pattern[str]:
    # DOTALL: IAM's `*` matches any characters, a (decoded) newline in a path included.
    return re.compile("^" + re.escape(resource).replace(r"\*", ".*").replace(r"\?", ".") + "$", re.DOTALL)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def policy_allows(statements: Iterable[dict[str, Any]], arn: str) -> bool:
    """IAM evaluation of the authorizer policy: an explicit Deny wins, else an Allow is needed."""
    allowed = False
    for statement in statements:
        actions = _as_list(statement.get("Action"))
        if not any(a in ("*", "execute-api:*", "execute-api:Invoke") for a in actions):
            continue
        if not any(_arn_pattern(r).match(arn) for r in _as_list(statement.get("Resource"))):
            continue
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny":
            return False
        if effect == "allow":
            allowed = True
    return allowed


def identity_source_value(source: str, event: dict[str, Any]) -> str | None:
    """The value an identity source's mapping expression selects from a request, or None.

    `method.request.header.X` (case-insensitive, the last value when repeated, as the proxy
    event's `headers` holds it) and `method.request.querystring.X`; API Gateway accepts no
    other kind here that Kiln declares, so anything else is a configuration error.
    """
    if source.startswith("method.request.header."):
        name = source[len("method.request.header.") :].lower()
        values = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        return values.get(name)
    if source.startswith("method.request.querystring."):
        return (event.get("queryStringParameters") or {}).get(source[len("method.request.querystring.") :])
    raise ValueError(f"unsupported identity source {source!r}")


def request_authorizer_event(request: dict[str, Any], arn: str) -> dict[str, Any]:
    """The event a REQUEST authorizer gets for `request` (a proxy event without an authorizer
    context): the request itself, its type and method ARN. Public so that the authorizer's
    benchmark sends the very shape the gateway sends."""
    context = {k: v for k, v in request["requestContext"].items() if k != "authorizer"}
    return {
        "type": "REQUEST",
        "methodArn": arn,
        **{
            name: request[name]
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
            )
        },
        "requestContext": context,
    }


class LambdaAuthorizer:
    """Calls the authorizer function and caches its policy, as API Gateway does for the
    configuration in kiln.routes (type, identity sources, result TTL).

    - TOKEN: the one identity source (a header) is the token; the event is
      {type, authorizationToken, methodArn}.
    - REQUEST: the event is the request itself (type, methodArn, resource, path, httpMethod,
      headers, multiValueHeaders, query strings, pathParameters, stageVariables, requestContext).
    - Either way, a declared identity source that is missing or empty answers 401 without
      calling the function, and answers are cached by the sources' values for the TTL (0: never).
    """

    def __init__(
        self,
        handler_ref: str = routes.AUTHORIZER_HANDLER,
        authorizer_type: str = routes.AUTHORIZER_TYPE,
        identity_sources: tuple[str, ...] = routes.AUTHORIZER_IDENTITY_SOURCES,
        cache_seconds: float = routes.AUTHORIZER_CACHE_TTL_SECONDS,
        invoke: Invoke = lambda_runtime.invoke,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if authorizer_type not in ("TOKEN", "REQUEST"):
            raise ValueError(f"authorizer type {authorizer_type!r}: TOKEN or REQUEST")
        if authorizer_type == "TOKEN" and len(identity_sources) != 1:
            raise ValueError("a TOKEN authorizer has exactly one identity source")
        if cache_seconds > 0 and not identity_sources:
            # What API Gateway (and CDK) refuse: the cache has nothing to key on.
            raise ValueError("a cached authorizer needs at least one identity source")
        self.handler_ref = handler_ref
        self.authorizer_type = authorizer_type
        self.identity_sources = identity_sources
        self.cache_seconds = cache_seconds
        self.invoke = invoke
        self.clock = clock
        self._cache: dict[tuple[str, ...], tuple[float, AuthorizerAnswer]] = {}
        self._lock = threading.Lock()

    def _event(self, request: dict[str, Any], arn: str, identity: tuple[str, ...]) -> dict[str, Any]:
        if self.authorizer_type == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": identity[0], "methodArn": arn}
        return request_authorizer_event(request, arn)

    def authorize(self, request: dict[str, Any], arn: str) -> AuthResult:
        """`request`: the proxy event the integration would get (without an authorizer context)."""
        identity = tuple(identity_source_value(source, request) or "" for source in self.identity_sources)
        if not all(identity):
            # A declared identity source is missing: API Gateway answers without calling the function.
            return AuthResult("UNAUTHORIZED")
        now = self.clock()
        cached = None
        if self.cache_seconds > 0:
            with self._lock:
                cached = self._cache.get(identity)
        latency_ms = 0
        if cached is not None and cached[0] > now:
            answer = cached[1]
        else:
            started = time.monotonic()
            result = self.invoke(
                self.handler_ref,
                self._event(request, arn, identity),
                function_name("authorizer"),
                timeout_seconds=10,
            )
            latency_ms = int((time.monotonic() - started) * 1000)
            if not result.ok:
                if result.payload.get("errorMessage") == "Unauthorized":
                    return AuthResult("UNAUTHORIZED")
                lambda_runtime.log_failure(function_name("authorizer"), result)
                return AuthResult("AUTHORIZER_FAILURE")
            try:
                answer = parse_authorizer_output(result.payload)
            except AuthorizerConfigurationError as exc:
                print(f"[gateway] authorizer configuration error: {exc}", file=sys.stderr)
                return AuthResult("AUTHORIZER_CONFIGURATION_ERROR")
            if self.cache_seconds > 0:
                with self._lock:
                    self._cache[identity] = (now + self.cache_seconds, answer)
        # The cached policy is evaluated against each request's own methodArn.
        if not policy_allows(answer.statements, arn):
            return AuthResult("ACCESS_DENIED")
        return AuthResult(answer=answer, latency_ms=latency_ms)


# --- the WSGI application --------------------------------------------------------------------


class Gateway:
    """The WSGI app: one API Gateway stage serving every route of `kiln.routes`."""

    def __init__(
        self,
        api_id: str,
        usage_plans: UsagePlanEnforcer | None,
        authorizer: LambdaAuthorizer | None = None,
        invoke: Invoke = lambda_runtime.invoke,
        log: Callable[[str], None] | None = None,
        cors: CorsPolicy | None = None,
    ) -> None:
        self.api_id = api_id
        self.usage_plans = usage_plans
        self.authorizer = authorizer or LambdaAuthorizer(invoke=invoke)
        self.invoke = invoke
        self.log = log if log is not None else (lambda line: print(line, file=sys.stderr))
        # The deployment's corsAllowedOrigins; the handlers read the same list from the environment.
        self.cors = cors or CorsPolicy()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        try:
            response = self.handle(environ, request_id)
        except Exception:  # noqa: BLE001 - a bug in the emulator or an AWS call it made
            traceback.print_exc(file=sys.stderr)
            response = gateway_error(ErrorCode.INTERNAL_ERROR, request_id)
        if response.own:
            response.headers += list(self.cors.gateway_headers(_origin(environ)).items())
        reason = _REASONS.get(response.status, "Unknown")
        start_response(f"{response.status} {reason}", response.headers + [("Content-Length", str(len(response.body)))])
        elapsed = int((time.monotonic() - started) * 1000)
        self.log(
            f"[gateway] {environ.get('REQUEST_METHOD')} {_path(environ)} -> {response.status} "
            f"({elapsed} ms, {request_id})"
        )
        return [response.body]

    def handle(self, environ: dict[str, Any], request_id: str) -> GatewayResponse:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = _path(environ)

        body = _read_body(environ)
        if body is None:
            return gateway_response("REQUEST_TOO_LARGE", request_id)

        matches = routes.match_path(path)
        if not matches and len(path) > 1 and path.endswith("/"):
            # API Gateway (REST) routes a trailing slash to the resource without it, the event's
            # `path` keeping the slash: `/app/` reaches GET /app (and `/docs/` GET /docs).
            matches = routes.match_path(path[:-1])
        if not matches:
            # What API Gateway answers for a path no resource matches.
            return gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        if method == "OPTIONS":
            # Every resource declares OPTIONS with a MOCK integration, ahead of ANY (the 405).
            return self._preflight(sorted({r.method for r, _ in matches}), _origin(environ), request_id)
        found = next(((r, p) for r, p in matches if r.method == method), None)
        source_ip = environ.get("REMOTE_ADDR") or "127.0.0.1"
        headers = _forwarded_headers(_headers(environ), environ, source_ip)
        event_args = dict(
            method=method,
            path=path,
            headers=headers,
            query_string=environ.get("QUERY_STRING", ""),
            body=body,
            request_id=request_id,
            api_id=self.api_id,
            source_ip=source_ip,
            # One arrival time: the authorizer and the integration see the same request context.
            now=time.time(),
        )
        if found is None:
            # The deployed API declares ANY on each resource, integrated with the 405 function
            # and served without the authorizer.
            resource, params = matches[0][0].path, matches[0][1]
            event = build_event(resource=resource, path_parameters=params, **event_args)
            return self._integrate(routes.METHOD_NOT_ALLOWED_HANDLER, "method_not_allowed", event, request_id)

        route, params = found
        authorizer_context = None
        api_key = None
        if route.authorized:
            request = build_event(resource=route.path, path_parameters=params, **event_args)
            auth = self.authorizer.authorize(request, method_arn(self.api_id, method, path))
            if auth.refusal is not None:
                return gateway_response(auth.refusal, request_id)
            assert auth.answer is not None
            if self.usage_plans is not None:
                # After the authorizer, on the usage key it returned (apiKeySource AUTHORIZER).
                admission = self.usage_plans.admit(auth.answer.usage_key)
                if not admission.admitted:
                    return self._refused(admission, request_id)
                api_key = (admission.api_key_id or "", auth.answer.usage_key or "")
            authorizer_context = {
                **auth.answer.context,
                "principalId": auth.answer.principal_id,
                "integrationLatency": auth.latency_ms,
            }
        event = build_event(
            resource=route.path, path_parameters=params, authorizer=authorizer_context, api_key=api_key, **event_args
        )
        return self._integrate(route.handler_ref, route.name, event, request_id)

    def _refused(self, admission: Admission, request_id: str) -> GatewayResponse:
        assert admission.refusal is not None
        extra = {"Retry-After": str(admission.retry_after)} if admission.retry_after else None
        return gateway_response(admission.refusal, request_id, extra_headers=extra)

    def _preflight(self, methods: list[str], origin: str | None, request_id: str) -> GatewayResponse:
        """The MOCK OPTIONS method: 204 with Allow; the CORS allow headers for an allowed origin only."""
        headers = {"Allow": allow_header(methods), "X-Request-Id": request_id}
        headers.update(self.cors.preflight_headers(origin, methods))
        return GatewayResponse(204, list(headers.items()), b"")

    def _integrate(self, handler_ref: str, name: str, event: dict[str, Any], request_id: str) -> GatewayResponse:
        result = self.invoke(handler_ref, event, function_name(name), timeout_seconds=HANDLER_TIMEOUT_SECONDS)
        if not result.ok:
            # API Gateway answers an integration failure itself; Kiln's envelope says 500.
            lambda_runtime.log_failure(function_name(name), result)
            return gateway_error(ErrorCode.INTERNAL_ERROR, request_id)
        response = proxy_response(result.payload, request_id)
        if response is None:
            print(f"[gateway] malformed Lambda proxy response from {name}: {result.payload!r:.300}", file=sys.stderr)
            return gateway_error(ErrorCode.INTERNAL_ERROR, request_id)
        return response


def _origin(environ: dict[str, Any]) -> str | None:
    return next((v for k, v in reversed(_headers(environ)) if k.lower() == "origin"), None)


def _path(environ: dict[str, Any]) -> str:
    # WSGI hands over the decoded path as latin-1; the client sent UTF-8.
    return environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace") or "/"


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    """Request headers in arrival order with their original names and repeated values."""
    raw = environ.get(_RAW_HEADERS)
    if raw is not None:
        return list(raw)
    # Another WSGI server (tests): rebuild from the environ, which has lost names and repeats.
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append(("-".join(p.capitalize() for p in key[5:].split("_")), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append(("-".join(p.capitalize() for p in key.split("_")), value))
    return headers


def _forwarded_headers(
    headers: list[tuple[str, str]], environ: dict[str, Any], source_ip: str
) -> list[tuple[str, str]]:
    """The request headers plus those API Gateway sets before the integration sees them."""
    added = {"x-amzn-trace-id", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
    chain = [v for k, v in headers if k.lower() == "x-forwarded-for"]
    return [(k, v) for k, v in headers if k.lower() not in added] + [
        ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
        ("X-Forwarded-For", ", ".join(chain + [source_ip])),  # the client's chain, then its address
        ("X-Forwarded-Port", str(environ.get("SERVER_PORT", ""))),
        ("X-Forwarded-Proto", environ.get("wsgi.url_scheme", "http")),
    ]


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when it is over API Gateway's limit."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_PAYLOAD_BYTES:
        # Drain what the client sends so it reads the 413 instead of a reset connection.
        remaining = length
        while remaining > 0:
            chunk = stream.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        return None
    if length > 0:
        return stream.read(length)
    if environ.get("wsgi.input_terminated"):  # chunked upload
        data = stream.read(MAX_PAYLOAD_BYTES + 1)
        if len(data) > MAX_PAYLOAD_BYTES:
            while stream.read(1 << 20):
                pass
            return None
        return data
    return b""


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _GatewayRequestHandler(WSGIRequestHandler):
    """Keeps the raw request headers (WSGI folds repeats and drops names with underscores)."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[_RAW_HEADERS] = [(name, value.replace("\r\n", "")) for name, value in self.headers.items()]
        return environ

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # the Gateway logs each request with its request id

    def run_wsgi(self) -> None:
        # A WebSocket upgrade at /ws leaves WSGI: local/websocket.py takes the connection over.
        sockets = getattr(self.server, "kiln_sockets", None)
        if sockets is not None and sockets.is_upgrade(self.path, self.headers):
            sockets.serve(self)
            return
        super().run_wsgi()


class GatewayServer(BackgroundServer):
    """The gateway on a threaded werkzeug server, bound at construction so conflicts fail early."""

    thread_name = "gateway"

    def __init__(
        self, app: WSGIApp, host: str = "127.0.0.1", port: int = 3001, sockets: LocalSockets | None = None
    ) -> None:
        # The WebSocket API (local/websocket.py) shares the port: upgrades and its management API.
        self.app = sockets.wsgi(app) if sockets is not None else app
        self.sockets = sockets
        server = make_server(host, port, self.app, threaded=True, request_handler=_GatewayRequestHandler)
        server.kiln_sockets = sockets  # type: ignore[attr-defined]
        super().__init__(server)

    def stop(self) -> None:
        if self.sockets is not None:
            self.sockets.close_all()
        super().stop()

    @property
    def host(self) -> str:
        return self._server.host

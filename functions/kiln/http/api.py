"""The shared request pipeline every API handler runs through.

A handler module is `handler = endpoint(some_function, Contract(...))` (kiln.http.contract).
The pipeline validates the path ids, the query and the body the contract declares and calls
the function with the Request and those typed values (`query=`, `body=`); the function returns
a model (answered with the route's success status) or a Response (`ok(model, status, headers)`,
`listed(...)`). Policy lives here, once, driven by the route table: principal from the
authorizer context, path allow-list, rate limits and quotas, scopes, Idempotency-Key, error
envelope, request id. Handlers stay thin.

Order: principal and path allow-list (before them the request is nobody's to count), the
CSRF token of a change made with a session cookie (a 403 ends here), the key's window and
the workspace's daily quota (kiln.http.limits; a 429 or 503 ends here; on a read-only GET,
or a handler that reads first, they are checked while the handler runs and still decide the
answer, and a handler that reads first waits for them before it writes), scopes, the
Idempotency-Key (kiln.http.idempotency: a replay or a 409/422 ends here), the annual quota
of a build or export, the handler. Every response of a metered route carries
the rate-limit headers, and every response of a deprecated route its deprecation headers,
whatever its status.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any

from kiln import config, ids
from kiln.envelope import JSON_CONTENT_TYPE, ErrorCode, KilnError, dumps, error_body, error_headers, validation_error
from kiln.http import cors, idempotency, limits
from kiln.http.contract import Contract, path_kinds
from kiln.http.deprecation import deprecation_headers
from kiln.http.request import Headers, Request, principal_of, request_id_of
from kiln.http.response import Response, ok
from kiln.routes import Route, find_route

logger = logging.getLogger("kiln")
logger.setLevel(logging.INFO)

HandlerFunction = Callable[[Request], Response]
# A declared function: the Request plus the typed values its contract names; a model or a Response.
DeclaredFunction = Callable[..., Any]


def error_response(error: KilnError, request_id: str) -> dict[str, Any]:
    details = dict(error.details)
    if error.code is ErrorCode.INTERNAL_ERROR:
        details["requestId"] = request_id
    headers = {"Content-Type": JSON_CONTENT_TYPE, "X-Request-Id": request_id, **error.headers}
    return {
        "statusCode": error.status,
        "headers": headers,
        "body": dumps(error_body(error.code, error.message, details)),
        "isBase64Encoded": False,
    }


def _glob(pattern: str) -> re.Pattern[str]:
    # `*` stays within one path segment, `**` crosses segments.
    regex = re.escape(pattern).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace("\0", ".*")
    regex = regex.replace(r"\?", "[^/]")
    return re.compile(f"^{regex}$")


def path_allowed(path: str, allowed: tuple[str, ...]) -> bool:
    return not allowed or any(_glob(pattern).match(path) for pattern in allowed)


def _identify(request: Request) -> None:
    """The caller, and the path allow-list: a request outside it is not even counted."""
    route, principal = request.route, request.principal
    if not route.authorized:
        return
    if principal is None:
        # Only reachable if the function is invoked without the authorizer in front.
        raise KilnError(ErrorCode.UNAUTHORIZED, headers=error_headers(ErrorCode.UNAUTHORIZED))
    if not path_allowed(request.path, principal.allowed_paths):
        # Outside the allow-list the route must look like it does not exist at all (so no
        # rate-limit headers either: they would tell the route's category).
        raise KilnError(ErrorCode.ENDPOINT_NOT_FOUND, "No such endpoint.", {"path": request.path})


CSRF_HEADER = "X-CSRF-Token"
CHANGING_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def _check_csrf(request: Request) -> None:
    """A change made with the session cookie must carry the session's CSRF token.

    A page of another site can make the browser send the cookie, but cannot read the token
    (kiln.domain.sessions), so without it the request is refused. Keys and access tokens are
    sent by the client itself and need none. Checked before the request is metered, so forged
    requests do not spend the person's rate limit.
    """
    principal = request.principal
    if principal is None or principal.credential != "session" or request.route.method not in CHANGING_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    expected = principal.csrf_hash or ""
    if not sent or not expected or not hmac.compare_digest(hashlib.sha256(sent.encode()).hexdigest(), expected):
        raise KilnError(
            ErrorCode.FORBIDDEN,
            f"A change made with the session cookie needs the session's {CSRF_HEADER} header.",
            {"reason": "csrf", "header": CSRF_HEADER},
        )


# How a refusal names the caller's credential (Principal.credential).
_CREDENTIAL_NAMES = {"key": "key", "token": "access token", "session": "session"}


def _check_scopes(request: Request) -> None:
    route, principal = request.route, request.principal
    if not route.authorized or principal is None:
        return
    missing = [scope for scope in route.scopes if scope not in principal.scopes]
    if missing:
        scope = " ".join(missing)
        raise KilnError(
            ErrorCode.FORBIDDEN,
            f"This {_CREDENTIAL_NAMES.get(principal.credential, 'credential')} lacks the scope: {scope}.",
            {"requiredScopes": list(route.scopes), "missingScopes": missing},
            headers=error_headers(ErrorCode.FORBIDDEN, scope),
        )


def _respond(function: HandlerFunction, request: Request) -> dict[str, Any]:
    try:
        return function(request).to_proxy(request.request_id)
    except KilnError as error:
        return error_response(error, request.request_id)


def _execute(function: HandlerFunction, request: Request, usage: limits.Usage | None) -> dict[str, Any]:
    """The handler, behind the route's annual quota: only a 2xx answer keeps the unit it took."""
    reservation = limits.limiter().reserve(request, usage)
    if reservation is None:
        return _respond(function, request)
    try:
        proxy = _respond(function, request)
    except BaseException:
        reservation.refund()
        raise
    if not 200 <= proxy["statusCode"] < 300:
        reservation.refund()
    return proxy


def dispatch(
    function: HandlerFunction, event: dict[str, Any], context: Any = None, *, reads_first: bool = False
) -> dict[str, Any]:
    """Answer one proxy event. `reads_first`: the function reads, then calls `request.admitted()`
    before it writes, so it may start while the limits are checked (kiln.http.limits)."""
    headers = Headers.from_event(event)
    request_id = request_id_of(event, headers)
    usage: limits.Usage | None = None
    route: Route | None = None
    hidden = False  # outside the key's allow-list: the answer must look like no route at all
    try:
        route = find_route(event.get("httpMethod", ""), event.get("resource", ""))
        if route is None:
            raise RuntimeError(f"no route for {event.get('httpMethod')} {event.get('resource')}")
        request = Request(
            event, route, request_id, headers, principal_of(event), dict(event.get("pathParameters") or {})
        )
        _identify(request)
        _check_csrf(request)
        # With an Idempotency-Key the key's record is written before the function runs.
        overlap = limits.overlaps(route) or (
            reads_first and limits.may_read_first(route) and headers.get(idempotency.HEADER) is None
        )
        admission = limits.limiter().begin(request, overlap)
        if admission is not None and not overlap:
            usage = admission.usage()  # before anything that may write (kiln.http.limits)
            admission = None
        if admission is not None:
            request.admitted = admission.usage
        try:
            _check_scopes(request)
            key = idempotency.key_of(request)
            if key is None:
                proxy = _execute(function, request, usage)
            else:
                proxy = idempotency.run(request, key, lambda: _execute(function, request, usage), context)
        finally:
            if admission is not None:
                # The handler ran while its limits were checked (read-only, or read first and
                # waited for them before writing): a 429 or 503 raised here replaces whatever
                # it answered, as if the checks had come first.
                usage = admission.usage()
    except KilnError as error:
        hidden = error.code is ErrorCode.ENDPOINT_NOT_FOUND
        proxy = error_response(error, request_id)
    except Exception as error:  # the client gets the envelope, the log the trace
        if _throttled(error):
            proxy = error_response(
                KilnError(
                    ErrorCode.SERVICE_UNAVAILABLE, details={"retryAfterSeconds": 1}, headers={"Retry-After": "1"}
                ),
                request_id,
            )
        else:
            logger.exception("unhandled error", extra={"requestId": request_id})
            proxy = error_response(KilnError(ErrorCode.INTERNAL_ERROR), request_id)
    if usage is not None:
        proxy["headers"] = {**(proxy.get("headers") or {}), **usage.headers()}
    if route is not None and route.deprecated is not None and not hidden:
        # Every answer of a legacy route says so, errors and replays included.
        proxy["headers"] = {
            **(proxy.get("headers") or {}),
            **deprecation_headers(route.deprecated, event.get("pathParameters") or {}),
        }
    # Last, so an idempotent replay (whose stored headers are the first request's) answers the
    # replaying request's own Origin.
    return cors.apply(proxy, headers.get("origin"))


_THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "SlowDown",
        "InternalServerError",
    }
)


def _throttled(error: Exception) -> bool:
    """A dependency that is down or throttling is the client's 503, not our 500."""
    response = getattr(error, "response", None)
    code = (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in _THROTTLING_CODES


def _validated_path(request: Request, contract: Contract) -> None:
    """Each path id in its format, before anything looks it up (a malformed id is a 400, not a 404)."""
    for name in request.route.path_params:
        kinds = path_kinds(contract, name)
        if not kinds:
            continue
        if len(kinds) == 1:
            request.path_id(name, kinds[0])
        elif not any(ids.is_valid(kind, request.path_params.get(name, "")) for kind in kinds):
            raise validation_error(
                [
                    {
                        "field": name,
                        "location": "path",
                        "type": "id_format",
                        "message": f"not the {name} of a " + ", ".join(kinds[:-1]) + " or " + kinds[-1],
                    }
                ],
                "Not an operation id." if name == "callbackId" else None,
            )


def declared(function: DeclaredFunction, contract: Contract) -> HandlerFunction:
    """The function behind its contract: path, query and body validated in that order (the
    first failure is the answer), the function called with the typed values, a returned model
    answered with the route's success status."""

    def run(request: Request) -> Response:
        _validated_path(request, contract)
        values: dict[str, Any] = {}
        # An archive-or-JSON body (projects_import) decides which form applies: that function
        # validates its body and query itself, with the contract's models.
        if contract.query_check is not None:
            values["query"] = contract.query_check(request.query())
        elif contract.query is not None and not contract.archive_body:
            values["query"] = request.query_as(contract.query)
        if contract.body_check is not None:
            values["body"] = contract.body_check(request.json())
        elif contract.body is not None and not contract.archive_body:
            values["body"] = request.body_as(contract.body, optional=contract.body_optional)
        result = function(request, **values)
        if isinstance(result, Response):
            return result
        return ok(result, request.route.status)

    return run


def endpoint(
    function: DeclaredFunction, contract: Contract, *, reads_first: bool = False
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of `function`. `reads_first`: the function reads before it writes and
    calls `request.admitted()` in between, so its read may overlap the limit checks."""
    # Runs as the handler module is imported: the cold start, where a missing or malformed
    # variable must stop the function rather than fail its requests one by one.
    config.load(config.ApiSettings)
    run = declared(function, contract)

    @functools.wraps(function)
    def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        return dispatch(run, event, context, reads_first=reads_first)

    handler.contract = contract  # type: ignore[attr-defined]  # read by kiln.openapi
    return handler

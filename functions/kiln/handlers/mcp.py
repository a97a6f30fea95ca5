"""POST /mcp: Kiln's MCP server (kiln_client.mcp_server, the tools `kiln mcp` serves over stdio)
over MCP's streamable HTTP transport, stateless and answering JSON (Lambda cannot stream a
Python function's answer, and a stateless server needs no session affinity between containers).

The tools do not touch Kiln's data themselves: each calls the public API over HTTP with the
caller's own `Authorization: Bearer` credential, so that credential's scopes, allowed paths,
rate limits and idempotency apply to everything an assistant does exactly as they would to the
same calls made with curl, and this function needs no table, bucket or secret (no grants). It
needs the API's URL (KILN_OAUTH_ISSUER for a custom domain, else KILN_API_URL, set by CDK and
by the local cloud) and the `mcp` package, which only this function's layer holds
(layers/build.py, `mcp` layer), so no other function's cold start pays for it.

Outside the shared pipeline (its JSON-RPC answers are not the envelope, and an Idempotency-Key
would need the table), so the checks the pipeline would make on an authorized route are made
here, in its order: the principal, the path allow-list (404 ENDPOINT_NOT_FOUND), the scope
(403 with the insufficient_scope challenge), the body's size (413). A session cookie passes
the authorizer but cannot be handed to the tools, so it is refused (401): MCP clients send a
bearer credential. Not metered here: every API call a tool makes is metered on its own.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from typing import Any
from urllib.parse import urlencode

from kiln import config, routes
from kiln.envelope import ErrorCode, KilnError, error_headers
from kiln.http import cors
from kiln.http.api import error_response, path_allowed
from kiln.http.contract import Answer, Contract, described
from kiln.http.request import MAX_BODY_BYTES, Headers, principal_of, request_id_of

logger = logging.getLogger(__name__)
config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable, as every route's

PATH = "/mcp"
# The SDK's own answers that are not JSON-RPC: kept as it sends them (405 for GET's SSE stream).
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

_servers: dict[str, Any] = {}  # one MCP app per API URL, built on first use, kept while warm
_servers_lock = threading.Lock()


def api_url() -> str:
    """Where the tools send their calls: the API's public URL, never a request's Host header
    (a caller must not be able to point the tools, and its credential, elsewhere)."""
    url = os.environ.get(config.OAUTH_ISSUER, "").strip() or os.environ.get(config.API_URL, "").strip()
    if not url:
        raise RuntimeError(f"{config.API_URL} is not set: the MCP function cannot reach the API")
    return url.rstrip("/")


def _server(base_url: str) -> Any:
    with _servers_lock:
        if base_url not in _servers:
            # The mcp layer's; imported on first use. Loading the SDK (its protocol types are
            # pydantic models, about 0.5 s on the development machine) is nearly all of this
            # function's cold start; the client library the tools call the API with waits for
            # the first tool call (kiln_client.mcp_server), as initialize and tools/list need none.
            from kiln_client.mcp_http import McpHttp

            _servers[base_url] = McpHttp(base_url, path=PATH)
        return _servers[base_url]


# Lambda sets this to how the environment was made. A SnapStart snapshot (`-c snapStart=true`) or
# provisioned concurrency initializes before any request, so the SDK's import and the server's
# build are done then, where no caller waits for them, and every restored container starts warm.
PREPARED_AHEAD = frozenset({"snap-start", "provisioned-concurrency"})


def prepare_ahead() -> bool:
    """Build the server during initialization when Lambda initializes ahead of requests."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") not in PREPARED_AHEAD:
        return False
    _server(api_url())
    return True


def _admit(event: dict[str, Any]) -> None:
    route = routes.find_route(event.get("httpMethod", ""), event.get("resource", ""))
    assert route is not None, "deployed behind its own route"
    principal = principal_of(event)
    if principal is None:  # only without the authorizer in front
        raise KilnError(ErrorCode.UNAUTHORIZED, headers=error_headers(ErrorCode.UNAUTHORIZED))
    if not path_allowed(PATH, principal.allowed_paths):
        raise KilnError(ErrorCode.ENDPOINT_NOT_FOUND, "No such endpoint.", {"path": PATH})
    missing = [scope for scope in route.scopes if scope not in principal.scopes]
    if missing:
        raise KilnError(
            ErrorCode.FORBIDDEN,
            f"This credential lacks the scope: {' '.join(missing)}.",
            {"requiredScopes": list(route.scopes), "missingScopes": missing},
            headers=error_headers(ErrorCode.FORBIDDEN, " ".join(missing)),
        )
    if principal.credential == "session":
        raise KilnError(
            ErrorCode.UNAUTHORIZED,
            "MCP needs Authorization: Bearer with an API key or an access token; a session cookie cannot "
            "be passed on to the tools.",
            headers=error_headers(ErrorCode.UNAUTHORIZED),
        )


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    if len(raw) > MAX_BODY_BYTES:
        raise KilnError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            "The request body is over 1 MiB.",
            {"limitBytes": MAX_BODY_BYTES, "receivedBytes": len(raw)},
        )
    return raw


@described(
    Contract(
        answers=(
            Answer(
                200,
                "The JSON-RPC answer (application/json); a notification's answer is 202 with no body.",
                "kiln.domain.mcp_views:JsonRpcAnswer",
                "raw",
            ),
        ),
        errors={401: (ErrorCode.UNAUTHORIZED,), 413: (ErrorCode.PAYLOAD_TOO_LARGE,)},
        notes=(
            "Kiln's MCP server over streamable HTTP, stateless, answering JSON (no SSE stream): "
            "`initialize`, `tools/list`, `tools/call` (see docs/clients.md). Send `Authorization: Bearer` "
            "with an API key or an access token and `Accept: application/json, text/event-stream`; the "
            "tools call this API with that credential, so its scopes and limits bound them. Protocol "
            "errors are JSON-RPC errors, not the envelope."
        ),
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    headers = Headers.from_event(event)
    request_id = request_id_of(event, headers)
    try:
        _admit(event)
        body = _body(event)
        forwarded = [(name, value) for name, value in headers.items() if isinstance(value, str)]
        query = urlencode(event.get("queryStringParameters") or {})
        status, answer_headers, answer = _server(api_url()).handle(
            event.get("httpMethod", "POST"), PATH, query, forwarded, body
        )
        kept = {name: value for name, value in answer_headers if name.lower() not in _HOP_BY_HOP}
        proxy = {
            "statusCode": status,
            "headers": {**kept, "X-Request-Id": request_id, "Cache-Control": "no-store"},
            "body": answer.decode("utf-8"),
            "isBase64Encoded": False,
        }
    except KilnError as error:
        proxy = error_response(error, request_id)
    except Exception:  # the client gets the envelope, the log the trace
        logger.exception("mcp request failed", extra={"requestId": request_id})
        proxy = error_response(KilnError(ErrorCode.INTERNAL_ERROR), request_id)
    return cors.apply(proxy, headers.get("origin"))


prepare_ahead()

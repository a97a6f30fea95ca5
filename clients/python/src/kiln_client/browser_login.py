"""Signing a person in from a native app (the `kiln` command): OAuth's authorization code with
PKCE through the person's browser, received on a loopback redirect (RFC 8252).

1. A listener is bound to the registered redirect URI's address (`http://127.0.0.1:PORT/...`)
   before anything else, so a busy port fails at once rather than after the person approved.
2. The browser is sent to the server's authorization endpoint (read from its RFC 8414
   metadata) with a fresh S256 challenge and a random `state`.
3. The listener takes the one redirect that carries the same `state` (anything else is
   answered 400 and ignored: another page cannot inject a code), then the code is exchanged
   with the verifier at the token endpoint.

Kiln matches redirect URIs exactly, port included, so the port is the one the client was
registered with (`kiln oauth-clients create` picks a free one when it registers)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from kiln_client._oauth import OAuthTokens
from kiln_client.errors import KilnError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")  # IPv4: what the listener binds
DEFAULT_TIMEOUT_SECONDS = 300.0
DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Kiln</title>"
    b"<p>%s</p><p>You can close this tab and return to the terminal.</p>"
)


class LoginError(KilnError):
    """The sign-in did not complete: denied, timed out, or the redirect was unusable."""


def pkce_pair() -> tuple[str, str]:
    """(code verifier, its S256 challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


def free_loopback_redirect_uri(path: str = "/callback") -> str:
    """`http://127.0.0.1:<a port free now>/callback`, to register a client with."""
    with HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]
    return f"http://127.0.0.1:{port}{path}"


def loopback_address(redirect_uri: str) -> tuple[str, int, str]:
    """(host to bind, port, path) of a loopback redirect URI; refuses anything else, since the
    code would be sent there."""
    parts = urlsplit(redirect_uri)
    host = parts.hostname or ""
    if parts.scheme != "http" or host not in LOOPBACK_HOSTS or parts.port is None:
        raise LoginError(
            "the redirect URI must be http://127.0.0.1:PORT/... (a loopback address with its port), "
            f"not {redirect_uri!r}"
        )
    return host, parts.port, parts.path or "/"


@dataclass
class _Received:
    query: dict[str, list[str]] | None = None


class LoopbackReceiver:
    """A one-shot HTTP listener on the redirect URI's address; `wait()` answers the query of
    the redirect that carried `state`."""

    def __init__(self, redirect_uri: str, state: str) -> None:
        host, port, path = loopback_address(redirect_uri)
        received = _Received()
        arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path != path or query.get("state") != [state] or arrived.is_set():
                    self._answer(400, b"This is not the sign-in this terminal is waiting for.")
                    return
                received.query = query
                denied = "error" in query
                self._answer(200, b"Sign-in refused." if denied else b"Signed in.")
                arrived.set()

            def _answer(self, status: int, message: bytes) -> None:
                body = DONE_PAGE % message
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the terminal shows the login's own messages, not an access log

        try:
            self._server = HTTPServer((host, port), Handler)
        except OSError as exc:
            raise LoginError(f"cannot listen on {host}:{port} for the redirect ({exc.strerror or exc})") from exc
        self._received, self._arrived = received, arrived
        self._thread = threading.Thread(target=self._server.serve_forever, name="kiln-login", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> dict[str, list[str]]:
        try:
            if not self._arrived.wait(timeout):
                raise LoginError(f"no sign-in arrived within {timeout:.0f} s")
            assert self._received.query is not None
            return self._received.query
        finally:
            self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _metadata(http: httpx.Client, base_url: str) -> dict[str, Any]:
    response = http.get(f"{base_url}/.well-known/oauth-authorization-server")
    if response.status_code != 200:
        raise LoginError(f"{base_url} publishes no OAuth metadata (HTTP {response.status_code})")
    body = response.json()
    if not isinstance(body, dict) or not body.get("authorization_endpoint") or not body.get("token_endpoint"):
        raise LoginError(f"{base_url}'s OAuth metadata names no authorization or token endpoint")
    return body


def browser_login(
    base_url: str,
    client_id: str,
    redirect_uri: str,
    *,
    scope: str | None = None,
    open_url: Callable[[str], object],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    transport: httpx.BaseTransport | None = None,
) -> OAuthTokens:
    """Runs the whole flow; `open_url(url)` shows the authorization page to the person (opens a
    browser, prints the URL)."""
    base_url = base_url.rstrip("/")
    with httpx.Client(timeout=30.0, transport=transport) as http:
        metadata = _metadata(http, base_url)
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(24)
        receiver = LoopbackReceiver(redirect_uri, state)  # bound before the browser is sent there
        parameters = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if scope:
            parameters["scope"] = scope
        try:
            open_url(f"{metadata['authorization_endpoint']}?{urlencode(parameters)}")
        except BaseException:
            receiver.close()
            raise
        query = receiver.wait(timeout)
        issuer = metadata.get("issuer")
        if issuer and query.get("iss", [issuer]) != [issuer]:  # RFC 9207: answered by another server
            raise LoginError(f"the redirect came from issuer {query['iss'][0]!r}, not {issuer!r}")
        if "error" in query:
            description = query.get("error_description", [""])[0]
            raise LoginError(f"the sign-in was not approved: {query['error'][0]} {description}".strip())
        code = query.get("code", [""])[0]
        if not code:
            raise LoginError("the redirect carried no code")
        answer = http.post(
            metadata["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
        body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        if answer.status_code != 200 or not body.get("access_token") or not body.get("refresh_token"):
            reason = body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}"
            raise LoginError(f"the code exchange was refused: {reason}")
        return OAuthTokens(body["access_token"], body["refresh_token"], client_id, metadata["token_endpoint"])

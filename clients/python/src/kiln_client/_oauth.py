"""OAuth access tokens that refresh themselves, as an httpx `Auth` shared by the sync and async
clients.

A token is refreshed before it expires (the JWT's `exp`, less a margin) and, once, when the API
answers 401 anyway (revoked signing key, clock skew). Kiln's refresh tokens are single use and
presenting a spent one is treated as theft: the server revokes the whole grant. So refreshes
are serialised by a lock (a thread lock for `Kiln`, an asyncio lock for `AsyncKiln`), and a
request that waited for the lock uses the token the winner obtained instead of refreshing
again. A `TokenStore` extends that to other processes sharing one saved grant (the CLI's
config): under its lock, tokens another process saved are adopted rather than refreshed.

The refresh answer's rotated refresh token replaces the old one and is handed to
`on_refresh` (and the store), so whoever persisted the grant keeps the token that still works.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx

from kiln_client.errors import AuthenticationError, error_for

# Refresh this long before `exp`: a request started just before expiry must not arrive after it.
DEFAULT_MARGIN_SECONDS = 60.0
RELOGIN = "sign in again (`kiln login --browser`)"


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, read without verifying it (the API verifies; the client only
    wants to know when to refresh). None when the token is not a JWT or has no `exp`."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@dataclass(frozen=True)
class OAuthTokens:
    """One grant's credentials: what `/oauth/token` answered, and where and as whom to refresh."""

    access_token: str
    refresh_token: str
    client_id: str
    token_url: str  # e.g. https://api.example.com/oauth/token

    @property
    def expires_at(self) -> float | None:
        return jwt_expiry(self.access_token)


class TokenStore(Protocol):
    """Saved tokens shared with other processes (the CLI's config file)."""

    def lock(self) -> AbstractContextManager[object]:
        """Held around a refresh: excludes other processes refreshing the same grant."""
        ...

    def load(self) -> OAuthTokens | None: ...

    def save(self, tokens: OAuthTokens) -> None: ...


class OAuth(httpx.Auth):
    """`Kiln(oauth=OAuth(tokens, on_refresh=save))`: a bearer access token kept fresh."""

    def __init__(
        self,
        tokens: OAuthTokens,
        *,
        on_refresh: Callable[[OAuthTokens], None] | None = None,
        store: TokenStore | None = None,
        margin: float = DEFAULT_MARGIN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tokens = tokens
        self._on_refresh = on_refresh
        self._store = store
        self._margin = margin
        self._clock = clock
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None  # created in the loop that first uses it

    @property
    def tokens(self) -> OAuthTokens:
        return self._tokens

    def _expiring(self) -> bool:
        expires_at = self._tokens.expires_at
        return expires_at is not None and self._clock() >= expires_at - self._margin

    def _refresh_request(self) -> httpx.Request:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._tokens.refresh_token,
            "client_id": self._tokens.client_id,
        }
        return httpx.Request("POST", self._tokens.token_url, data=form, headers={"Accept": "application/json"})

    def _adopt_stored(self) -> bool:
        """Another process refreshed this grant and saved the result: take its tokens (presenting
        ours, now spent, would revoke the grant)."""
        stored = self._store.load() if self._store is not None else None
        if stored is None or stored.client_id != self._tokens.client_id:
            return False
        if stored.refresh_token == self._tokens.refresh_token:
            return False
        self._tokens = stored
        return True

    def _accept(self, response: httpx.Response) -> None:
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            raise self._refusal(response, body)
        refreshed = replace(
            self._tokens,
            access_token=str(body["access_token"]),
            # Kiln always rotates; a server that does not keeps the old token valid.
            refresh_token=str(body.get("refresh_token") or self._tokens.refresh_token),
        )
        self._tokens = refreshed
        if self._store is not None:
            self._store.save(refreshed)
        if self._on_refresh is not None:
            self._on_refresh(refreshed)

    @staticmethod
    def _refusal(response: httpx.Response, body: Any) -> Exception:
        request_id = response.headers.get("X-Request-Id")
        if response.status_code in (400, 401) and isinstance(body, dict) and "error" in body:
            # RFC 6749 section 5.2: `invalid_grant` for an expired, revoked or spent refresh token.
            code = str(body["error"])
            description = str(body.get("error_description") or "the refresh token was refused")
            return AuthenticationError(
                response.status_code, code, f"{description}: {RELOGIN}", {"oauthError": code}, request_id
            )
        return error_for(response.status_code, body, request_id)

    def _store_lock(self) -> AbstractContextManager[object]:
        return self._store.lock() if self._store is not None else contextlib.nullcontext()

    # httpx drives these: each `yield` sends a request and resumes with its response -----------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._thread_lock:
            if self._expiring():
                yield from self._refresh_sync()
            sent = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code != 401:
            return
        with self._thread_lock:
            if self._tokens.access_token == sent:  # nobody refreshed since this request left
                yield from self._refresh_sync()
            retry = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {retry}"
        yield request  # once: a second 401 is the caller's answer

    def _refresh_sync(self) -> Generator[httpx.Request, httpx.Response, None]:
        with self._store_lock():
            if self._adopt_stored():
                return
            response = yield self._refresh_request()
            response.read()
            self._accept(response)

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # The same steps as `sync_auth_flow`, spelled out: an async generator cannot `yield from`.
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            if self._expiring():
                with self._store_lock():
                    if not self._adopt_stored():
                        refreshed = yield self._refresh_request()
                        await refreshed.aread()
                        self._accept(refreshed)
            sent = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code != 401:
            return
        async with self._async_lock:
            if self._tokens.access_token == sent:
                with self._store_lock():
                    if not self._adopt_stored():
                        refreshed = yield self._refresh_request()
                        await refreshed.aread()
                        self._accept(refreshed)
            retry = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {retry}"
        yield request

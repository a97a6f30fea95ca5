"""Who is calling: the authorizer's credential chain and the context it hands to functions.

This module is imported by the authorizer, so it must not import pydantic or boto3: the
authorizer's cold start stays light.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kiln.domain.access import KEY_PREFIX, Authentication, Principal, Workspace

# The authorizer context's two ends, kept in a module every function can load cheaply.
from kiln.domain.principals import principal_context as principal_context
from kiln.domain.principals import principal_from_context as principal_from_context
from kiln.domain.sessions import SESSION_COOKIE

if TYPE_CHECKING:  # pyjwt and cryptography load with the first access token, not at cold start
    from kiln.domain.tokens import PublicKeyCache

logger = logging.getLogger("kiln.authentication")

# --- the credential chain --------------------------------------------------------------------

_BEARER = re.compile(r"^bearer[ \t]+(\S+)[ \t]*$", re.IGNORECASE)
# A JWS compact serialization: three base64url parts; anything else is not worth parsing.
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
# An answer kept for this many seconds at most; the LRU bound caps the memory a flood of
# distinct good credentials can take (a warm container sees a few callers, not thousands).
CACHE_MAX_ENTRIES = 1024


class PersonLike(Protocol):
    id: str
    workspace_id: str
    scopes: tuple[str, ...]


class PersonReader(Protocol):
    def get_person(self, workspace_id: str, user_id: str) -> Any: ...


class WorkspaceReader(Protocol):
    def get_workspace(self, workspace_id: str, consistent: bool = False) -> Workspace | None: ...


class GrantChecker(Protocol):
    def grant_active(self, grant_id: str) -> bool: ...


class SessionResolver(Protocol):
    def resolve(self, token: str) -> Any:
        """An active session (`.session.csrf_token`, `.person`), or None."""
        ...


@dataclass(frozen=True)
class Credentials:
    """What a request presents: its Authorization header (None when absent) and its Cookie
    headers (HTTP/2 may split cookies over several), as API Gateway hands them over."""

    authorization: str | None
    cookies: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Credentials:
        """A REST API event's credentials (a REQUEST authorizer's event or a proxy event)."""
        authorization: str | None = None
        cookies: list[str] = []
        for name, values in (event.get("multiValueHeaders") or {}).items():
            lowered = name.lower()
            if lowered == "cookie":
                cookies.extend(value for value in values or () if isinstance(value, str))
            elif lowered == "authorization" and values:
                authorization = values[-1]
        for name, value in (event.get("headers") or {}).items():
            lowered = name.lower()
            if lowered == "authorization" and isinstance(value, str):
                authorization = value
            elif lowered == "cookie" and isinstance(value, str) and not cookies:
                cookies.append(value)
        return cls(authorization, tuple(cookies))

    def session_token(self) -> str | None:
        """The session cookie's value, or None when absent or ambiguous.

        `Cookie: a=1; b="2"` pairs are split on `;`; a value in double quotes is unquoted
        (RFC 6265 allows them). The same name twice with different values is refused rather
        than guessed at: a browser only sends that when another cookie of the same name (set
        for a narrower path, or injected) shadows the real one, and picking either could sign
        the caller in as someone else.
        """
        found: set[str] = set()
        for header in self.cookies:
            for pair in header.split(";"):
                name, equals, value = pair.strip().partition("=")
                if not equals or name.strip() != SESSION_COOKIE:
                    continue
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                if value:
                    found.add(value)
        return found.pop() if len(found) == 1 else None


class Authenticator:
    """The authorizer's chain: an API key, else an access token, else the session cookie.

    The Authorization header, when present at all, decides alone: a bad one is refused, never
    passed over for the cookie, so a client that sent a broken token learns it at once instead
    of silently acting as whoever the browser's cookie names.

    Answers for keys and access tokens are cached in the container for `cache_seconds` (at most
    CACHE_MAX_ENTRIES, least recently used dropped first), keyed by the SHA-256 of the exact
    Authorization header, as API Gateway's own authorizer cache is keyed by the identity
    source's value. Refusals are never cached. What each credential costs warm, and how long
    a revocation takes:
    - a key: no read; a revoked or expired key works up to `cache_seconds` longer;
    - an access token: one GetItem, its grant, on every request, so revoking the grant ends
      it at once; a scope taken from the person reaches the token within `cache_seconds`;
    - a session: never cached (the session's GetItem and the person's), so signing out ends
      the cookie at once; a browser sends few requests.
    """

    def __init__(
        self,
        *,
        keys: Callable[[str], Authentication | None],
        token_keys: Callable[[], PublicKeyCache],
        people: PersonReader,
        workspaces: WorkspaceReader,
        grants: Callable[[], GrantChecker],
        sessions: Callable[[], SessionResolver],
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        cache_seconds: float = 60.0,
        cache_size: int = CACHE_MAX_ENTRIES,
    ) -> None:
        self._keys = keys
        self._token_keys = token_keys
        self._people = people
        self._workspaces = workspaces
        self._grants = grants
        self._sessions = sessions
        self._now = now
        self._monotonic = monotonic
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        # SHA-256 of the header -> (monotonic expiry, answer, the token's grant id or None).
        self._cache: OrderedDict[str, tuple[float, Authentication, str | None]] = OrderedDict()
        self._lock = threading.Lock()  # the local cloud runs one authorizer on many threads

    def authenticate(self, credentials: Credentials, *, base_url: str) -> Authentication | None:
        """The caller's principal and usage key; None for anything that must answer 401.

        `base_url` is the API's public URL as this request reached it: an access token must
        name it as issuer and audience.
        """
        header = credentials.authorization
        if header is None:
            token = credentials.session_token()
            return self._session(token) if token else None
        cache_key = hashlib.sha256(f"{base_url}\n{header}".encode()).hexdigest()
        cached = self._cached(cache_key)
        if cached is not None:
            warm, grant_id = cached
            # A token's grant is asked on every request, cached or not (one GetItem): revoking
            # it (/oauth/revoke, a replayed refresh token, the person deleted) ends the token at once.
            if grant_id is not None and not self._grants().grant_active(grant_id):
                self._forget(cache_key)
                return None
            return warm
        match = _BEARER.match(header.strip())
        if match is None:
            return None
        credential = match.group(1)
        answer: Authentication | None
        grant: str | None = None
        lifetime: float
        if credential.startswith(KEY_PREFIX):
            answer, lifetime = self._keys(header), self._cache_seconds
        elif _JWT.match(credential):
            answer, lifetime, grant = self._token(credential, base_url)
        else:
            return None
        if answer is not None and lifetime > 0:
            self._remember(cache_key, answer, grant, lifetime)
        return answer

    # --- access tokens ---------------------------------------------------------------------

    def _token(self, token: str, base_url: str) -> tuple[Authentication | None, float, str | None]:
        from kiln.domain.tokens import TokenError, verify

        now = self._now()
        try:
            claims = verify(token, self._token_keys(), issuer=base_url, audience=base_url, now=int(now))
        except TokenError as error:
            logger.info("access token refused: %s", error.reason)
            return None, 0, None
        person = self._people.get_person(claims.workspace, claims.subject)
        if person is None:
            return None, 0, None
        if not self._grants().grant_active(claims.grant_id):
            return None, 0, None
        workspace = self._workspace(claims.workspace)
        if workspace is None:
            return None, 0, None
        # The person's scopes now, not when the token was granted: a scope taken away from
        # the person is taken from their tokens too.
        principal = Principal(
            workspace_id=workspace.id,
            key_id=person.id,
            scopes=frozenset(claims.scope.split()) & frozenset(person.scopes),
            tier=workspace.tier,
            credential="token",
            user_id=person.id,
            client_id=claims.client_id,
        )
        # Never past the token's own expiry.
        lifetime = min(self._cache_seconds, claims.expires_at - now)
        return Authentication(principal, workspace.usage_key_value), lifetime, claims.grant_id

    # --- sessions --------------------------------------------------------------------------

    def _session(self, token: str) -> Authentication | None:
        active = self._sessions().resolve(token)
        if active is None:
            return None
        person = active.person
        workspace = self._workspace(person.workspace_id)
        if workspace is None:
            return None
        principal = Principal(
            workspace_id=workspace.id,
            key_id=person.id,
            scopes=frozenset(person.scopes),
            tier=workspace.tier,
            credential="session",
            user_id=person.id,
            csrf_hash=active.session.csrf_hash,
        )
        return Authentication(principal, workspace.usage_key_value)

    # --- shared ----------------------------------------------------------------------------

    def _workspace(self, workspace_id: str) -> Workspace | None:
        # An eventually consistent miss is confirmed before it becomes a 401 (a new workspace).
        return self._workspaces.get_workspace(workspace_id) or self._workspaces.get_workspace(
            workspace_id, consistent=True
        )

    def _cached(self, cache_key: str) -> tuple[Authentication, str | None] | None:
        with self._lock:
            entry = self._cache.get(cache_key)
            if entry is None:
                return None
            if entry[0] <= self._monotonic():
                del self._cache[cache_key]
                return None
            self._cache.move_to_end(cache_key)
            return entry[1], entry[2]

    def _remember(self, cache_key: str, answer: Authentication, grant_id: str | None, lifetime: float) -> None:
        with self._lock:
            self._cache[cache_key] = (self._monotonic() + lifetime, answer, grant_id)
            self._cache.move_to_end(cache_key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _forget(self, cache_key: str) -> None:
        with self._lock:
            self._cache.pop(cache_key, None)

"""Browser sessions: a person signs in with email and password and gets a cookie. No AWS here.

A session token is 32 random bytes, URL-safe base64 (43 characters), sent only as the
`__Host-kiln_session` cookie (`Path=/; HttpOnly; Secure; SameSite=Lax`). Only its SHA-256 is
stored, as API keys are (kiln.domain.access): the item is found by the hash with one GetItem,
and a copy of the table hands out no working cookie. The token is shown once, in the
`Set-Cookie` of the sign-in answer, and never logged.

Each session also has a CSRF token, kept in clear in its item: without the cookie it proves
nothing, and GET /v1/sessions/current returns it so that a reloaded page can recover it. A
change (POST/PATCH/PUT/DELETE) made with the cookie must carry it as `X-CSRF-Token`: a page of
another site can make the browser send the cookie, but cannot read the token (kiln.http.api).

A session ends at the first of:
- its absolute expiry, `ttl_seconds` after sign-in (KILN_SESSION_TTL_SECONDS, 12 h by default);
  DynamoDB's TTL removes the item some time after that;
- `idle_seconds` without use (KILN_SESSION_IDLE_SECONDS, 30 min by default). Use is recorded at
  most once a minute (LAST_SEEN_RESOLUTION_SECONDS), so that a busy page does not write on every
  request: a session may end up to a minute before a full idle period, never after;
- sign-out (its item deleted);
- the person's deletion or password change. `end_all` deletes the person's sessions, found
  through the user index; since that index is eventually consistent, `resolve` also refuses a
  session whose person is gone or whose password changed after the session began
  (`created_at < password_changed_at`), so no session survives either, even one the index
  did not show yet.

Sign-in throttle: at most MAX_SIGN_IN_ATTEMPTS unsuccessful sign-ins per (normalised) email
within SIGN_IN_WINDOW_SECONDS. Each attempt is counted *before* its password is checked, by a
conditional write on one item per email hash; a success clears the count. Counting first is
what makes the limit hold under concurrency: parallel guesses cannot all pass a check made
before any of them failed. Past the limit every attempt is refused with 429, the right
password included (otherwise a guesser would learn when it hit), and a refused attempt is not
counted, so `Retry-After` is exactly when the oldest counted attempt leaves the window. An
unknown email is counted like a known one: both answers, and their timing, are the same.
Clearing on success is the usual practice; it gives a guesser at most five more tries per
successful sign-in of the real person, which it cannot cause without the password.

This module is imported by the authorizer: it must not import pydantic.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.people import PeopleRepository, PeopleService, Person, person_view
from kiln.envelope import ErrorCode, KilnError, error_headers

SESSION_COOKIE = "__Host-kiln_session"
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")

DEFAULT_TTL_SECONDS = 12 * 60 * 60
DEFAULT_IDLE_SECONDS = 30 * 60
LAST_SEEN_RESOLUTION_SECONDS = 60

MAX_SIGN_IN_ATTEMPTS = 5
SIGN_IN_WINDOW_SECONDS = 15 * 60
# Conditional writes tried before the throttle gives up on a contended item (503, retry).
_WRITE_ATTEMPTS = 5

WRONG_CREDENTIALS = "The email or password is wrong."


# --- tokens and cookies ------------------------------------------------------------------------


def new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=")


def hash_token(token: str) -> str:
    """SHA-256 hex: how a session token (and a CSRF token, in the principal) is kept."""
    return hashlib.sha256(token.encode()).hexdigest()


def session_cookie(token: str, max_age: int) -> str:
    """The Set-Cookie value that hands the token to the browser."""
    return f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}"


def cleared_session_cookie() -> str:
    """The Set-Cookie value that makes the browser drop the cookie."""
    return f"{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"


def token_from_cookies(header: str | None) -> str | None:
    """The session token in a `Cookie` request header, or None when absent or malformed."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE and TOKEN_PATTERN.match(value.strip()):
            return value.strip()
    return None


def email_key(email: str) -> str:
    """What the throttle counts under: the SHA-256 of the email as sign-in compares it
    (trimmed, lowercased), so the throttle's items hold no email."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    id: str
    workspace_id: str
    user_id: str
    token_hash: str  # the item's key; the token itself is never stored
    csrf_token: str = field(repr=False)
    created_at: str
    expires_at: str
    last_seen_at: str

    @property
    def csrf_hash(self) -> str:
        """What the authorizer hands the pipeline to check X-CSRF-Token against."""
        return hash_token(self.csrf_token)


@dataclass(frozen=True)
class SignedIn:
    session: Session
    token: str = field(repr=False)  # the cookie's value, shown once
    csrf_token: str = field(repr=False)
    person: Person


@dataclass(frozen=True)
class ActiveSession:
    session: Session
    person: Person


def session_view(session: Session, person: Person) -> dict[str, Any]:
    """A session as the API shows it: its person, its CSRF token and its expiry (never the token)."""
    return {"user": person_view(person), "csrfToken": session.csrf_token, "expiresAt": session.expires_at}


@dataclass(frozen=True)
class Attempts:
    """The counted sign-in attempts of one email: epoch milliseconds, oldest first."""

    times_ms: tuple[int, ...]
    revision: int


class SessionRepository(Protocol):
    def insert_session(self, session: Session, expires_at_epoch: int) -> None:
        """Store a new session under its token hash (TTL at `expires_at_epoch`)."""
        ...

    def get_session(self, token_hash: str) -> Session | None: ...

    def touch_session(self, token_hash: str, at: str, stale_before: str) -> None:
        """Best effort: lastSeenAt = at if it is older than stale_before and the session is
        still there. Never raises, never recreates a deleted session."""
        ...

    def delete_session(self, token_hash: str) -> None:
        """Remove the session; nothing happens when it is already gone."""
        ...

    def delete_person_sessions(self, workspace_id: str, user_id: str) -> int:
        """Remove every session of the person (found through the user index); how many."""
        ...


class SignInAttempts(Protocol):
    def read_attempts(self, email_hash: str) -> Attempts | None:
        """The counted attempts (a consistent read), or None when there are none."""
        ...

    def write_attempts(
        self, email_hash: str, expected_revision: int | None, times_ms: tuple[int, ...], expires_at_epoch: int
    ) -> bool:
        """Replace the attempts (revision + 1) if the item is still at `expected_revision`
        (None: there is no item); False, having written nothing, otherwise."""
        ...

    def clear_attempts(self, email_hash: str) -> None: ...


# --- the service -------------------------------------------------------------------------------


def _wrong_credentials() -> KilnError:
    return KilnError(ErrorCode.UNAUTHORIZED, WRONG_CREDENTIALS, headers=error_headers(ErrorCode.UNAUTHORIZED))


def _epoch(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


class SessionService:
    def __init__(
        self,
        sessions: SessionRepository,
        attempts: SignInAttempts,
        people: PeopleService,
        people_repository: PeopleRepository,
        clock: Clock = utc_now,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._attempts = attempts
        self._people = people  # the password check (constant time, a dummy hash for unknown emails)
        self._people_repository = people_repository  # the person behind a session, read on resolve
        self._clock = clock
        self.ttl_seconds = int(ttl_seconds)
        self._idle = timedelta(seconds=idle_seconds)

    def sign_in(self, email: str, password: str) -> SignedIn:
        """A new session for the person with this email and password; 401 (one message for a
        wrong email or password) or 429 with a truthful Retry-After."""
        key = email_key(email)
        self._count_attempt(key, self._clock())
        person = self._people.verify_password(email, password)
        if person is None:
            raise _wrong_credentials()
        self._attempts.clear_attempts(key)
        moment = self._clock()
        now = iso(moment)
        expires = moment + timedelta(seconds=self.ttl_seconds)
        token, csrf_token = new_token(), new_token()
        session = Session(
            id=ids.new_id("session", int(moment.timestamp() * 1000)),
            workspace_id=person.workspace_id,
            user_id=person.id,
            token_hash=hash_token(token),
            csrf_token=csrf_token,
            created_at=now,
            expires_at=iso(expires),
            last_seen_at=now,
        )
        self._sessions.insert_session(session, _epoch(expires))
        return SignedIn(session, token, csrf_token, person)

    def resolve(self, token: str, *, touch: bool = True) -> ActiveSession | None:
        """The live session behind a cookie's token; None when unknown, expired, idle too
        long, signed out, or its person is gone or changed password since. `touch` records
        the use (at most once a minute); a read of the session itself need not."""
        if not TOKEN_PATTERN.match(token):
            return None
        token_hash = hash_token(token)
        session = self._sessions.get_session(token_hash)
        if session is None:
            return None
        moment = self._clock()
        now = iso(moment)
        if now >= session.expires_at or session.last_seen_at <= iso(moment - self._idle):
            return None
        person = self._people_repository.get_person(session.workspace_id, session.user_id)
        if person is None or session.created_at < person.password_changed_at:
            return None
        stale_before = iso(moment - timedelta(seconds=LAST_SEEN_RESOLUTION_SECONDS))
        if touch and session.last_seen_at < stale_before:
            self._sessions.touch_session(token_hash, now, stale_before)
        return ActiveSession(session, person)

    def remaining_seconds(self, session: Session) -> int:
        """Seconds until the session's absolute expiry (a cookie's Max-Age)."""
        left = datetime.fromisoformat(session.expires_at.replace("Z", "+00:00")) - self._clock()
        return max(0, math.ceil(left.total_seconds()))

    def sign_out(self, token: str) -> None:
        """End the session behind the cookie's token (nothing when there is none)."""
        if TOKEN_PATTERN.match(token):
            self._sessions.delete_session(hash_token(token))

    def end_all(self, workspace_id: str, user_id: str) -> int:
        """End every session of the person (deleted, or their password changed)."""
        return self._sessions.delete_person_sessions(workspace_id, user_id)

    # --- the throttle ------------------------------------------------------------------------

    def _count_attempt(self, key: str, moment: datetime) -> None:
        """Count one attempt for the email, or refuse it (429) when the window is full."""
        now_ms = int(moment.timestamp() * 1000)
        window_ms = SIGN_IN_WINDOW_SECONDS * 1000
        state = self._attempts.read_attempts(key)
        for _ in range(_WRITE_ATTEMPTS):
            recent = tuple(t for t in (state.times_ms if state else ()) if t > now_ms - window_ms)
            if len(recent) >= MAX_SIGN_IN_ATTEMPTS:
                # The attempt that must leave the window before one more fits.
                reopens_ms = recent[len(recent) - MAX_SIGN_IN_ATTEMPTS] + window_ms
                raise _throttled(max(1, math.ceil((reopens_ms - now_ms) / 1000)))
            times = (*recent, now_ms)
            expires = (now_ms + window_ms) // 1000 + 1
            if self._attempts.write_attempts(key, state.revision if state else None, times, expires):
                return
            state = self._attempts.read_attempts(key)  # another attempt got there first
        raise KilnError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "Too many sign-ins at once for this email; retry shortly.",
            {"retryAfterSeconds": 1},
            headers={"Retry-After": "1"},
        )


def _throttled(seconds: int) -> KilnError:
    return KilnError(
        ErrorCode.RATE_LIMIT_EXCEEDED,
        f"Too many unsuccessful sign-ins for this email: at most {MAX_SIGN_IN_ATTEMPTS} "
        f"in {SIGN_IN_WINDOW_SECONDS // 60} minutes. Retry after {seconds} seconds.",
        {
            "policy": "sign-in",
            "limit": MAX_SIGN_IN_ATTEMPTS,
            "window": SIGN_IN_WINDOW_SECONDS,
            "retryAfterSeconds": seconds,
        },
        headers={"Retry-After": str(seconds)},
    )

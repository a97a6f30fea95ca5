"""Sessions through the shared fakes and a pinned clock: sign-in, the cookie's token kept only as a
hash, absolute and idle expiry, sign-out, revocation when a person is deleted or changes their
password, and the sign-in throttle's window and Retry-After."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from kiln.domain.access import Principal, Workspace
from kiln.domain.people import PeopleService, PersonChanges
from kiln.domain.sessions import (
    MAX_SIGN_IN_ATTEMPTS,
    SESSION_COOKIE,
    SIGN_IN_WINDOW_SECONDS,
    WRONG_CREDENTIALS,
    SessionService,
    cleared_session_cookie,
    email_key,
    session_cookie,
    token_from_cookies,
)
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import FakeAccess, FakeClock, FakePeople, FakeSessions

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
PASSWORD = "correct horse battery staple"
ADMIN = Principal(WS, "key_01m885m8rskqxxjknrtpgbxm1q", frozenset({"project:read", "admin"}), "pro")
TTL, IDLE = 12 * 3600, 30 * 60


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(step=timedelta(0))
        self.people_store, self.store = FakePeople(), FakeSessions()
        access = FakeAccess()
        access.insert_workspace(Workspace(WS, WS, "pro", "u", "v", "2026-01-01T00:00:00.000Z"))
        # Wired as kiln.services wires them: people end sessions through the session service.
        self.people = PeopleService(
            self.people_store, access, self.clock, end_sessions=lambda ws, uid: self.sessions.end_all(ws, uid)
        )
        self.sessions = SessionService(
            self.store, self.store, self.people, self.people_store, self.clock, ttl_seconds=TTL, idle_seconds=IDLE
        )
        self.person = self.people.add(WS, "ada@example.com", "Ada", PASSWORD, ("project:read",))


@pytest.fixture
def world() -> World:
    return World()


def refusal(call) -> KilnError:
    with pytest.raises(KilnError) as caught:
        call()
    return caught.value


# --- signing in --------------------------------------------------------------------------------


def test_sign_in_stores_only_the_token_hash_and_answers_the_person(world):
    signed_in = world.sessions.sign_in(" Ada@Example.com ", PASSWORD)
    assert signed_in.person.id == world.person.id and signed_in.session.user_id == world.person.id
    assert signed_in.session.id.startswith("sess_") and signed_in.session.workspace_id == WS
    assert len(signed_in.token) == 43 and len(signed_in.csrf_token) == 43 and signed_in.token != signed_in.csrf_token
    (stored_hash,) = world.store.sessions
    assert stored_hash == hashlib.sha256(signed_in.token.encode()).hexdigest()
    assert signed_in.token not in repr(world.store.sessions) and signed_in.token not in repr(signed_in)
    assert signed_in.session.created_at == "2026-11-25T12:00:00.000Z"
    assert signed_in.session.expires_at == "2026-11-26T00:00:00.000Z"  # 12 hours later
    assert world.store.expiry_epochs[stored_hash] == int(world.clock.now.timestamp()) + TTL  # DynamoDB TTL
    assert signed_in.session.csrf_hash == hashlib.sha256(signed_in.csrf_token.encode()).hexdigest()


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(world):
    wrong_password = refusal(lambda: world.sessions.sign_in("ada@example.com", "not the password!"))
    unknown_email = refusal(lambda: world.sessions.sign_in("nobody@example.com", PASSWORD))
    for error in (wrong_password, unknown_email):
        assert error.code is ErrorCode.UNAUTHORIZED and error.message == WRONG_CREDENTIALS
        assert error.details == {} and "WWW-Authenticate" in error.headers
    assert not world.store.sessions


def test_each_sign_in_is_its_own_session(world):
    first = world.sessions.sign_in("ada@example.com", PASSWORD)
    second = world.sessions.sign_in("ada@example.com", PASSWORD)
    assert first.token != second.token and first.session.id != second.session.id
    assert world.sessions.resolve(first.token) is not None and world.sessions.resolve(second.token) is not None


# --- resolving a cookie ------------------------------------------------------------------------


def test_resolve_finds_the_session_and_its_person(world):
    signed_in = world.sessions.sign_in("ada@example.com", PASSWORD)
    active = world.sessions.resolve(signed_in.token)
    assert active is not None and active.person == world.person and active.session.id == signed_in.session.id


@pytest.mark.parametrize("token", ["", "x" * 42, "x" * 44, "not a token at all, with spaces......!!!", "x" * 43])
def test_resolve_refuses_malformed_and_unknown_tokens(world, token):
    world.sessions.sign_in("ada@example.com", PASSWORD)
    assert world.sessions.resolve(token) is None


def test_absolute_expiry_ends_a_session_in_use(world):
    token = world.sessions.sign_in("ada@example.com", PASSWORD).token
    for _ in range(24):  # used every 29 minutes, until 23:36: never idle
        world.clock.advance(minutes=29)
        assert world.sessions.resolve(token) is not None
    world.clock.now = world.clock.now.replace(hour=23, minute=59, second=59, microsecond=999_000)
    assert world.sessions.resolve(token) is not None
    world.clock.advance(milliseconds=1)  # 12 hours after sign-in
    assert world.sessions.resolve(token) is None


def test_idle_timeout_ends_an_unused_session(world):
    token = world.sessions.sign_in("ada@example.com", PASSWORD).token
    world.clock.advance(minutes=29, seconds=59)
    assert world.sessions.resolve(token) is not None  # a use: recorded (more than a minute old)
    world.clock.advance(minutes=29, seconds=59)
    assert world.sessions.resolve(token) is not None
    world.clock.advance(minutes=30)
    assert world.sessions.resolve(token) is None


def test_use_is_recorded_at_most_once_a_minute(world):
    token = world.sessions.sign_in("ada@example.com", PASSWORD).token
    for _ in range(10):
        world.clock.advance(seconds=5)
        world.sessions.resolve(token)
    assert world.store.touches == 0  # 50 s: the sign-in's lastSeenAt is recent enough
    world.clock.advance(seconds=15)
    world.sessions.resolve(token)
    world.sessions.resolve(token)
    assert world.store.touches == 1
    world.clock.advance(minutes=5)
    world.sessions.resolve(token, touch=False)  # a read of the session, not a use
    assert world.store.touches == 1


# --- ending sessions ---------------------------------------------------------------------------


def test_sign_out_ends_that_session_only(world):
    first = world.sessions.sign_in("ada@example.com", PASSWORD)
    second = world.sessions.sign_in("ada@example.com", PASSWORD)
    world.sessions.sign_out(first.token)
    assert world.sessions.resolve(first.token) is None
    assert world.sessions.resolve(second.token) is not None
    world.sessions.sign_out(first.token)  # again: nothing to end, no error


def test_deleting_the_person_ends_their_sessions(world):
    other = world.people.add(WS, "grace@example.com", "Grace", PASSWORD, ("project:read",))
    mine = world.sessions.sign_in("ada@example.com", PASSWORD).token
    theirs = world.sessions.sign_in("grace@example.com", PASSWORD).token
    world.people.delete(ADMIN, world.person.id)
    assert world.sessions.resolve(mine) is None and len(world.store.sessions) == 1
    assert world.sessions.resolve(theirs) is not None and other.id == world.sessions.resolve(theirs).person.id


def test_changing_the_password_ends_every_session_but_other_changes_do_not(world):
    token = world.sessions.sign_in("ada@example.com", PASSWORD).token
    world.clock.advance(seconds=1)
    world.people.update(ADMIN, world.person.id, PersonChanges(name="Ada L."))
    assert world.sessions.resolve(token) is not None
    world.people.update(ADMIN, world.person.id, PersonChanges(password="a brand new passphrase"))
    assert world.sessions.resolve(token) is None and not world.store.sessions
    assert refusal(lambda: world.sessions.sign_in("ada@example.com", PASSWORD)).code is ErrorCode.UNAUTHORIZED
    assert world.sessions.resolve(world.sessions.sign_in("ada@example.com", "a brand new passphrase").token)


def test_a_session_the_index_missed_still_fails_after_the_password_change(world):
    """end_all finds sessions through an eventually consistent index; resolve checks anyway."""
    token = world.sessions.sign_in("ada@example.com", PASSWORD).token
    world.store.delete_person_sessions = lambda ws, uid: 0  # the index did not show it yet
    world.clock.advance(seconds=1)
    world.people.update(ADMIN, world.person.id, PersonChanges(password="a brand new passphrase"))
    assert len(world.store.sessions) == 1 and world.sessions.resolve(token) is None


def test_a_session_whose_person_is_gone_does_not_resolve(world):
    token = world.sessions.sign_in("ada@example.com", PASSWORD).token
    world.people_store.delete_person(world.person)  # removed without the service (say, by hand)
    assert world.sessions.resolve(token) is None


# --- the sign-in throttle ----------------------------------------------------------------------


def test_five_failures_lock_the_email_even_for_the_right_password(world):
    for _ in range(MAX_SIGN_IN_ATTEMPTS):
        world.clock.advance(seconds=10)
        assert refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!")).status == 401
    world.clock.advance(seconds=10)
    locked = refusal(lambda: world.sessions.sign_in("ADA@example.com ", PASSWORD))
    assert locked.code is ErrorCode.RATE_LIMIT_EXCEEDED and locked.status == 429
    # The first failure was 50 s ago: it leaves the 15-minute window in 850 s.
    assert locked.headers["Retry-After"] == "850" and locked.details["retryAfterSeconds"] == 850
    assert locked.details["limit"] == MAX_SIGN_IN_ATTEMPTS and locked.details["window"] == SIGN_IN_WINDOW_SECONDS
    assert not world.store.sessions


def test_retry_after_is_exactly_when_an_attempt_fits_again(world):
    for _ in range(MAX_SIGN_IN_ATTEMPTS):
        world.clock.advance(seconds=7, milliseconds=300)
        refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!"))
    locked = refusal(lambda: world.sessions.sign_in("ada@example.com", PASSWORD))
    seconds = int(locked.headers["Retry-After"])
    world.clock.advance(seconds=seconds - 1)
    assert refusal(lambda: world.sessions.sign_in("ada@example.com", PASSWORD)).status == 429  # not earlier
    world.clock.advance(seconds=1)
    assert world.sessions.sign_in("ada@example.com", PASSWORD).person.id == world.person.id


def test_a_refused_attempt_is_not_counted(world):
    for _ in range(MAX_SIGN_IN_ATTEMPTS):
        refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!"))
    first = refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!"))
    world.clock.advance(seconds=100)
    later = refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!"))
    assert int(later.headers["Retry-After"]) == int(first.headers["Retry-After"]) - 100


def test_unknown_emails_are_throttled_alike_and_emails_apart(world):
    for _ in range(MAX_SIGN_IN_ATTEMPTS):
        refusal(lambda: world.sessions.sign_in("nobody@example.com", PASSWORD))
    assert refusal(lambda: world.sessions.sign_in("nobody@example.com", PASSWORD)).status == 429
    assert world.sessions.sign_in("ada@example.com", PASSWORD)  # another email is not affected
    assert email_key(" NoBody@Example.com") in world.store.attempts
    assert all("@" not in key for key in world.store.attempts)  # counted under a hash, not the email


def test_a_success_clears_the_count(world):
    for _ in range(MAX_SIGN_IN_ATTEMPTS - 1):
        refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!"))
    world.sessions.sign_in("ada@example.com", PASSWORD)
    assert email_key("ada@example.com") not in world.store.attempts
    for _ in range(MAX_SIGN_IN_ATTEMPTS):
        assert refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!")).status == 401


def test_failures_older_than_the_window_do_not_count(world):
    for _ in range(MAX_SIGN_IN_ATTEMPTS - 1):
        refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!"))
    world.clock.advance(seconds=SIGN_IN_WINDOW_SECONDS)
    for _ in range(MAX_SIGN_IN_ATTEMPTS):
        assert refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!")).status == 401
    assert len(world.store.attempts[email_key("ada@example.com")].times_ms) == MAX_SIGN_IN_ATTEMPTS


def test_an_attempt_counted_concurrently_is_seen_before_the_password_is_checked(world):
    """Two sign-ins race for the last free slot: the conditional write lets one through."""
    for _ in range(MAX_SIGN_IN_ATTEMPTS - 1):
        refusal(lambda: world.sessions.sign_in("ada@example.com", "wrong password!"))
    checked: list[str] = []
    real_verify = world.people.verify_password
    world.people.verify_password = lambda email, password: checked.append(password) or real_verify(email, password)
    # Between this attempt's read and its write, another one takes the last slot.
    world.store.before(
        "write_attempts",
        lambda: refusal(lambda: world.sessions.sign_in("ada@example.com", "a concurrent guess")),
    )
    assert refusal(lambda: world.sessions.sign_in("ada@example.com", "my own guess")).status == 429
    assert checked == ["a concurrent guess"]  # only the attempt that was counted got its password checked


# --- cookies -----------------------------------------------------------------------------------


def test_cookie_helpers():
    assert session_cookie("t" * 43, 43200) == (
        f"{SESSION_COOKIE}={'t' * 43}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=43200"
    )
    assert cleared_session_cookie() == f"{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
    token = "A" * 42 + "_"
    assert token_from_cookies(f"theme=dark; {SESSION_COOKIE}={token}; other=1") == token
    assert token_from_cookies(f"{SESSION_COOKIE}=short") is None
    assert token_from_cookies(f"kiln_session={token}") is None  # without the __Host- prefix: not ours
    assert token_from_cookies(None) is None and token_from_cookies("") is None

"""The credential chain and the authorizer context that carries a principal to the functions."""

from __future__ import annotations

import pytest

from kiln.domain.access import Principal
from kiln.domain.authentication import principal_context, principal_from_context
from kiln.http.request import principal_of
from tests.fakes import FakeGrants, FakeSessionResolver

KEY = Principal("ws_1", "key_1", frozenset({"project:read", "admin"}), "pro", ("/v1/projects/**",))
TOKEN = Principal(
    "ws_1", "user_1", frozenset({"project:read"}), "free", credential="token", user_id="user_1", client_id="client_1"
)
SESSION = Principal(
    "ws_1", "user_1", frozenset({"ai:invoke"}), "team", credential="session", user_id="user_1", csrf_hash="ab" * 32
)


def test_a_key_principal_keeps_its_defaults():
    assert (KEY.credential, KEY.user_id, KEY.client_id, KEY.csrf_hash) == ("key", None, None, None)


def test_context_values_are_strings_and_absent_fields_are_omitted():
    context = principal_context(KEY)
    assert all(isinstance(value, str) for value in context.values())
    assert context["credential"] == "key" and context["scopes"] == "admin project:read"
    assert not {"userId", "clientId", "csrfHash"} & context.keys()
    assert principal_context(TOKEN)["clientId"] == "client_1" and "csrfHash" not in principal_context(TOKEN)
    assert principal_context(SESSION)["csrfHash"] == "ab" * 32 and "clientId" not in principal_context(SESSION)


@pytest.mark.parametrize("principal", [KEY, TOKEN, SESSION], ids=["key", "token", "session"])
def test_principal_of_reads_back_what_the_authorizer_wrote(principal):
    event = {"requestContext": {"authorizer": principal_context(principal)}}
    assert principal_of(event) == principal


def test_a_context_written_before_credentials_existed_is_a_key():
    context = {"workspaceId": "ws_1", "keyId": "key_1", "scopes": "project:read", "tier": "free"}
    assert principal_from_context(context) == Principal("ws_1", "key_1", frozenset({"project:read"}), "free")


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"workspaceId": "ws_1"},
        {"keyId": "key_1"},
        {"workspaceId": "ws_1", "keyId": "key_1", "credential": "password"},
    ],
)
def test_a_context_naming_no_known_caller_is_no_principal(context):
    assert principal_of({"requestContext": {"authorizer": context}}) is None
    assert principal_of({}) is None


# --- the credential chain ----------------------------------------------------------------------

BASE = "https://api.kiln.test"
NOW = 1_800_000_000
KEY_SECRET = "kiln_" + "k" * 43


class World:
    """The chain over in-memory stores, a fixed wall clock and a movable monotonic one."""

    def __init__(self, cache_seconds: float = 60.0, cache_size: int = 1024) -> None:
        from kiln.domain.access import Authentication, Workspace
        from kiln.domain.authentication import Authenticator
        from kiln.domain.people import Person
        from kiln.domain.sessions import ActiveSession, Session
        from kiln.domain.tokens import KeySet, PublicKeyCache
        from tests.fakes.access import FakeAccess
        from tests.fakes.people import FakePeople

        self.key_set = KeySet.initial(NOW - 10)
        self.monotonic = 0.0
        self.access = FakeAccess()
        self.access.insert_workspace(Workspace("ws_1", "One", "pro", "uk_1", "usage-1", "2026-01-01T00:00:00.000Z"))
        self.people = FakePeople()
        self.person = Person(
            "user_1",
            "ws_1",
            "ada@example.com",
            "Ada",
            ("project:read", "project:write"),
            "scrypt$x",
            "2026-01-01T00:00:00.000Z",
            "2026-01-01T00:00:00.000Z",
            "2026-01-01T00:00:00.000Z",
        )
        self.people.insert_person(self.person)
        self.grants = FakeGrants("grant_1")
        self.sessions = FakeSessionResolver()
        session = Session("sess_1", "ws_1", "user_1", "hash", "csrf-secret", "t0", "t1", "t0")
        self.sessions.by_token["cookie-token"] = ActiveSession(session, self.person)
        self.key_calls: list[str] = []
        self.fetches = 0

        def keys(header: str):
            self.key_calls.append(header)
            if KEY_SECRET not in header:
                return None
            return Authentication(Principal("ws_1", "key_1", frozenset({"admin"}), "pro"), "usage-1")

        def fetch():
            self.fetches += 1
            return self.key_set.public_keys()

        key_cache = PublicKeyCache(fetch, lambda: self.monotonic)  # one per container, as kiln.services keeps it
        self.authenticator = Authenticator(
            keys=keys,
            token_keys=lambda: key_cache,
            people=self.people,
            workspaces=self.access,
            grants=lambda: self.grants,
            sessions=lambda: self.sessions,
            now=lambda: NOW,
            monotonic=lambda: self.monotonic,
            cache_seconds=cache_seconds,
            cache_size=cache_size,
        )

    def token(self, **changes) -> str:
        from kiln.domain import tokens

        claims = dict(
            issuer=BASE,
            audience=BASE,
            subject="user_1",
            client_id="client_1",
            scopes=("project:read", "admin"),
            workspace="ws_1",
            now=NOW - 5,
            grant_id="grant_1",
        )
        claims.update(changes)
        return tokens.issue(self.key_set.signing_key(), **claims)

    def authenticate(self, authorization: str | None = None, *cookies: str):
        from kiln.domain.authentication import Credentials

        return self.authenticator.authenticate(Credentials(authorization, cookies), base_url=BASE)


@pytest.fixture
def world() -> World:
    return World()


def test_a_key_is_the_access_services_answer(world):
    found = world.authenticate(f"Bearer {KEY_SECRET}")
    assert found.principal.key_id == "key_1" and found.principal.credential == "key"
    assert world.key_calls == [f"Bearer {KEY_SECRET}"]


def test_a_token_acts_for_its_person_within_their_current_scopes(world):
    found = world.authenticate(f"Bearer {world.token()}")
    principal = found.principal
    assert principal == Principal(
        "ws_1",
        "user_1",
        frozenset({"project:read"}),  # admin was granted, but Ada does not hold it
        "pro",
        credential="token",
        user_id="user_1",
        client_id="client_1",
    )
    assert found.usage_key_value == "usage-1"  # usage plans meter the workspace
    assert world.grants.asked == ["grant_1"]


def test_a_session_cookie_acts_for_its_person_with_the_csrf_hash(world):
    import hashlib

    found = world.authenticate(None, 'theme=dark; __Host-kiln_session="cookie-token"; x=1')
    principal = found.principal
    assert (principal.credential, principal.key_id, principal.user_id) == ("session", "user_1", "user_1")
    assert principal.scopes == frozenset({"project:read", "project:write"}) and principal.client_id is None
    assert principal.csrf_hash == hashlib.sha256(b"csrf-secret").hexdigest()


@pytest.mark.parametrize(
    "cookies",
    [
        (),
        ("theme=dark",),
        ("__Host-kiln_session=",),
        ("__Host-kiln_session=cookie-token; __Host-kiln_session=other",),  # shadowed: ambiguous
        ("__Host-kiln_session=cookie-token", "__Host-kiln_session=other"),  # split over headers
        ("kiln_session=cookie-token",),  # without the __Host- prefix it could come from anywhere
        ("__Host-kiln_session=unknown",),
    ],
)
def test_no_or_an_ambiguous_or_unknown_cookie_is_refused(world, cookies):
    assert world.authenticate(None, *cookies) is None


def test_the_same_cookie_twice_is_not_ambiguous(world):
    cookies = ("__Host-kiln_session=cookie-token", "a=1; __Host-kiln_session=cookie-token")
    assert world.authenticate(None, *cookies).principal.credential == "session"


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-credential", "Bearer a.b", "Token " + KEY_SECRET],
)
def test_a_present_but_bad_authorization_header_never_falls_through_to_the_cookie(world, header):
    assert world.authenticate(header, "__Host-kiln_session=cookie-token") is None
    assert world.sessions.asked == []


def test_a_good_authorization_header_wins_over_the_cookie(world):
    found = world.authenticate(f"Bearer {world.token()}", "__Host-kiln_session=cookie-token")
    assert found.principal.credential == "token" and world.sessions.asked == []


# --- hostile tokens ----------------------------------------------------------------------------


def _forge(header: dict, claims: dict, key, algorithm: str) -> str:
    import jwt

    return jwt.encode(claims, key, algorithm=algorithm, headers=header)


def _claims(**changes) -> dict:
    claims = {
        "iss": BASE,
        "aud": BASE,
        "sub": "user_1",
        "client_id": "client_1",
        "scope": "project:read",
        "workspace": "ws_1",
        "iat": NOW - 5,
        "exp": NOW + 600,
        "jti": "j",
        "gid": "grant_1",
    }
    claims.update(changes)
    return claims


def hostile_tokens(world: World) -> dict[str, str]:
    import base64
    import json as json_

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from kiln.domain import tokens

    kid = world.key_set.signing_key().kid
    stranger = tokens.KeySet.initial(NOW - 10).signing_key()
    public_pem = (
        world.key_set.signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json_.dumps(data).encode()).decode().rstrip("=")

    # pyjwt refuses to HMAC with a PEM public key: build the HS256 token by hand, as an attacker would.
    import hashlib
    import hmac

    signing_input = f"{b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': kid})}.{b64(_claims())}"
    hs256 = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return {
        "expired": world.token(now=NOW - tokens.TOKEN_LIFETIME_SECONDS - tokens.CLOCK_SKEW_SECONDS - 1),
        "other key set": tokens.issue(
            stranger,
            issuer=BASE,
            audience=BASE,
            subject="user_1",
            client_id="client_1",
            scopes=("project:read",),
            workspace="ws_1",
            now=NOW - 5,
            grant_id="grant_1",
        ),
        "alg none": f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': kid})}.{b64(_claims())}.",
        "hs256 with the public key": f"{signing_input}.{base64.urlsafe_b64encode(hs256).decode().rstrip('=')}",
        "forged kid": _forge(
            {"typ": "at+jwt", "kid": "forged"}, _claims(), ec.generate_private_key(ec.SECP256R1()), "ES256"
        ),
        "another issuer": world.token(issuer="https://evil.example.com"),
        "another audience": world.token(audience="https://evil.example.com"),
        "another workspace": world.token(workspace="ws_2"),
        "no grant": _forge(
            {"typ": "at+jwt", "kid": kid},
            {k: v for k, v in _claims().items() if k != "gid"},
            world.key_set.signing_key().private_key(),
            "ES256",
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "expired",
        "other key set",
        "alg none",
        "hs256 with the public key",
        "forged kid",
        "another issuer",
        "another audience",
        "another workspace",
        "no grant",
    ],
)
def test_hostile_tokens_are_refused(world, name):
    token = hostile_tokens(world)[name]
    assert world.authenticate(f"Bearer {token}") is None
    assert world.authenticate(f"Bearer {token}", "__Host-kiln_session=cookie-token") is None


def test_a_token_of_a_deleted_person_is_refused(world):
    token = world.token()
    world.people.people.clear()
    assert world.authenticate(f"Bearer {token}") is None


def test_a_token_of_a_revoked_grant_is_refused(world):
    token = world.token()
    world.grants.active.clear()
    assert world.authenticate(f"Bearer {token}") is None


def test_a_token_whose_scopes_exceed_the_persons_gets_only_the_persons(world):
    token = world.token(scopes=("project:read", "project:write", "ai:invoke", "admin"))
    assert world.authenticate(f"Bearer {token}").principal.scopes == {"project:read", "project:write"}


def test_forged_kids_never_become_a_fetch_per_request(world):
    tokens_ = [hostile_tokens(world)["forged kid"] for _ in range(2)]
    for token in tokens_ * 5:
        assert world.authenticate(f"Bearer {token}") is None
    assert world.fetches == 1  # the first read; unknown kids wait for the cooldown


# --- the cache ---------------------------------------------------------------------------------


def test_a_warm_key_costs_nothing_until_its_answer_expires(world):
    header = f"Bearer {KEY_SECRET}"
    world.authenticate(header)
    world.monotonic = 59.0
    assert world.authenticate(header).principal.key_id == "key_1"
    assert len(world.key_calls) == 1  # a revoked key works up to a minute longer
    world.monotonic = 60.0
    world.authenticate(header)
    assert len(world.key_calls) == 2


def test_a_warm_token_costs_only_its_grant_so_revoking_the_grant_ends_it_at_once(world):
    header = f"Bearer {world.token()}"
    world.authenticate(header)
    world.people.people.clear()  # not read again while the answer is warm...
    world.monotonic = 59.0
    assert world.authenticate(header).principal.user_id == "user_1"
    assert world.grants.asked == ["grant_1", "grant_1"]  # ...but the grant is, every time
    world.grants.active.clear()
    assert world.authenticate(header) is None
    world.grants.active.add("grant_1")
    assert world.authenticate(header) is None  # the entry was dropped: the person is read, and gone


def test_the_cache_is_keyed_by_the_exact_header_and_never_holds_a_refusal(world):
    world.authenticate(f"Bearer {KEY_SECRET}")
    world.authenticate(f"Bearer {KEY_SECRET}")
    world.authenticate(f"Bearer  {KEY_SECRET}")  # spelled differently: asked afresh
    assert len(world.key_calls) == 2
    bad = "Bearer kiln_" + "x" * 43
    world.authenticate(bad)
    world.authenticate(bad)
    assert world.key_calls[-2:] == [bad, bad]


def test_sessions_are_never_cached(world):
    for _ in range(3):
        world.authenticate(None, "__Host-kiln_session=cookie-token")
    assert world.sessions.asked == ["cookie-token"] * 3
    del world.sessions.by_token["cookie-token"]  # signed out: refused on the very next request
    assert world.authenticate(None, "__Host-kiln_session=cookie-token") is None


def test_a_token_is_never_cached_past_its_expiry():
    world = World(cache_seconds=3600)
    header = f"Bearer {world.token(now=NOW - 895)}"  # expires at NOW + 5
    world.authenticate(header)
    world.monotonic = 4.0
    world.authenticate(header)
    world.monotonic = 6.0
    world.people.people.clear()
    assert world.authenticate(header) is None  # not served from the cache: verified (and refused)


def test_the_cache_holds_a_bounded_number_of_answers():
    world = World(cache_size=2)
    headers = [f"Bearer{' ' * n}{KEY_SECRET}" for n in (1, 2, 3)]
    for header in headers:
        world.authenticate(header)
    world.authenticate(headers[2])
    world.authenticate(headers[1])
    world.authenticate(headers[0])  # the least recently used one was dropped
    assert world.key_calls == [*headers, headers[0]]


def test_no_cache_at_all_with_zero_seconds():
    world = World(cache_seconds=0)
    world.authenticate(f"Bearer {KEY_SECRET}")
    world.authenticate(f"Bearer {KEY_SECRET}")
    assert len(world.key_calls) == 2


def test_credentials_are_read_from_a_rest_event():
    from kiln.domain.authentication import Credentials

    event = {
        "headers": {"authorization": "Bearer x", "Cookie": "a=1"},
        "multiValueHeaders": {"authorization": ["Bearer x"], "Cookie": ["a=1", "b=2"]},
    }
    assert Credentials.from_event(event) == Credentials("Bearer x", ("a=1", "b=2"))
    assert Credentials.from_event({"headers": {"COOKIE": "a=1"}}) == Credentials(None, ("a=1",))
    assert Credentials.from_event({"headers": None, "multiValueHeaders": None}) == Credentials(None, ())

"""The OAuth authorization server's domain through the shared fakes and a pinned clock: clients
(redirect URIs, scopes, tenancy), codes (60 s, single use, PKCE S256, reuse revokes the grant),
refresh-token rotation (one winner, a replay revokes the family) and revocation."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import timedelta

import pytest

from kiln.domain import tokens
from kiln.domain.access import Principal
from kiln.domain.oauth import (
    CODE_LIFETIME_SECONDS,
    AuthorizationRequestError,
    ClientRequest,
    OAuthClient,
    OAuthError,
    OAuthService,
    s256,
)
from kiln.domain.people import Person
from kiln.envelope import KilnError
from tests.fakes import FakeClock, FakeOAuth, FakePeople

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WS = "ws_01m885m8rskqxxjknrtpgbxm2p"
ADMIN = Principal(WS, "key_01m885m8rskqxxjknrtpgbxm1q", frozenset({"project:read", "project:write", "admin"}), "pro")
OTHER_ADMIN = Principal(OTHER_WS, "key_01m885m8rskqxxjknrtpgbxm2q", frozenset({"project:read", "admin"}), "pro")
REDIRECT = "https://app.example.com/callback"
ISSUER = "https://api.example.com"
VERIFIER = "v" * 43 + secrets.token_urlsafe(20)


def person(workspace_id: str = WS, scopes: tuple[str, ...] = ("project:read", "project:write")) -> Person:
    suffix = secrets.token_hex(4)
    return Person(
        id=f"usr_01m885m8rskqxxjknrt{suffix[:5]}",
        workspace_id=workspace_id,
        email=f"{suffix}@example.com",
        name="Ada",
        scopes=scopes,
        password_hash="scrypt$x",
        created_at="2026-11-25T12:00:00.000Z",
        updated_at="2026-11-25T12:00:00.000Z",
        password_changed_at="2026-11-25T12:00:00.000Z",
    )


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(step=timedelta(0))
        self.store = FakeOAuth()
        self.people = FakePeople()
        self.keys = tokens.KeySet.initial(int(self.clock.now.timestamp()))
        self.service = OAuthService(
            self.store, self.people, lambda: self.keys, self.clock, refresh_lifetime_seconds=3600
        )

    def client(
        self, scopes: tuple[str, ...] = ("project:read", "project:write"), caller: Principal = ADMIN
    ) -> OAuthClient:
        return self.service.create_client(
            caller, ClientRequest("Planner", (REDIRECT, "http://localhost:8765/cb"), scopes)
        )

    def person(self, **kwargs) -> Person:
        who = person(**kwargs)
        self.people.insert_person(who)
        return who

    def code(self, client: OAuthClient, who: Person, scopes=("project:read",), verifier: str = VERIFIER) -> str:
        return self.service.issue_code(client, who, REDIRECT, scopes, s256(verifier))

    def exchange(self, code: str, client: OAuthClient, verifier: str = VERIFIER, redirect_uri: str = REDIRECT):
        return self.service.exchange_code(code, client.id, redirect_uri, verifier, issuer=ISSUER)

    def verify(self, access_token: str) -> tokens.AccessToken:
        cache = tokens.PublicKeyCache(self.keys.public_keys, lambda: 0.0)
        return tokens.verify(access_token, cache, issuer=ISSUER, audience=ISSUER, now=int(self.clock.now.timestamp()))


@pytest.fixture
def world() -> World:
    return World()


def oauth_error(call) -> OAuthError:
    with pytest.raises(OAuthError) as caught:
        call()
    return caught.value


def authorization_error(call) -> AuthorizationRequestError:
    with pytest.raises(AuthorizationRequestError) as caught:
        call()
    return caught.value


# --- clients ------------------------------------------------------------------------------------


def test_a_client_keeps_its_redirect_uris_as_given_and_canonical_scopes(world):
    client = world.service.create_client(
        ADMIN,
        ClientRequest(
            "Planner", ("https://app.example.com/cb?x=1", "http://127.0.0.1:9/cb"), ("admin", "project:read")
        ),
    )
    assert client.id.startswith("client_") and client.workspace_id == WS
    assert client.redirect_uris == ("https://app.example.com/cb?x=1", "http://127.0.0.1:9/cb")
    assert client.scopes == ("project:read", "admin")
    assert world.store.clients[client.id] == client


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example.com/cb",  # plain http off loopback
        "https://app.example.com/cb#frag",  # a fragment
        "https://user:pw@app.example.com/cb",  # credentials
        "ftp://app.example.com/cb",
        "com.example.app:/cb",  # custom schemes are not registered here
        "https:///cb",  # no host
        "http://localhost.evil.com/cb",
        "https://app.example.com:99999/cb",  # a bad port
        "https://app.example.com/c b",
        "",
    ],
)
def test_a_bad_redirect_uri_is_a_validation_error_and_nothing_is_stored(world, uri):
    with pytest.raises(KilnError) as caught:
        world.service.create_client(ADMIN, ClientRequest("Planner", (REDIRECT, uri), ("project:read",)))
    assert caught.value.code.value == "VALIDATION_ERROR"
    assert caught.value.details["fields"][0]["field"] == "redirectUris.1"
    assert world.store.clients == {}


def test_a_client_never_gets_scopes_its_registrar_lacks(world):
    reader = Principal(WS, "key_01m885m8rskqxxjknrtpgbxm3q", frozenset({"project:read"}), "pro")
    with pytest.raises(KilnError) as caught:
        world.service.create_client(reader, ClientRequest("P", (REDIRECT,), ("project:write",)))
    assert caught.value.code.value == "FORBIDDEN" and world.store.clients == {}


def test_another_workspaces_client_is_not_found_like_a_missing_one(world):
    client = world.client()
    for caller, client_id in ((OTHER_ADMIN, client.id), (ADMIN, "client_01m885m8rskqxxjknrtpgbxm9z"), (ADMIN, "nope")):
        with pytest.raises(KilnError) as caught:
            world.service.delete_client(caller, client_id)
        assert caught.value.code.value == "NOT_FOUND"
    assert client.id in world.store.clients
    assert world.service.list_page(OTHER_ADMIN, 1, 20) == ([], 0)
    assert world.service.list_page(ADMIN, 1, 20) == ([client], 1)


# --- the authorization request ---------------------------------------------------------------------


def test_client_for_authorization_matches_the_redirect_uri_exactly(world):
    client = world.client()
    assert world.service.client_for_authorization(client.id, REDIRECT) == client
    assert world.service.client_for_authorization(client.id, "http://localhost:8765/cb", workspace_id=WS) == client
    for near_miss in (REDIRECT + "/", REDIRECT.upper(), REDIRECT + "?x=1", "https://app.example.com/CALLBACK"):
        error = authorization_error(lambda uri=near_miss: world.service.client_for_authorization(client.id, uri))
        assert (error.error, error.redirectable) == ("invalid_request", False)


def test_an_unknown_or_foreign_client_is_refused_without_a_redirect(world):
    client = world.client()
    unknown = authorization_error(
        lambda: world.service.client_for_authorization("client_01m885m8rskqxxjknrtpgbxm9z", REDIRECT)
    )
    foreign = authorization_error(
        lambda: world.service.client_for_authorization(client.id, REDIRECT, workspace_id=OTHER_WS)
    )
    malformed = authorization_error(lambda: world.service.client_for_authorization("../etc", REDIRECT))
    assert (unknown.error, unknown.description, unknown.redirectable) == (
        foreign.error,
        foreign.description,
        foreign.redirectable,
    )
    assert unknown.description == malformed.description and not unknown.redirectable


def test_issue_code_grants_requested_scopes_the_client_and_person_both_hold(world):
    client = world.client(scopes=("project:read", "project:write"))
    who = world.person(scopes=("project:read", "admin"))
    code = world.code(client, who, scopes=("project:read", "project:write", "admin"))
    stored = world.store.codes[hashlib.sha256(code.encode()).hexdigest()]
    assert code not in repr(world.store.codes)  # only its hash is kept
    assert stored.scopes == ("project:read",)
    assert (stored.client_id, stored.user_id, stored.redirect_uri) == (client.id, who.id, REDIRECT)
    assert stored.code_challenge == s256(VERIFIER)
    assert stored.expires_at == int(world.clock.now.timestamp()) + CODE_LIFETIME_SECONDS == stored.expires_at
    assert len(code) >= 43  # 256 random bits


def test_issue_code_refuses_no_scope_a_missing_challenge_and_a_foreign_person(world):
    client = world.client(scopes=("project:read",))
    nothing = authorization_error(lambda: world.code(client, world.person(), scopes=("admin",)))
    assert (nothing.error, nothing.redirectable) == ("invalid_scope", True)
    for challenge in ("", "plain-verifier", "x" * 44):
        missing = authorization_error(
            lambda c=challenge: world.service.issue_code(client, world.person(), REDIRECT, ("project:read",), c)
        )
        assert (missing.error, missing.redirectable) == ("invalid_request", True)
    foreign = authorization_error(lambda: world.code(client, world.person(workspace_id=OTHER_WS)))
    assert (foreign.error, foreign.redirectable) == ("invalid_request", False)
    wrong_uri = authorization_error(
        lambda: world.service.issue_code(
            client, world.person(), "https://evil.example/cb", ("project:read",), s256(VERIFIER)
        )
    )
    assert not wrong_uri.redirectable
    assert world.store.codes == {}


# --- the token endpoint --------------------------------------------------------------------------


def test_a_code_becomes_an_access_token_of_its_grant_and_a_refresh_token(world):
    client, who = world.client(), world.person()
    answer = world.exchange(world.code(client, who), client)
    claims = world.verify(answer.access_token)
    assert (claims.subject, claims.client_id, claims.workspace, claims.scope) == (who.id, client.id, WS, "project:read")
    assert world.service.grant_active(claims.grant_id)
    assert answer.body()["token_type"] == "Bearer" and answer.body()["expires_in"] == tokens.TOKEN_LIFETIME_SECONDS
    assert answer.refresh_token.startswith("kilnrt_") and answer.refresh_token not in repr(world.store.refresh_tokens)


def test_a_code_expires_after_60_seconds(world):
    client, who = world.client(), world.person()
    code = world.code(client, who)
    world.clock.advance(seconds=CODE_LIFETIME_SECONDS)
    assert oauth_error(lambda: world.exchange(code, client)).error == "invalid_grant"
    fresh = world.code(client, who)
    world.clock.advance(seconds=CODE_LIFETIME_SECONDS - 1)
    assert world.exchange(fresh, client).access_token


def test_a_wrong_verifier_redirect_or_client_is_invalid_grant_and_leaves_the_code_usable(world):
    client, other, who = world.client(), world.client(), world.person()
    code = world.code(client, who)
    assert oauth_error(lambda: world.exchange(code, client, verifier="w" * 43)).error == "invalid_grant"
    assert oauth_error(lambda: world.exchange(code, client, redirect_uri=REDIRECT + "/")).error == "invalid_grant"
    assert oauth_error(lambda: world.exchange(code, other)).error == "invalid_grant"
    assert oauth_error(lambda: world.exchange(code, client, verifier="short")).error == "invalid_request"
    unknown = oauth_error(
        lambda: world.service.exchange_code(
            code, "client_01m885m8rskqxxjknrtpgbxm9z", REDIRECT, VERIFIER, issuer=ISSUER
        )
    )
    assert unknown.error == "invalid_client"
    assert world.store.grants == {}
    assert world.exchange(code, client).access_token  # the real client still can


def test_a_code_used_twice_revokes_the_grant_it_opened(world):
    client, who = world.client(), world.person()
    code = world.code(client, who)
    first = world.exchange(code, client)
    grant_id = world.verify(first.access_token).grant_id
    assert oauth_error(lambda: world.exchange(code, client)).error == "invalid_grant"
    assert not world.service.grant_active(grant_id)
    assert oauth_error(lambda: world.service.refresh(first.refresh_token, client.id, None, issuer=ISSUER)).error == (
        "invalid_grant"
    )


def test_a_redemption_that_loses_the_race_revokes_the_winners_grant(world):
    client, who = world.client(), world.person()
    code = world.code(client, who)
    # Another redemption lands between this one's read and its conditional write.
    world.store.before("redeem_code", lambda: world.exchange(code, client))
    assert oauth_error(lambda: world.exchange(code, client)).error == "invalid_grant"
    [grant] = world.store.grants.values()
    assert not grant.active


def test_refresh_rotates_and_a_replayed_token_revokes_the_family(world):
    client, who = world.client(), world.person()
    first = world.exchange(world.code(client, who), client)
    second = world.service.refresh(first.refresh_token, client.id, None, issuer=ISSUER)
    assert second.refresh_token != first.refresh_token
    assert world.verify(second.access_token).grant_id == world.verify(first.access_token).grant_id
    third = world.service.refresh(second.refresh_token, client.id, None, issuer=ISSUER)
    # The first one again: stolen or replayed. Everything of the family stops working.
    assert oauth_error(lambda: world.service.refresh(first.refresh_token, client.id, None, issuer=ISSUER)).error == (
        "invalid_grant"
    )
    assert not world.service.grant_active(world.verify(third.access_token).grant_id)
    assert oauth_error(lambda: world.service.refresh(third.refresh_token, client.id, None, issuer=ISSUER)).error == (
        "invalid_grant"
    )


def test_concurrent_refreshes_with_one_token_have_exactly_one_winner(world):
    client, who = world.client(scopes=("project:read",)), world.person()
    first = world.exchange(world.code(client, who), client)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def refresh() -> None:
        barrier.wait()
        try:
            world.service.refresh(first.refresh_token, client.id, None, issuer=ISSUER)
            outcomes.append("ok")
        except OAuthError as error:
            outcomes.append(error.error)

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["invalid_grant"] * 3 + ["ok"]


def test_refresh_may_narrow_the_scope_never_widen_it(world):
    client, who = world.client(), world.person()
    first = world.exchange(world.code(client, who, scopes=("project:read", "project:write")), client)
    narrow = world.service.refresh(first.refresh_token, client.id, "project:read", issuer=ISSUER)
    assert world.verify(narrow.access_token).scope == "project:read"
    wide = oauth_error(lambda: world.service.refresh(narrow.refresh_token, client.id, "admin", issuer=ISSUER))
    assert wide.error == "invalid_scope"
    # The refused request spent nothing: the full grant is still refreshable.
    full = world.service.refresh(narrow.refresh_token, client.id, None, issuer=ISSUER)
    assert world.verify(full.access_token).scope == "project:read project:write"


def test_a_family_ends_at_its_absolute_lifetime(world):
    client, who = world.client(), world.person()
    answer = world.exchange(world.code(client, who), client)
    world.clock.advance(seconds=3600)
    assert oauth_error(lambda: world.service.refresh(answer.refresh_token, client.id, None, issuer=ISSUER)).error == (
        "invalid_grant"
    )


# --- revocation, introspection, grants --------------------------------------------------------------


def test_revoking_an_access_or_refresh_token_revokes_its_grant(world):
    client, who = world.client(), world.person()
    for pick in ("access_token", "refresh_token"):
        answer = world.exchange(world.code(client, who), client)
        world.service.revoke(getattr(answer, pick), client.id, issuer=ISSUER)
        assert not world.service.grant_active(world.verify(answer.access_token).grant_id)
    world.service.revoke("garbage", client.id, issuer=ISSUER)  # unknown: fine, nothing happens


def test_a_client_cannot_revoke_another_clients_token(world):
    client, other, who = world.client(), world.client(), world.person()
    answer = world.exchange(world.code(client, who), client)
    assert oauth_error(lambda: world.service.revoke(answer.refresh_token, other.id, issuer=ISSUER)).error == (
        "unauthorized_client"
    )
    assert world.service.grant_active(world.verify(answer.access_token).grant_id)


def test_introspection_answers_active_tokens_of_the_callers_workspace_only(world):
    client, who = world.client(), world.person()
    answer = world.exchange(world.code(client, who), client)
    active = world.service.introspect(ADMIN, answer.access_token, issuer=ISSUER).body()
    assert active["active"] is True and active["sub"] == who.id and active["client_id"] == client.id
    assert active["scope"] == "project:read" and active["token_type"] == "Bearer" and active["workspace"] == WS
    refresh = world.service.introspect(ADMIN, answer.refresh_token, issuer=ISSUER).body()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert world.service.introspect(OTHER_ADMIN, answer.access_token, issuer=ISSUER).body() == {"active": False}
    assert world.service.introspect(ADMIN, "nonsense", issuer=ISSUER).body() == {"active": False}
    world.service.end_all_grants(WS, who.id)
    assert world.service.introspect(ADMIN, answer.access_token, issuer=ISSUER).body() == {"active": False}
    assert world.service.introspect(ADMIN, answer.refresh_token, issuer=ISSUER).body() == {"active": False}


def test_deleting_a_client_revokes_its_grants(world):
    client, who = world.client(), world.person()
    answer = world.exchange(world.code(client, who), client)
    world.service.delete_client(ADMIN, client.id)
    assert not world.service.grant_active(world.verify(answer.access_token).grant_id)
    assert world.service.list_page(ADMIN, 1, 20) == ([], 0)


def test_deleting_a_person_ends_their_grants(world):
    from kiln.domain.access import Workspace
    from kiln.domain.people import PeopleService
    from tests.fakes import FakeAccess

    access = FakeAccess()
    access.insert_workspace(Workspace(WS, WS, "pro", "u", "v", "2026-01-01T00:00:00.000Z"))
    people = PeopleService(world.people, access, world.clock, end_grants=world.service.end_all_grants)
    client, who = world.client(), world.person()
    answer = world.exchange(world.code(client, who), client)
    people.delete(ADMIN, who.id)
    assert not world.service.grant_active(world.verify(answer.access_token).grant_id)

"""OAuth tokens that refresh themselves, against httpx.MockTransport standing in for the API and
its token endpoint: before expiry, once on a 401, one refresh for many concurrent calls, the
rotated refresh token handed on, refusals raised typed, and the CLI config as a shared store."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest

from kiln_client import AsyncKiln, AuthenticationError, Kiln, OAuth, OAuthTokens
from kiln_client._config import ConfigTokenStore, config_path, read_config, resolve, write_oauth_config
from kiln_client._oauth import jwt_expiry

BASE = "http://kiln.test"
TOKEN_URL = f"{BASE}/oauth/token"
NOW = 1_800_000_000.0
PROJECT = {
    "id": "proj_01m885m8rskqxxjknrtpgbxm1p",
    "name": "Planner",
    "description": "A planner.",
    "status": "draft",
    "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z",
}


def jwt(name: str, exp: float) -> str:
    """A token shaped like Kiln's (header.claims.signature); the client never verifies it."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256', 'typ': 'at+jwt'})}.{part({'sub': name, 'exp': int(exp)})}.c2ln"


class FakeApi:
    """GET /v1/projects/{id} accepts only the current access token; /oauth/token rotates the
    refresh token and, as Kiln does, revokes everything when a spent one is presented."""

    def __init__(self, access: str, refresh: str = "kilnrt_0", *, expires_in: float = 900.0) -> None:
        self.access, self.refresh, self.expires_in = access, refresh, expires_in
        self.refreshes: list[dict[str, list[str]]] = []
        self.revoked = False
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return self.token(parse_qs(request.content.decode()))
        sent = request.headers.get("Authorization", "")
        self.calls.append(sent)
        if self.revoked or sent != f"Bearer {self.access}":
            body = {"success": False, "data": None, "error": {"code": "UNAUTHORIZED", "message": "no", "details": {}}}
            return httpx.Response(401, json=body)
        return httpx.Response(200, json={"success": True, "data": PROJECT})

    def token(self, form: dict[str, list[str]]) -> httpx.Response:
        with self.lock:
            self.refreshes.append(form)
            assert form["grant_type"] == ["refresh_token"] and form["client_id"] == ["client_1"]
            if self.revoked or form["refresh_token"] != [self.refresh]:
                self.revoked = True  # a replayed refresh token: the whole grant goes
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "revoked"})
            n = len(self.refreshes)
            time.sleep(0.05)  # long enough for concurrent callers to pile up behind the lock
            self.access, self.refresh = jwt(f"access-{n}", NOW + self.expires_in), f"kilnrt_{n}"
            return httpx.Response(
                200, json={"access_token": self.access, "token_type": "Bearer", "refresh_token": self.refresh}
            )


def tokens(api: FakeApi) -> OAuthTokens:
    return OAuthTokens(api.access, api.refresh, "client_1", TOKEN_URL)


def sync_client(api: FakeApi, **oauth: object) -> tuple[Kiln, OAuth, list[OAuthTokens]]:
    saved: list[OAuthTokens] = []
    auth = OAuth(tokens(api), on_refresh=saved.append, clock=lambda: NOW, **oauth)  # type: ignore[arg-type]
    return Kiln(base_url=BASE, oauth=auth, transport=httpx.MockTransport(api.handle)), auth, saved


def test_jwt_expiry_reads_exp_and_tolerates_other_tokens() -> None:
    assert jwt_expiry(jwt("a", NOW)) == NOW
    assert jwt_expiry("kiln_not_a_jwt") is None
    assert jwt_expiry("a.b.c") is None


def test_a_token_about_to_expire_is_refreshed_before_the_call() -> None:
    api = FakeApi(jwt("access-0", NOW + 30))  # inside the 60 s margin
    kiln, auth, saved = sync_client(api)
    assert kiln.get_project(PROJECT["id"]).id == PROJECT["id"]
    assert len(api.refreshes) == 1 and api.refreshes[0]["refresh_token"] == ["kilnrt_0"]
    assert api.calls == [f"Bearer {api.access}"], "the call went out once, with the new token"
    assert [t.refresh_token for t in saved] == ["kilnrt_1"] and auth.tokens.refresh_token == "kilnrt_1"


def test_a_fresh_token_is_used_as_is() -> None:
    api = FakeApi(jwt("access-0", NOW + 600))
    kiln, _, saved = sync_client(api)
    kiln.get_project(PROJECT["id"])
    assert api.refreshes == [] and saved == []


def test_a_401_refreshes_once_and_replays_the_call() -> None:
    api = FakeApi(jwt("access-0", NOW + 600))
    kiln, auth, saved = sync_client(api)
    stale = api.access
    api.access = "revoked-signing-key"  # the API refuses the token it still holds
    assert kiln.get_project(PROJECT["id"]).id == PROJECT["id"]
    assert len(api.refreshes) == 1
    assert api.calls == [f"Bearer {stale}", f"Bearer {api.access}"]
    assert saved == [auth.tokens] and auth.tokens.refresh_token == "kilnrt_1"


def test_a_second_401_is_the_answer_not_another_refresh() -> None:
    api = FakeApi(jwt("access-0", NOW + 600))

    def always_401(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return api.token(parse_qs(request.content.decode()))
        api.calls.append(request.headers["Authorization"])
        return httpx.Response(401, json={"success": False, "error": {"code": "UNAUTHORIZED", "message": "no"}})

    kiln = Kiln(base_url=BASE, oauth=OAuth(tokens(api), clock=lambda: NOW), transport=httpx.MockTransport(always_401))
    with pytest.raises(AuthenticationError) as raised:
        kiln.get_project(PROJECT["id"])
    assert raised.value.code == "UNAUTHORIZED"
    assert len(api.refreshes) == 1 and len(api.calls) == 2


def test_a_refused_refresh_raises_invalid_grant() -> None:
    api = FakeApi(jwt("access-0", NOW - 1), refresh="kilnrt_9")  # the stored refresh token is spent
    kiln = Kiln(
        base_url=BASE,
        oauth=OAuth(OAuthTokens(api.access, "kilnrt_0", "client_1", TOKEN_URL), clock=lambda: NOW),
        transport=httpx.MockTransport(api.handle),
    )
    with pytest.raises(AuthenticationError) as raised:
        kiln.get_project(PROJECT["id"])
    assert raised.value.code == "invalid_grant" and "kiln login --browser" in raised.value.message
    assert api.calls == [], "nothing was sent with the expired token"


def test_concurrent_calls_share_one_refresh() -> None:
    api = FakeApi(jwt("access-0", NOW + 10))
    kiln, _, saved = sync_client(api)
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            kiln.get_project(PROJECT["id"])
        except Exception as exc:  # noqa: BLE001 (collected: a thread's exception would otherwise vanish)
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(api.refreshes) == 1 and not api.revoked
    assert len(saved) == 1 and len(api.calls) == 8


def test_concurrent_async_calls_share_one_refresh_and_a_401_refreshes_once() -> None:
    api = FakeApi(jwt("access-0", NOW + 10))
    saved: list[OAuthTokens] = []
    auth = OAuth(tokens(api), on_refresh=saved.append, clock=lambda: NOW)

    async def run() -> None:
        async def handle(request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(0)
            return api.handle(request)

        async with AsyncKiln(base_url=BASE, oauth=auth, transport=httpx.MockTransport(handle)) as kiln:
            await asyncio.gather(*(kiln.get_project(PROJECT["id"]) for _ in range(8)))
            assert len(api.refreshes) == 1
            api.access = "revoked"  # every held token refused at once
            await asyncio.gather(*(kiln.get_project(PROJECT["id"]) for _ in range(4)))

    asyncio.run(run())
    assert len(api.refreshes) == 2 and not api.revoked
    assert [t.refresh_token for t in saved] == ["kilnrt_1", "kilnrt_2"]


def test_the_cli_config_keeps_the_rotated_token_0600() -> None:
    api = FakeApi(jwt("access-0", NOW + 30))
    write_oauth_config(tokens(api), BASE)
    credentials = resolve()
    assert credentials.api_key is None and credentials.oauth == tokens(api) and credentials.from_config
    with Kiln(transport=httpx.MockTransport(api.handle)) as kiln:  # the config's grant
        auth = kiln.auth
        assert isinstance(auth, OAuth)
        auth._clock = lambda: NOW  # the fake tokens' time
        kiln.get_project(PROJECT["id"])
    stored = read_config()
    assert stored["refreshToken"] == "kilnrt_1" and stored["accessToken"] == api.access
    assert stat.S_IMODE(os.stat(config_path()).st_mode) == 0o600


def test_tokens_another_process_saved_are_adopted_not_refreshed_again() -> None:
    """Two `kiln` processes with one grant: the second finds the first's rotated tokens in the
    config under the lock, and presents no spent refresh token (which would revoke the grant)."""
    api = FakeApi(jwt("access-0", NOW + 30))
    original = tokens(api)
    write_oauth_config(original, BASE)
    store = ConfigTokenStore(BASE)
    transport = httpx.MockTransport(api.handle)
    first = Kiln(base_url=BASE, oauth=OAuth(original, store=store, clock=lambda: NOW), transport=transport)
    second = Kiln(base_url=BASE, oauth=OAuth(original, store=store, clock=lambda: NOW), transport=transport)
    first.get_project(PROJECT["id"])
    second.get_project(PROJECT["id"])
    assert len(api.refreshes) == 1 and not api.revoked
    assert read_config()["refreshToken"] == "kilnrt_1"

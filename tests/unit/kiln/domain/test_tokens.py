"""Access tokens (RFC 9068) and the signing key set's rotation rule (kiln.domain.tokens)."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain import tokens
from kiln.domain.tokens import KeySet, KeySetError, PublicKeyCache, TokenError

ISSUER = "https://api.example.test/prod"
AUDIENCE = ISSUER
NOW = 1_800_000_000


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingFetch:
    def __init__(self, key_set: KeySet) -> None:
        self.key_set = key_set
        self.calls = 0

    def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return self.key_set.public_keys()


@pytest.fixture(scope="module")
def key_set() -> KeySet:
    return KeySet.initial(NOW)


def issue(key_set: KeySet, now: int = NOW, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "subject": "usr_1",
        "client_id": "cli_1",
        "scopes": ("project:read", "project:write"),
        "workspace": "ws_1",
        "now": now,
        "grant_id": "grant_1",
    }
    claims.update(overrides)
    return tokens.issue(key_set.signing_key(), **claims)


def verify(token: str, key_set: KeySet, now: int = NOW, **overrides: Any) -> tokens.AccessToken:
    cache = PublicKeyCache(CountingFetch(key_set), Clock())
    return tokens.verify(token, cache, **{"issuer": ISSUER, "audience": AUDIENCE, "now": now, **overrides})


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_round_trip(key_set: KeySet) -> None:
    token = issue(key_set)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "typ": "at+jwt", "kid": key_set.signing_key().kid}
    claims = verify(token, key_set)
    assert (claims.subject, claims.client_id, claims.workspace) == ("usr_1", "cli_1", "ws_1")
    assert claims.scope == "project:read project:write"
    assert claims.expires_at - claims.issued_at == 15 * 60
    assert claims.jti and claims.jti != verify(issue(key_set), key_set).jti
    assert claims.grant_id == "grant_1"


def test_a_token_without_its_grant_id_is_refused(key_set: KeySet) -> None:
    """Without `gid` a token could not be revoked with its grant: it is not one of ours."""
    key = key_set.signing_key()
    claims = jwt.decode(issue(key_set), options={"verify_signature": False})
    del claims["gid"]
    token = jwt.encode(claims, key.private_key(), algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt"})
    with pytest.raises(TokenError) as raised:
        verify(token, key_set)
    assert raised.value.reason == "signature"


def test_alg_none_is_refused(key_set: KeySet) -> None:
    claims = jwt.decode(issue(key_set), options={"verify_signature": False})
    forged = f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': key_set.signing_key().kid})}.{b64(claims)}."
    with pytest.raises(TokenError) as raised:
        verify(forged, key_set)
    assert raised.value.reason == "algorithm"


def test_hs256_signed_with_the_public_key_is_refused(key_set: KeySet) -> None:
    """The classic confusion: HMAC keyed with the public key's PEM, which anyone can read."""
    pem = (
        key_set.signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claims = jwt.decode(issue(key_set), options={"verify_signature": False})
    header = {"typ": "at+jwt", "kid": key_set.signing_key().kid}
    # pyjwt itself refuses a PEM as an HMAC secret; sign by hand as an attacker would.
    import hashlib
    import hmac

    signing_input = f"{b64({'alg': 'HS256', **header})}.{b64(claims)}"
    signature = base64.urlsafe_b64encode(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    forged = f"{signing_input}.{signature.rstrip(b'=').decode()}"
    with pytest.raises(TokenError) as raised:
        verify(forged, key_set)
    assert raised.value.reason == "algorithm"
    # Lying about the algorithm in the header does not help either: the signature is checked as ES256.
    lying = f"{b64({'alg': 'ES256', **header})}.{b64(claims)}.{signature.rstrip(b'=').decode()}"
    with pytest.raises(TokenError) as raised:
        verify(lying, key_set)
    assert raised.value.reason == "signature"


def test_a_key_not_in_the_set_is_refused(key_set: KeySet) -> None:
    stranger = KeySet.initial(NOW)
    with pytest.raises(TokenError) as raised:
        verify(issue(stranger), key_set)
    assert raised.value.reason == "kid"


def test_a_forged_kid_refreshes_the_set_at_most_once_per_cooldown(key_set: KeySet) -> None:
    stranger = KeySet.initial(NOW)
    forged = issue(stranger)
    fetch, clock = CountingFetch(key_set), Clock(1000.0)
    cache = PublicKeyCache(fetch, clock, cooldown_seconds=60)
    for _ in range(50):
        with pytest.raises(TokenError):
            tokens.verify(forged, cache, issuer=ISSUER, audience=AUDIENCE, now=NOW)
    assert fetch.calls == 1, "the first use fetches; unknown kids within the cooldown fetch nothing more"
    clock.now += 59
    with pytest.raises(TokenError):
        tokens.verify(forged, cache, issuer=ISSUER, audience=AUDIENCE, now=NOW)
    assert fetch.calls == 1
    clock.now += 1
    for _ in range(10):
        with pytest.raises(TokenError):
            tokens.verify(forged, cache, issuer=ISSUER, audience=AUDIENCE, now=NOW)
    assert fetch.calls == 2, "one refresh once the cooldown has passed"
    # A known kid never fetches.
    tokens.verify(issue(key_set), cache, issuer=ISSUER, audience=AUDIENCE, now=NOW)
    assert fetch.calls == 2


def test_a_new_key_is_found_after_one_refresh(key_set: KeySet) -> None:
    fetch, clock = CountingFetch(key_set), Clock()
    cache = PublicKeyCache(fetch, clock, cooldown_seconds=60)
    assert cache.key(key_set.signing_key().kid) is not None
    rotated = key_set.stage(NOW).promote(NOW + tokens.PUBLISH_LEAD_SECONDS)
    fetch.key_set = rotated
    clock.now = 60
    token = issue(rotated, now=NOW + tokens.PUBLISH_LEAD_SECONDS)
    assert tokens.verify(token, cache, issuer=ISSUER, audience=AUDIENCE, now=NOW + tokens.PUBLISH_LEAD_SECONDS)
    assert fetch.calls == 2


def test_expired(key_set: KeySet) -> None:
    token = issue(key_set)
    verify(token, key_set, now=NOW + 15 * 60 + tokens.CLOCK_SKEW_SECONDS - 1)
    with pytest.raises(TokenError) as raised:
        verify(token, key_set, now=NOW + 15 * 60 + tokens.CLOCK_SKEW_SECONDS)
    assert raised.value.reason == "expired"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"audience": "https://elsewhere.test"}, "audience"),
        ({"issuer": "https://elsewhere.test"}, "issuer"),
    ],
)
def test_wrong_audience_or_issuer(key_set: KeySet, overrides: dict[str, str], reason: str) -> None:
    with pytest.raises(TokenError) as raised:
        verify(issue(key_set), key_set, **overrides)
    assert raised.value.reason == reason


@pytest.mark.parametrize("typ", ["JWT", None, "at+jwt+extra"])
def test_wrong_typ(key_set: KeySet, typ: str | None) -> None:
    key = key_set.signing_key()
    claims = jwt.decode(issue(key_set), options={"verify_signature": False})
    headers: dict[str, Any] = {"kid": key.kid, "typ": typ}
    token = jwt.encode(claims, key.private_key(), algorithm="ES256", headers=headers)
    with pytest.raises(TokenError) as raised:
        verify(token, key_set)
    assert raised.value.reason == "typ"


def test_tampered_claims_are_refused(key_set: KeySet) -> None:
    head, _, signature = issue(key_set).split(".")
    claims = jwt.decode(issue(key_set), options={"verify_signature": False})
    claims["workspace"] = "ws_other"
    with pytest.raises(TokenError) as raised:
        verify(f"{head}.{b64(claims)}.{signature}", key_set)
    assert raised.value.reason == "signature"


def test_only_the_current_key_signs(key_set: KeySet) -> None:
    staged = key_set.stage(NOW)
    [next_key] = [k for k in staged.keys if k.state == "next"]
    with pytest.raises(KeySetError):
        tokens.issue(
            next_key,
            issuer=ISSUER,
            audience=AUDIENCE,
            subject="s",
            client_id="c",
            scopes=(),
            workspace="w",
            now=NOW,
            grant_id="g",
        )


def test_storage_round_trip_and_public_jwks(key_set: KeySet) -> None:
    staged = key_set.stage(NOW + 1)
    assert KeySet.from_json(staged.to_json()) == staged
    published = staged.jwks()["keys"]
    assert [k["kid"] for k in published] == [k.kid for k in staged.keys]
    for jwk in published:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "use", "alg"}, "no private member (d) is published"
        assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "sig", "ES256")
    with pytest.raises(KeySetError):
        KeySet.from_json('{"keys": [{"kid": 1}]}')


def test_promotion_waits_for_the_publish_lead(key_set: KeySet) -> None:
    staged = key_set.stage(NOW)
    with pytest.raises(KeySetError):
        staged.promote(NOW + tokens.PUBLISH_LEAD_SECONDS - 1)
    promoted = staged.promote(NOW + tokens.PUBLISH_LEAD_SECONDS)
    assert [k.state for k in promoted.keys] == ["retiring", "current"]
    assert len(promoted.prune(NOW + tokens.PUBLISH_LEAD_SECONDS + tokens.RETIRE_AFTER_SECONDS - 1).keys) == 2
    assert [k.state for k in promoted.prune(NOW + tokens.PUBLISH_LEAD_SECONDS + tokens.RETIRE_AFTER_SECONDS).keys] == [
        "current"
    ]
    assert tokens.PUBLISH_LEAD_SECONDS >= tokens.JWKS_MAX_AGE_SECONDS + tokens.SERVER_CACHE_SECONDS
    assert tokens.RETIRE_AFTER_SECONDS >= tokens.TOKEN_LIFETIME_SECONDS + tokens.CLOCK_SKEW_SECONDS


# --- the rotation rule as a property ------------------------------------------------------------

_counter = iter(range(10**9))


def cheap_key(now: int, state: tokens.KeyState = "next") -> tokens.SigningKey:
    """Key material is irrelevant to the rule: a placeholder kid keeps the property fast."""
    return tokens.SigningKey(
        kid=f"k{next(_counter)}",
        jwk={"kty": "EC", "crv": "P-256", "x": "x", "y": "y", "d": "d"},
        state=state,
        created_at=now,
        activated_at=now if state == "current" else None,
    )


steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3 * 3600), st.sampled_from(["stage", "promote", "prune", "advance"])),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(steps=steps, rotation_period=st.sampled_from([600, 3600, tokens.ROTATION_PERIOD_SECONDS]))
def test_a_token_verifies_against_every_jwks_published_during_its_life(
    steps: list[tuple[int, str]], rotation_period: int
) -> None:
    """Whatever the operator does and when, a token signed at t finds its key in the JWKS
    published at any time in [t, t + 15 min], and in any JWKS a verifier may still be holding
    from before t (the client's cache lifetime plus the serving function's)."""
    original = tokens.ROTATION_PERIOD_SECONDS
    tokens.ROTATION_PERIOD_SECONDS = rotation_period
    try:
        now = 0
        key_set = KeySet.initial(now, cheap_key)
        history: list[tuple[int, frozenset[str]]] = [(now, frozenset(k.kid for k in key_set.keys))]
        signed: list[tuple[int, str]] = [(now, key_set.signing_key().kid)]
        for delay, action in steps:
            now += delay
            if action == "stage":
                if any(k.state == "next" for k in key_set.keys):
                    continue
                key_set = key_set.stage(now, cheap_key)
            elif action == "promote":
                if not key_set.promotable(now):
                    continue
                key_set = key_set.promote(now)
            elif action == "prune":
                key_set = key_set.prune(now)
            else:
                key_set = key_set.advance(now, cheap_key)
            history.append((now, frozenset(k.kid for k in key_set.keys)))
            signed.append((now, key_set.signing_key().kid))
        end = now + tokens.TOKEN_LIFETIME_SECONDS + 1
        history.append((end, frozenset(k.kid for k in key_set.prune(end).keys)))

        def published_at(moment: int) -> frozenset[str]:
            return [kids for at, kids in history if at <= moment][-1]

        for signed_at, kid in signed:
            # The published set only changes at the recorded moments: check each one in the window.
            moments = {signed_at, signed_at + tokens.TOKEN_LIFETIME_SECONDS}
            moments |= {at for at, _ in history if signed_at <= at <= signed_at + tokens.TOKEN_LIFETIME_SECONDS}
            for moment in moments:
                assert kid in published_at(moment), (signed_at, moment)
            # Published before it signed: any cached JWKS no older than the lead has it (the first key excepted).
            stalest = signed_at - (tokens.JWKS_MAX_AGE_SECONDS + tokens.SERVER_CACHE_SECONDS)
            if stalest >= 0:
                assert kid in published_at(stalest) or kid == signed[0][1], (signed_at, stalest)
    finally:
        tokens.ROTATION_PERIOD_SECONDS = original

"""Access tokens (RFC 9068 JWTs signed with ES256) and the key set that signs them.

Boto3-free: the key set is a JSON document the Secrets Manager adapter reads and writes
(kiln.adapters.secrets); this module decides what it holds and when a key moves on.

Rotation, so that no verifier ever meets a token whose key it cannot find:
- a new key enters as `next`: published in the JWKS, never used to sign;
- it becomes `current` (the only signing key) once it has been published for at least
  PUBLISH_LEAD_SECONDS, the longest a verifier may hold an older copy of the JWKS (its HTTP
  cache lifetime plus the serving function's own cache), so every verifier that can see a
  token signed with it can already see the key;
- the key it replaces becomes `retiring`, still published, and is dropped only when the last
  token it signed has expired (TOKEN_LIFETIME_SECONDS plus CLOCK_SKEW_SECONDS after it stopped
  signing).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

# jwt and cryptography (about 50 ms of a cold start) are imported by the functions that sign,
# verify or make a key: the published JWKS and the constants need neither.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

ALGORITHM = "ES256"
TOKEN_TYPE = "at+jwt"
TOKEN_LIFETIME_SECONDS = 15 * 60
CLOCK_SKEW_SECONDS = 60
# What GET /.well-known/jwks.json tells clients to cache (Cache-Control max-age) ...
JWKS_MAX_AGE_SECONDS = 300
# ... and how long the function serving it keeps the set it read from Secrets Manager.
SERVER_CACHE_SECONDS = 60
# A next key is published at least this long before it signs anything.
PUBLISH_LEAD_SECONDS = JWKS_MAX_AGE_SECONDS + SERVER_CACHE_SECONDS
# A retiring key stays published this long after its last signature.
RETIRE_AFTER_SECONDS = TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS
# How old the current key may grow before advance() stages its successor.
ROTATION_PERIOD_SECONDS = 30 * 24 * 3600
# A verifier meeting an unknown kid refreshes its key set at most once per this window, so a
# flood of forged kids cannot become a flood of fetches.
REFRESH_COOLDOWN_SECONDS = 60.0

KeyState = Literal["next", "current", "retiring"]
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")


class TokenError(Exception):
    """The token is not one this server issued, or no longer valid; `reason` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeySetError(ValueError):
    """The stored key set is malformed, or a rotation step is not allowed now."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    jwk: Mapping[str, str]  # the private JWK (kty, crv, x, y, d)
    state: KeyState
    created_at: int  # published from then on
    activated_at: int | None = None  # became current
    retired_at: int | None = None  # stopped signing

    def public_jwk(self) -> dict[str, str]:
        return {
            **{name: self.jwk[name] for name in _PUBLIC_MEMBERS},
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }

    def private_key(self) -> ec.EllipticCurvePrivateKey:
        from cryptography.hazmat.primitives.asymmetric import ec
        from jwt.algorithms import ECAlgorithm

        key = ECAlgorithm.from_jwk(dict(self.jwk))
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeySetError(f"key {self.kid} holds no private key")
        return key

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key().public_key()


def generate_key(now: int, state: KeyState = "next") -> SigningKey:
    """A fresh P-256 key. The kid is random: it says nothing about the key or when it was made."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(private))
    kid = secrets.token_urlsafe(12)
    return SigningKey(
        kid=kid,
        jwk={name: jwk[name] for name in (*_PUBLIC_MEMBERS, "d")},
        state=state,
        created_at=now,
        activated_at=now if state == "current" else None,
    )


@dataclass(frozen=True)
class KeySet:
    keys: tuple[SigningKey, ...] = field(default=())

    @classmethod
    def initial(cls, now: int, generate: Callable[[int, KeyState], SigningKey] = generate_key) -> KeySet:
        """The first key signs at once: before it no token exists that a verifier could hold."""
        return cls((generate(now, "current"),))

    # --- storage --------------------------------------------------------------------------------

    @classmethod
    def from_json(cls, text: str) -> KeySet:
        try:
            document = json.loads(text)
            keys = tuple(
                SigningKey(
                    kid=item["kid"],
                    jwk={name: item["jwk"][name] for name in (*_PUBLIC_MEMBERS, "d")},
                    state=item["state"],
                    created_at=int(item["createdAt"]),
                    activated_at=item.get("activatedAt"),
                    retired_at=item.get("retiredAt"),
                )
                for item in document["keys"]
            )
        except (ValueError, KeyError, TypeError) as error:
            raise KeySetError(f"malformed key set: {error!r}") from None
        if sum(key.state == "current" for key in keys) > 1 or sum(key.state == "next" for key in keys) > 1:
            raise KeySetError("a key set holds at most one current and one next key")
        return cls(keys)

    def to_json(self) -> str:
        return json.dumps(
            {
                "keys": [
                    {
                        "kid": key.kid,
                        "jwk": dict(key.jwk),
                        "state": key.state,
                        "createdAt": key.created_at,
                        "activatedAt": key.activated_at,
                        "retiredAt": key.retired_at,
                    }
                    for key in self.keys
                ]
            }
        )

    # --- reading --------------------------------------------------------------------------------

    def in_state(self, state: KeyState) -> SigningKey | None:
        return next((key for key in self.keys if key.state == state), None)

    def signing_key(self) -> SigningKey:
        current = self.in_state("current")
        if current is None:
            raise KeySetError("the key set has no current key")
        return current

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Every key a verifier may meet: next (soon signing), current, and retiring ones."""
        return {"keys": [key.public_jwk() for key in self.keys]}

    def public_keys(self) -> dict[str, ec.EllipticCurvePublicKey]:
        return {key.kid: key.public_key() for key in self.keys}

    # --- rotation -------------------------------------------------------------------------------

    def stage(self, now: int, generate: Callable[[int, KeyState], SigningKey] = generate_key) -> KeySet:
        """Publish a new key as `next`."""
        if self.in_state("next") is not None:
            raise KeySetError("a next key is already published")
        return KeySet((*self.keys, generate(now, "next")))

    def promotable(self, now: int) -> bool:
        staged = self.in_state("next")
        return staged is not None and now - staged.created_at >= PUBLISH_LEAD_SECONDS

    def promote(self, now: int) -> KeySet:
        """The next key signs from now on; the current one retires (still published)."""
        if not self.promotable(now):
            raise KeySetError(f"a next key signs only after being published {PUBLISH_LEAD_SECONDS} s")
        keys = []
        for key in self.keys:
            if key.state == "current":
                key = replace(key, state="retiring", retired_at=now)
            elif key.state == "next":
                key = replace(key, state="current", activated_at=now)
            keys.append(key)
        return KeySet(tuple(keys))

    def prune(self, now: int) -> KeySet:
        """Drop the retiring keys whose last token has expired."""
        return KeySet(
            tuple(
                key
                for key in self.keys
                if not (key.state == "retiring" and now - (key.retired_at or 0) >= RETIRE_AFTER_SECONDS)
            )
        )

    def advance(self, now: int, generate: Callable[[int, KeyState], SigningKey] = generate_key) -> KeySet:
        """One scheduled rotation step: prune, promote a ripe next key, stage a successor for an
        old current key. Idempotent at a given time; run it as often as wanted."""
        if not self.keys:
            return KeySet.initial(now, generate)
        key_set = self.prune(now)
        if key_set.promotable(now):
            key_set = key_set.promote(now)
        current = key_set.in_state("current")
        if key_set.in_state("next") is None and (
            current is None or now - (current.activated_at or current.created_at) >= ROTATION_PERIOD_SECONDS
        ):
            key_set = key_set.stage(now, generate)
        return key_set


# --- tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessToken:
    subject: str
    client_id: str
    scope: str  # space-separated, as RFC 9068 says
    workspace: str
    issued_at: int
    expires_at: int
    jti: str
    # The grant (refresh-token family) the token was issued from: revoking it ends the token
    # before its expiry (kiln.domain.oauth.OAuthService.grant_active).
    grant_id: str


def issue(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    subject: str,
    client_id: str,
    scopes: tuple[str, ...],
    workspace: str,
    now: int,
    grant_id: str,
) -> str:
    if key.state != "current":
        raise KeySetError(f"key {key.kid} is {key.state}: only the current key signs")
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "workspace": workspace,
        "iat": now,
        "exp": now + TOKEN_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(16),
        "gid": grant_id,
    }
    import jwt

    return jwt.encode(claims, key.private_key(), algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE, "kid": key.kid})


class PublicKeyCache:
    """The verifier's copy of the key set. An unknown kid triggers at most one refresh per
    cooldown window (the clock is injected), never a fetch per request."""

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        clock: Callable[[], float],
        cooldown_seconds: float = REFRESH_COOLDOWN_SECONDS,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._cooldown = cooldown_seconds
        self._keys: Mapping[str, Any] = {}
        self._refreshed_at: float | None = None

    def _refresh(self) -> None:
        self._refreshed_at = self._clock()
        self._keys = dict(self._fetch())

    def key(self, kid: str) -> Any | None:
        if self._refreshed_at is None:
            self._refresh()
        if kid not in self._keys and self._clock() - (self._refreshed_at or 0.0) >= self._cooldown:
            self._refresh()
        return self._keys.get(kid)


_REQUIRED = ("iss", "aud", "sub", "client_id", "scope", "workspace", "iat", "exp", "jti", "gid")


def verify(token: str, keys: PublicKeyCache, *, issuer: str, audience: str, now: int) -> AccessToken:
    """The token's claims, or TokenError. The algorithm is fixed (ES256) before the header is
    trusted for anything, so `alg: none` and HS256 signed with the public key are refused."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise TokenError("malformed") from None
    if header.get("alg") != ALGORITHM:
        raise TokenError("algorithm")
    typ = str(header.get("typ", "")).lower()
    if typ not in (TOKEN_TYPE, f"application/{TOKEN_TYPE}"):
        raise TokenError("typ")
    kid = header.get("kid")
    key = keys.key(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenError("kid")
    try:
        # Expiry is checked below against the injected clock, with the same skew.
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": list(_REQUIRED), "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidAudienceError:
        raise TokenError("audience") from None
    except jwt.InvalidIssuerError:
        raise TokenError("issuer") from None
    except jwt.InvalidTokenError:
        raise TokenError("signature") from None
    if not isinstance(claims["exp"], int) or now >= claims["exp"] + CLOCK_SKEW_SECONDS:
        raise TokenError("expired")
    if not isinstance(claims["iat"], int) or claims["iat"] > now + CLOCK_SKEW_SECONDS:
        raise TokenError("issued in the future")
    return AccessToken(
        subject=str(claims["sub"]),
        client_id=str(claims["client_id"]),
        scope=str(claims["scope"]),
        workspace=str(claims["workspace"]),
        issued_at=claims["iat"],
        expires_at=claims["exp"],
        jti=str(claims["jti"]),
        grant_id=str(claims["gid"]),
    )

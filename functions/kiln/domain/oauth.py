"""The OAuth 2.1 authorization server: clients, authorization codes and grants. No AWS here.

Public clients only (PKCE S256, no secret, token_endpoint_auth_method "none"). The pieces:

- A **client** is registered by a workspace (admin) with exact redirect URIs and the scopes it
  may ever ask for. It is private to that workspace: a person of another workspace, or a
  caller of another workspace, meets it exactly as an unknown client.
- An **authorization code** (issued by the consent page through `issue_code`) lives 60 s, is
  bound to the client, the redirect URI, the PKCE challenge, the person and the granted scopes,
  and is stored only as its SHA-256. The grant it will open is named when the code is issued,
  so a second presentation knows which grant to revoke (RFC 6749 section 4.1.2, OAuth 2.1
  section 4.1.3: "SHOULD revoke all tokens issued based on that code").
- A **grant** is one refresh-token family: what a person allowed one client, with an absolute
  lifetime (config.oauth_refresh_lifetime_seconds). Every access token carries its id in the
  `gid` claim; the authorizer asks `grant_active` on every request, so revoking the grant
  (code reuse, refresh-token replay, /oauth/revoke, the client or the person deleted) ends
  every token of the family at once, not when the access token expires.
- A **refresh token** is opaque (256 random bits), stored hashed, and rotated on every use by
  one conditional write: of two concurrent refreshes with the same token exactly one wins.
  Presenting a token already rotated is a replay (the token leaked, or the client is
  confused): the whole family is revoked (OAuth 2.1 section 4.3.1).

Errors of the token, revocation and introspection endpoints are OAuthError (RFC 6749 section
5.2 codes, never the envelope); errors of the authorization request are AuthorizationRequestError
(RFC 6749 section 4.1.2.1), which the consent pages show or send back to the client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain import tokens
from kiln.domain.access import Principal, canonical_scopes, require_held_scopes
from kiln.domain.people import Person
from kiln.envelope import KilnError, not_found, validation_error

CODE_LIFETIME_SECONDS = 60
DEFAULT_REFRESH_LIFETIME_SECONDS = 30 * 24 * 3600
MAX_REDIRECT_URIS = 10
MAX_REDIRECT_URI_LENGTH = 2000
# Loopback hosts a native app may listen on over plain http, on any port (RFC 8252 section 7.3).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
# RFC 7636 section 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
# An S256 challenge is the base64url (no padding) of a SHA-256 digest: exactly 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Opaque credentials: 32 random bytes, base64url.
_OPAQUE = re.compile(r"^[A-Za-z0-9_-]{43}$")
REFRESH_TOKEN_PREFIX = "kilnrt_"


# --- errors ---------------------------------------------------------------------------------------


class AuthorizationRequestError(Exception):
    """A refused authorization request. `redirectable` is False when the client or the redirect
    URI cannot be trusted (RFC 6749 section 4.1.2.1: show the error, never redirect to it)."""

    def __init__(self, error: str, description: str, redirectable: bool) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirectable = redirectable


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error of the token, revocation or introspection endpoint."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


# Raised by the repository when a conditional write loses.
class CodeAlreadyUsed(Exception):
    """The code was redeemed before (or concurrently): nothing was written."""


class RefreshTokenSpent(Exception):
    """The refresh token is no longer active (rotated or revoked), or its grant is revoked:
    nothing was written."""


# --- the model ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuthClient:
    id: str
    workspace_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: str


def client_view(client: OAuthClient) -> dict[str, Any]:
    return {
        "id": client.id,
        "clientId": client.id,
        "name": client.name,
        "redirectUris": list(client.redirect_uris),
        "scopes": list(client.scopes),
        "workspaceId": client.workspace_id,
        "createdAt": client.created_at,
    }


@dataclass(frozen=True)
class AuthorizationCode:
    code_hash: str
    client_id: str
    workspace_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str
    scopes: tuple[str, ...]
    grant_id: str  # the grant redeeming it opens (named now, so a reuse knows what to revoke)
    expires_at: int  # epoch seconds
    used: bool = False


@dataclass(frozen=True)
class Grant:
    """One refresh-token family."""

    id: str
    workspace_id: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: int  # epoch seconds: no refresh after this
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class RefreshToken:
    token_hash: str
    grant_id: str
    client_id: str
    workspace_id: str
    user_id: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: int  # the family's absolute end
    status: str = "active"  # active | rotated


@dataclass(frozen=True)
class TokenResponse:
    """What POST /oauth/token answers (RFC 6749 section 5.1)."""

    access_token: str
    expires_in: int
    refresh_token: str
    scopes: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": " ".join(self.scopes),
        }


# --- ports ----------------------------------------------------------------------------------------


class OAuthRepository(Protocol):
    def insert_client(self, client: OAuthClient) -> None: ...

    def get_client(self, client_id: str) -> OAuthClient | None:
        """The client with this id, in any workspace (the caller checks the workspace)."""
        ...

    def delete_client(self, client: OAuthClient) -> bool:
        """Remove the client; False when already gone."""
        ...

    def list_clients_page(self, workspace_id: str, page: int, size: int) -> tuple[list[OAuthClient], int]: ...

    def list_clients_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[OAuthClient], dict[str, Any] | None]: ...

    def insert_code(self, code: AuthorizationCode) -> None: ...

    def get_code(self, code_hash: str) -> AuthorizationCode | None: ...

    def redeem_code(self, code: AuthorizationCode, grant: Grant, refresh: RefreshToken) -> None:
        """Mark the code used, create its grant and the grant's first refresh token, all in one
        transaction; CodeAlreadyUsed (nothing written) when the code was used meanwhile."""
        ...

    def get_grant(self, grant_id: str) -> Grant | None: ...

    def revoke_grant(self, grant_id: str, at: str) -> None:
        """Mark the grant revoked (idempotent; nothing happens for an unknown grant)."""
        ...

    def grant_ids_of_person(self, workspace_id: str, user_id: str) -> list[str]: ...

    def grant_ids_of_client(self, client_id: str) -> list[str]: ...

    def get_refresh_token(self, token_hash: str) -> RefreshToken | None: ...

    def rotate_refresh_token(self, current: RefreshToken, successor: RefreshToken, at: str) -> None:
        """In one transaction: `current` active -> rotated, `successor` written, its grant still
        active; RefreshTokenSpent (nothing written) when any of these conditions fails."""
        ...


class PersonReader(Protocol):
    def get_person(self, workspace_id: str, user_id: str) -> Person | None: ...


# --- helpers --------------------------------------------------------------------------------------


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _opaque() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 section 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def _uri_problem(uri: str) -> str | None:
    """Why a redirect URI cannot be registered, or None. https only, except plain http to a
    loopback host (any port); no fragment (RFC 6749 section 3.1.2); no credentials in it."""
    if not uri or len(uri) > MAX_REDIRECT_URI_LENGTH:
        return f"must be 1 to {MAX_REDIRECT_URI_LENGTH} characters"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        return "must not contain whitespace or control characters"
    if "#" in uri:
        return "must not contain a fragment"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return "must use https://, or http:// to localhost or 127.0.0.1"


def canonical_redirect_uris(uris: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The URIs as given (matching is exact: no normalisation), without repeats;
    VALIDATION_ERROR listing each bad one."""
    if not uris:
        raise validation_error(
            [{"field": "redirectUris", "location": "body", "message": "at least one is required", "type": "too_short"}]
        )
    if len(uris) > MAX_REDIRECT_URIS:
        raise validation_error(
            [
                {
                    "field": "redirectUris",
                    "location": "body",
                    "message": f"at most {MAX_REDIRECT_URIS}",
                    "type": "too_long",
                }
            ]
        )
    problems = [
        {"field": f"redirectUris.{i}", "location": "body", "message": problem, "type": "redirect_uri"}
        for i, uri in enumerate(uris)
        if (problem := _uri_problem(uri)) is not None
    ]
    if problems:
        raise validation_error(problems)
    return tuple(dict.fromkeys(uris))


def _client_not_found(client_id: str) -> KilnError:
    return not_found("oauthClient", client_id)


def _unknown_client() -> AuthorizationRequestError:
    # One answer for a missing client, another workspace's, and a malformed id.
    return AuthorizationRequestError("invalid_request", "Unknown client_id.", redirectable=False)


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


@dataclass(frozen=True)
class ClientRequest:
    """POST /v1/oauth/clients, after its shape has been checked."""

    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Introspection:
    """RFC 7662 answer; only `active` when the token is not active."""

    active: bool
    claims: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {"active": True, **self.claims} if self.active else {"active": False}


INACTIVE = Introspection(False, {})


class OAuthService:
    def __init__(
        self,
        repository: OAuthRepository,
        people: PersonReader,
        signing_keys: Callable[[], tokens.KeySet],
        clock: Clock = utc_now,
        refresh_lifetime_seconds: int = DEFAULT_REFRESH_LIFETIME_SECONDS,
    ) -> None:
        self._repository = repository
        self._people = people
        # The key set (current key signs; every published key verifies), cached by the caller.
        self._signing_keys = signing_keys
        self._clock = clock
        self._refresh_lifetime = refresh_lifetime_seconds

    def _epoch(self) -> int:
        return int(self._clock().timestamp())

    # --- clients (the /v1/oauth/clients routes) ---------------------------------------------------

    def create_client(self, caller: Principal, request: ClientRequest) -> OAuthClient:
        scopes = canonical_scopes(request.scopes)
        # A client can never ask a person for more than its registrar holds.
        require_held_scopes(caller, scopes, "This caller")
        redirect_uris = canonical_redirect_uris(request.redirect_uris)
        moment = self._clock()
        client = OAuthClient(
            id=ids.new_id("oauth_client", int(moment.timestamp() * 1000)),
            workspace_id=caller.workspace_id,
            name=request.name,
            redirect_uris=redirect_uris,
            scopes=scopes,
            created_at=iso(moment),
        )
        self._repository.insert_client(client)
        return client

    def get_client(self, caller: Principal, client_id: str) -> OAuthClient:
        client = self._repository.get_client(client_id) if ids.is_valid("oauth_client", client_id) else None
        if client is None or client.workspace_id != caller.workspace_id:
            raise _client_not_found(client_id)
        return client

    def delete_client(self, caller: Principal, client_id: str) -> None:
        """Remove the client and revoke every grant it holds: its tokens stop working at once."""
        client = self.get_client(caller, client_id)
        if not self._repository.delete_client(client):
            raise _client_not_found(client_id)
        at = iso(self._clock())
        for grant_id in self._repository.grant_ids_of_client(client.id):
            self._repository.revoke_grant(grant_id, at)

    def list_page(self, caller: Principal, page: int, size: int) -> tuple[list[OAuthClient], int]:
        return self._repository.list_clients_page(caller.workspace_id, page, size)

    def list_cursor(
        self, caller: Principal, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[OAuthClient], dict[str, Any] | None]:
        return self._repository.list_clients_cursor(caller.workspace_id, limit, after)

    # --- the authorization request (called by the /oauth/authorize pages) -------------------------

    def client_for_authorization(
        self, client_id: str, redirect_uri: str, workspace_id: str | None = None
    ) -> OAuthClient:
        """The client of an authorization request whose redirect URI is one of its own, matched
        exactly. Neither is trustworthy otherwise, so the error is never redirected. Pass the
        signed-in person's `workspace_id` once it is known: another workspace's client is then
        answered as an unknown one."""
        client = self._repository.get_client(client_id) if ids.is_valid("oauth_client", client_id) else None
        if client is None or (workspace_id is not None and client.workspace_id != workspace_id):
            raise _unknown_client()
        if redirect_uri not in client.redirect_uris:
            raise AuthorizationRequestError(
                "invalid_request", "redirect_uri is not registered for this client.", redirectable=False
            )
        return client

    def issue_code(
        self,
        client: OAuthClient,
        person: Person,
        redirect_uri: str,
        scopes: tuple[str, ...],
        code_challenge: str,
    ) -> str:
        """A fresh authorization code (returned once, stored hashed): 60 s, single use, bound to
        the client, the redirect URI, the S256 challenge and the person. Granted scopes are the
        requested ones the client may ask for and the person holds; none at all is invalid_scope."""
        # Checked again here, so a caller that skipped client_for_authorization cannot mint a
        # code for another workspace's client or an unregistered URI.
        if client.workspace_id != person.workspace_id:
            raise _unknown_client()
        if redirect_uri not in client.redirect_uris:
            raise AuthorizationRequestError(
                "invalid_request", "redirect_uri is not registered for this client.", redirectable=False
            )
        if not _CHALLENGE.match(code_challenge or ""):
            raise AuthorizationRequestError(
                "invalid_request",
                "code_challenge is required: the base64url SHA-256 of the code_verifier (S256), 43 characters.",
                redirectable=True,
            )
        granted = tuple(s for s in client.scopes if s in scopes and s in person.scopes)
        if not granted:
            raise AuthorizationRequestError(
                "invalid_scope", "None of the requested scopes can be granted to this client.", redirectable=True
            )
        code = _opaque()
        moment = self._clock()
        self._repository.insert_code(
            AuthorizationCode(
                code_hash=_sha256(code),
                client_id=client.id,
                workspace_id=client.workspace_id,
                user_id=person.id,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                scopes=granted,
                grant_id=ids.new_id("oauth_grant", int(moment.timestamp() * 1000)),
                expires_at=int(moment.timestamp()) + CODE_LIFETIME_SECONDS,
            )
        )
        return code

    # --- the token endpoint --------------------------------------------------------------------

    def exchange_code(
        self, code: str, client_id: str, redirect_uri: str, code_verifier: str, *, issuer: str
    ) -> TokenResponse:
        """grant_type=authorization_code: the code's first redemption opens its grant and answers
        an access token and the family's first refresh token. A second redemption (even a
        concurrent one) is refused and revokes that grant, so tokens obtained with a stolen or
        intercepted code stop working."""
        if not _VERIFIER.match(code_verifier):
            raise OAuthError("invalid_request", "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].")
        client = self._known_client(client_id)
        stored = self._repository.get_code(_sha256(code)) if _OPAQUE.match(code) else None
        if stored is None:
            raise _invalid_grant("The authorization code is unknown or expired.")
        if stored.used:
            self._repository.revoke_grant(stored.grant_id, iso(self._clock()))
            raise _invalid_grant("The authorization code was already used; the tokens issued with it are revoked.")
        now = self._epoch()
        if now >= stored.expires_at:
            raise _invalid_grant("The authorization code is unknown or expired.")
        if stored.client_id != client.id:
            raise _invalid_grant("The authorization code was issued to another client.")
        if stored.redirect_uri != redirect_uri:
            raise _invalid_grant("redirect_uri differs from the authorization request's.")
        if not hmac.compare_digest(s256(code_verifier), stored.code_challenge):
            raise _invalid_grant("code_verifier does not match the code_challenge.")
        person = self._people.get_person(stored.workspace_id, stored.user_id)
        if person is None:
            raise _invalid_grant("The person who authorized this code no longer exists.")
        at = iso(self._clock())
        grant = Grant(
            id=stored.grant_id,
            workspace_id=stored.workspace_id,
            user_id=stored.user_id,
            client_id=client.id,
            scopes=stored.scopes,
            created_at=at,
            expires_at=now + self._refresh_lifetime,
        )
        refresh_token, refresh = self._new_refresh_token(grant, at)
        try:
            self._repository.redeem_code(stored, grant, refresh)
        except CodeAlreadyUsed:
            # Another redemption won the race: this one is the reuse, and both lose the grant.
            self._repository.revoke_grant(stored.grant_id, at)
            raise _invalid_grant(
                "The authorization code was already used; the tokens issued with it are revoked."
            ) from None
        return self._answer(grant, person, grant.scopes, refresh_token, issuer=issuer, now=now)

    def refresh(self, refresh_token: str, client_id: str, scope: str | None, *, issuer: str) -> TokenResponse:
        """grant_type=refresh_token: a new access token and a new refresh token; the one presented
        is spent. A spent one presented again (a replay, or the loser of two concurrent
        refreshes) revokes the whole family."""
        client = self._known_client(client_id)
        current = self._find_refresh_token(refresh_token)
        if current is None or current.client_id != client.id:
            raise _invalid_grant("The refresh token is unknown, expired or revoked.")
        if current.status != "active":
            self._repository.revoke_grant(current.grant_id, iso(self._clock()))
            raise _invalid_grant("The refresh token was already used; its whole grant is revoked.")
        grant = self._repository.get_grant(current.grant_id)
        now = self._epoch()
        if grant is None or not grant.active or now >= grant.expires_at:
            raise _invalid_grant("The refresh token is unknown, expired or revoked.")
        person = self._people.get_person(grant.workspace_id, grant.user_id)
        if person is None:
            raise _invalid_grant("The person who authorized this grant no longer exists.")
        scopes = grant.scopes
        if scope is not None:
            requested = tuple(scope.split())
            beyond = [s for s in requested if s not in grant.scopes]
            if not requested or beyond:
                raise OAuthError("invalid_scope", f"scope must be within the granted scopes: {' '.join(grant.scopes)}.")
            scopes = tuple(s for s in grant.scopes if s in requested)
        at = iso(self._clock())
        new_token, successor = self._new_refresh_token(grant, at)
        try:
            self._repository.rotate_refresh_token(current, successor, at)
        except RefreshTokenSpent:
            self._repository.revoke_grant(current.grant_id, at)
            raise _invalid_grant("The refresh token was already used; its whole grant is revoked.") from None
        return self._answer(grant, person, scopes, new_token, issuer=issuer, now=now)

    def _answer(
        self, grant: Grant, person: Person, scopes: tuple[str, ...], refresh_token: str, *, issuer: str, now: int
    ) -> TokenResponse:
        # What the person still holds today: a scope taken from them since is not handed out.
        effective = tuple(s for s in scopes if s in person.scopes)
        if not effective:
            self._repository.revoke_grant(grant.id, iso(self._clock()))
            raise _invalid_grant("The person no longer holds any of the granted scopes.")
        access_token = tokens.issue(
            self._signing_keys().signing_key(),
            issuer=issuer,
            audience=issuer,
            subject=person.id,
            client_id=grant.client_id,
            scopes=effective,
            workspace=grant.workspace_id,
            now=now,
            grant_id=grant.id,
        )
        return TokenResponse(access_token, tokens.TOKEN_LIFETIME_SECONDS, refresh_token, effective)

    def _known_client(self, client_id: str) -> OAuthClient:
        client = self._repository.get_client(client_id) if ids.is_valid("oauth_client", client_id) else None
        if client is None:
            raise OAuthError("invalid_client", "Unknown client_id.")
        return client

    def _new_refresh_token(self, grant: Grant, at: str) -> tuple[str, RefreshToken]:
        token = REFRESH_TOKEN_PREFIX + _opaque()
        return token, RefreshToken(
            token_hash=_sha256(token),
            grant_id=grant.id,
            client_id=grant.client_id,
            workspace_id=grant.workspace_id,
            user_id=grant.user_id,
            scopes=grant.scopes,
            created_at=at,
            expires_at=grant.expires_at,
        )

    def _find_refresh_token(self, token: str) -> RefreshToken | None:
        if not token.startswith(REFRESH_TOKEN_PREFIX) or not _OPAQUE.match(token[len(REFRESH_TOKEN_PREFIX) :]):
            return None
        return self._repository.get_refresh_token(_sha256(token))

    def _access_token(self, token: str, issuer: str) -> tokens.AccessToken | None:
        key_set = self._signing_keys()
        keys = tokens.PublicKeyCache(key_set.public_keys, lambda: 0.0)
        try:
            return tokens.verify(token, keys, issuer=issuer, audience=issuer, now=self._epoch())
        except tokens.TokenError:
            return None

    # --- grants (the authorizer, the people service) -------------------------------------------

    def grant_active(self, grant_id: str) -> bool:
        """Whether access tokens of this grant still work: one read, on every token request."""
        if not ids.is_valid("oauth_grant", grant_id):
            return False
        grant = self._repository.get_grant(grant_id)
        return grant is not None and grant.active

    def end_all_grants(self, workspace_id: str, user_id: str) -> None:
        """Revoke every grant of a person (deleted, or their password changed)."""
        at = iso(self._clock())
        for grant_id in self._repository.grant_ids_of_person(workspace_id, user_id):
            self._repository.revoke_grant(grant_id, at)

    # --- revocation (RFC 7009) and introspection (RFC 7662) ------------------------------------

    def revoke(self, token: str, client_id: str, *, issuer: str) -> None:
        """Revoke the grant of a refresh or access token of this client. An unknown, expired or
        malformed token is no error (RFC 7009 section 2.2): the client's goal is met. Another
        client's token is refused and left alone."""
        client = self._known_client(client_id)
        refresh = self._find_refresh_token(token)
        if refresh is not None:
            owner, grant_id = refresh.client_id, refresh.grant_id
        else:
            access = self._access_token(token, issuer)
            if access is None:
                return
            owner, grant_id = access.client_id, access.grant_id
        if owner != client.id:
            raise OAuthError("unauthorized_client", "The token was not issued to this client.")
        self._repository.revoke_grant(grant_id, iso(self._clock()))

    def introspect(self, caller: Principal, token: str, *, issuer: str) -> Introspection:
        """RFC 7662: what an active token of the caller's workspace stands for; `active: false`
        alone for anything else (unknown, expired, revoked, another workspace's)."""
        now = self._epoch()
        refresh = self._find_refresh_token(token)
        if refresh is not None:
            if refresh.status != "active" or now >= refresh.expires_at or refresh.workspace_id != caller.workspace_id:
                return INACTIVE
            grant_id, user_id, client_id = refresh.grant_id, refresh.user_id, refresh.client_id
            scopes, issued_at, expires_at = refresh.scopes, _epoch_of(refresh.created_at), refresh.expires_at
            token_type, extra = "refresh_token", {}
        else:
            access = self._access_token(token, issuer)
            if access is None or access.workspace != caller.workspace_id:
                return INACTIVE
            grant_id, user_id, client_id = access.grant_id, access.subject, access.client_id
            scopes, issued_at, expires_at = tuple(access.scope.split()), access.issued_at, access.expires_at
            token_type, extra = "Bearer", {"jti": access.jti}
        if not self.grant_active(grant_id):
            return INACTIVE
        person = self._people.get_person(caller.workspace_id, user_id)
        if person is None:
            return INACTIVE
        return Introspection(
            True,
            {
                # What a resource server would honour today: the person's current scopes bound it.
                "scope": " ".join(s for s in scopes if s in person.scopes),
                "client_id": client_id,
                "sub": user_id,
                "exp": expires_at,
                "iat": issued_at,
                "iss": issuer,
                "aud": issuer,
                "token_type": token_type,
                "workspace": caller.workspace_id,
                **extra,
            },
        )


def _epoch_of(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp())

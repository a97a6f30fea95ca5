"""Workspaces, API keys and principals: who is calling and what they may do. No AWS here.

An API key is `kiln_` followed by 43 URL-safe base64 characters (32 random bytes). Only its
SHA-256 is stored; the secret itself is shown once, when the key is created or rotated. A
SHA-256 of a 256-bit random secret needs no salt or slow hash: it cannot be brute-forced or
looked up.

A key is stored under the hash of its current secret (one GetItem per authentication).
Rotating it writes the new secret's item with the same key id and keeps the previous
secret's item, marked superseded, valid until the end of a grace period
(ROTATION_GRACE_SECONDS); rotating again ends the earlier previous secret at once, so at
most two secrets of a key work at any moment. Revoking a key revokes both.

Key management follows one rule: a key can only create, rotate or revoke keys within its own
powers (scopes, path allow-list and lifetime); only `admin` reaches other workspaces, and
`admin` may revoke any key.

This module is imported by the authorizer, so it must not import pydantic.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now

# The caller, read by every function (kiln.http.request), lives apart so they need not load this module.
from kiln.domain.principals import ADMIN_SCOPE as ADMIN_SCOPE
from kiln.domain.principals import Principal as Principal
from kiln.envelope import ErrorCode, KilnError, error_headers, not_found, validation_error
from kiln.tiers import TIER_NAMES

logger = logging.getLogger("kiln.access")

KEY_PREFIX = "kiln_"
KEY_PATTERN = re.compile(r"^kiln_[A-Za-z0-9_-]{43}$")
DISPLAY_PREFIX_LENGTH = 12  # "kiln_" + 7 characters: enough to tell keys apart in a list
ALL_SCOPES: tuple[str, ...] = ("project:read", "project:write", "ai:invoke", "admin")

# How long a rotated key's previous secret keeps working (KILN_KEY_ROTATION_GRACE_SECONDS
# overrides it; see kiln.config): long enough to roll the new secret out to every client.
ROTATION_GRACE_SECONDS = 24 * 60 * 60
# lastUsedAt is kept to this resolution: the authorizer writes it at most once per period.
LAST_USED_RESOLUTION_SECONDS = 60
# The longest lifetime a key may be created with.
MAX_KEY_LIFETIME = timedelta(days=730)
MAX_ALLOWED_PATHS = 20
MAX_PATH_PATTERN_LENGTH = 200
# A path glob: starts with "/", printable, no whitespace.
_PATH_PATTERN = re.compile(r"^/[\x21-\x7e]*$")

# Pauses before reading the caller's own key again when gsi1 (eventually consistent) does not
# show it yet: keys are never deleted, so an authenticated key missing there is a moment old.
_INDEX_SETTLE_DELAYS = (0.2, 0.4, 0.8)

KEY_STATUSES: tuple[str, ...] = ("active", "rotated", "revoked", "expired")


def generate_secret() -> str:
    return KEY_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_well_formed(secret: str) -> bool:
    return bool(KEY_PATTERN.match(secret))


def parse_bearer(header: str | None) -> str | None:
    """The key from an `Authorization: Bearer <key>` header, or None when absent or malformed."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not is_well_formed(token):
        return None
    return token


# --- path globs ------------------------------------------------------------------------------
# The allow-list grammar of kiln.http.api: `*` stays within one path segment, `**` crosses
# segments, `?` is one character other than "/".

_DSTAR, _STAR, _ANY = "**", "*", "?"


def _tokens(pattern: str) -> tuple[str, ...]:
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**", index):
            out.append(_DSTAR)
            index += 2
        else:
            out.append(pattern[index])
            index += 1
    return tuple(out)


def glob_within(inner: str, outer: str) -> bool:
    """True when every path `inner` matches is also matched by `outer`.

    A symbolic match of the two patterns: sound (never True wrongly), and complete for the
    patterns people write (`/v1/projects/*` within `/v1/projects/**`, a literal path within
    a glob, equal patterns).
    """
    a, b = _tokens(inner), _tokens(outer)

    def segment_token(token: str) -> bool:  # matches only text without "/"
        return token not in (_DSTAR, "/")

    @cache
    def match(i: int, j: int) -> bool:
        if j == len(b):
            return i == len(a)
        token = b[j]
        if token == _DSTAR:
            return any(match(k, j + 1) for k in range(i, len(a) + 1))
        if token == _STAR:
            k = i
            while True:
                if match(k, j + 1):
                    return True
                if k == len(a) or not segment_token(a[k]):
                    return False
                k += 1
        if i == len(a):
            return False
        if token == _ANY:
            return a[i] not in (_DSTAR, _STAR, "/") and match(i + 1, j + 1)
        return a[i] == token and match(i + 1, j + 1)

    return match(0, 0)


# --- validation of key requests (400s) -------------------------------------------------------


def _field_error(name: str, message: str, kind: str) -> dict[str, str]:
    return {"field": name, "location": "body", "message": message, "type": kind}


def canonical_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Known scopes, without repeats, in ALL_SCOPES order; VALIDATION_ERROR otherwise."""
    if not scopes:
        raise validation_error([_field_error("scopes", "at least one scope is required", "too_short")])
    unknown = [(i, s) for i, s in enumerate(scopes) if s not in ALL_SCOPES]
    if unknown:
        raise validation_error(
            [
                _field_error(f"scopes.{i}", f"unknown scope {s!r}; known: {', '.join(ALL_SCOPES)}", "scope_unknown")
                for i, s in unknown
            ]
        )
    return tuple(s for s in ALL_SCOPES if s in scopes)


def canonical_paths(patterns: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Path globs without repeats, in the order given; VALIDATION_ERROR for a bad one."""
    if len(patterns) > MAX_ALLOWED_PATHS:
        raise validation_error([_field_error("allowedPaths", f"at most {MAX_ALLOWED_PATHS} patterns", "too_long")])
    problems = []
    for index, pattern in enumerate(patterns):
        if len(pattern) > MAX_PATH_PATTERN_LENGTH:
            problems.append(
                _field_error(
                    f"allowedPaths.{index}", f"at most {MAX_PATH_PATTERN_LENGTH} characters", "string_too_long"
                )
            )
        elif not _PATH_PATTERN.match(pattern):
            problems.append(
                _field_error(
                    f"allowedPaths.{index}",
                    "a path glob starts with '/' and has no spaces or control characters",
                    "path_pattern",
                )
            )
    if problems:
        raise validation_error(problems)
    return tuple(dict.fromkeys(patterns))


def check_tier(tier: str, field_name: str = "tier") -> str:
    if tier not in TIER_NAMES:
        raise validation_error(
            [_field_error(field_name, f"unknown tier {tier!r}; known: {', '.join(TIER_NAMES)}", "tier_unknown")]
        )
    return tier


# --- models ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    tier: str
    usage_key_id: str  # API Gateway API key that meters this workspace in its tier's usage plan
    usage_key_value: str
    created_at: str
    updated_at: str = ""


def workspace_view(workspace: Workspace) -> dict[str, Any]:
    """A workspace as the API shows it (its usage key stays internal)."""
    return {
        "id": workspace.id,
        "name": workspace.name,
        "tier": workspace.tier,
        "createdAt": workspace.created_at,
        "updatedAt": workspace.updated_at or workspace.created_at,
    }


@dataclass(frozen=True)
class ApiKey:
    """One secret of a key: the current one, or a superseded one still in its grace period."""

    id: str
    workspace_id: str
    name: str
    prefix: str
    secret_hash: str
    scopes: tuple[str, ...]
    allowed_paths: tuple[str, ...] = ()
    created_at: str = ""
    expires_at: str | None = None
    revoked_at: str | None = None
    last_used_at: str | None = None
    rotated_at: str | None = None
    # On the current secret after a rotation: the secret it replaced and when that one stops.
    previous_secret_hash: str | None = None
    previous_secret_expires_at: str | None = None
    # On a superseded secret: when it was replaced, by which secret, and its grace period's end.
    superseded_at: str | None = None
    replaced_by: str | None = None
    grace_until: str | None = None

    def usable_at(self, moment: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        now = iso(moment)
        if self.grace_until is not None and now >= self.grace_until:
            return False
        return self.expires_at is None or now < self.expires_at

    def status_at(self, moment: datetime) -> str:
        """active | rotated (a previous secret still works) | revoked | expired."""
        now = iso(moment)
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        if self.superseded_at is not None or (
            self.previous_secret_expires_at is not None and now < self.previous_secret_expires_at
        ):
            return "rotated"
        return "active"

    def previous_secret_valid_at(self, moment: datetime) -> bool:
        return (
            self.previous_secret_hash is not None
            and self.previous_secret_expires_at is not None
            and iso(moment) < self.previous_secret_expires_at
        )


def key_view(key: ApiKey, moment: datetime) -> dict[str, Any]:
    """A key as the API lists it: never its secret or hash; prefix and last use are fine."""
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "allowedPaths": list(key.allowed_paths),
        "status": key.status_at(moment),
        "workspaceId": key.workspace_id,
        "createdAt": key.created_at,
        "expiresAt": key.expires_at,
        "lastUsedAt": key.last_used_at,
        "revokedAt": key.revoked_at,
        "rotatedAt": key.rotated_at,
        "previousSecretExpiresAt": key.previous_secret_expires_at,
    }


@dataclass(frozen=True)
class KeyRequest:
    """POST /v1/api-keys, after its shape has been checked."""

    name: str
    scopes: tuple[str, ...]
    allowed_paths: tuple[str, ...] = ()
    expires_at: datetime | None = None
    workspace_id: str | None = None


class KeyChanged(Exception):
    """The key item changed between read and write (a concurrent rotation or revocation)."""


class AccessRepository(Protocol):
    def get_key_by_hash(self, secret_hash: str, consistent: bool = False) -> ApiKey | None: ...

    def find_key(self, workspace_id: str, key_id: str) -> ApiKey | None:
        """The current secret's item of a key of this workspace (never another workspace's)."""
        ...

    def insert_key(self, key: ApiKey) -> None: ...

    def rotate_key(self, current: ApiKey, new: ApiKey, at: str, end_previous: str | None) -> None:
        """Put `new`, mark `current` superseded until `new.previous_secret_expires_at`, and end
        the secret `end_previous` (the one `current` replaced) at once; KeyChanged if
        `current` was revoked or rotated meanwhile."""
        ...

    def revoke_key(self, key: ApiKey, at: str) -> ApiKey | None:
        """Set revokedAt (first time only) on the key and its previous secret; None when the
        item was superseded meanwhile (read again and retry)."""
        ...

    def touch_key(self, secret_hash: str, at: str, stale_before: str) -> None:
        """Best effort: lastUsedAt = at, if it is unset or older than stale_before. Never raises."""
        ...

    def list_keys_page(self, workspace_id: str, page: int, size: int) -> tuple[list[ApiKey], int]: ...

    def list_keys_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[ApiKey], dict[str, Any] | None]: ...

    def get_workspace(self, workspace_id: str, consistent: bool = False) -> Workspace | None: ...

    def insert_workspace(self, workspace: Workspace) -> None: ...

    def update_workspace(self, workspace_id: str, changes: dict[str, str]) -> Workspace | None:
        """Set the given attributes (name, tier, updatedAt); None when the workspace is missing."""
        ...

    def list_workspaces_page(self, page: int, size: int) -> tuple[list[Workspace], int]: ...

    def list_workspaces_cursor(
        self, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Workspace], dict[str, Any] | None]: ...


class UsageKeys(Protocol):
    """The gateway-side meter of a workspace (API Gateway API keys in usage plans)."""

    def create(self, workspace_id: str, tier: str) -> tuple[str, str]:
        """Create a usage key attached to the tier's plan; returns (key id, key value)."""
        ...

    def move(self, key_id: str, from_tier: str, to_tier: str) -> None:
        """Move the key from one tier's plan to another's; on failure it is left in the old one."""
        ...

    def delete(self, key_id: str) -> None:
        """Delete a usage key (undoing a workspace that could not be stored)."""
        ...


@dataclass(frozen=True)
class Authentication:
    principal: Principal
    usage_key_value: str


def _best_effort(undo: Any, *args: Any) -> None:
    """Run a compensating step; its own failure must not hide the error being handled."""
    try:
        undo(*args)
    except Exception:  # the original error is re-raised by the caller
        logger.exception("compensating step %s failed", getattr(undo, "__name__", undo))


def _forbidden(message: str, details: dict[str, Any], scope: str | None = None) -> KilnError:
    return KilnError(ErrorCode.FORBIDDEN, message, details, headers=error_headers(ErrorCode.FORBIDDEN, scope))


def managed_workspace(
    caller: Principal,
    requested: str | None,
    location: str,
    *,
    refusal: str,
    workspace_exists: Callable[[str], bool],
) -> str:
    """The workspace a call manages (keys, people): the caller's own, or, for the admin scope only,
    another one that exists. `refusal` is the message for a caller without the admin scope."""
    if requested is None or requested == caller.workspace_id:
        return caller.workspace_id
    if not ids.is_valid("workspace", requested):
        raise validation_error(
            [{"field": "workspaceId", "location": location, "message": "not a workspace id", "type": "id_format"}]
        )
    if not caller.is_admin:
        raise _forbidden(refusal, {"requiredScopes": [ADMIN_SCOPE], "missingScopes": [ADMIN_SCOPE]}, ADMIN_SCOPE)
    if not workspace_exists(requested):
        raise not_found("workspace", requested)
    return requested


def require_held_scopes(caller: Principal, scopes: tuple[str, ...], who: str) -> None:
    """A caller never grants a scope it does not hold (to a key or a person); `who` names the
    caller in the message ("This key")."""
    missing = [s for s in scopes if s not in caller.scopes]
    if missing:
        names = " ".join(missing)
        raise _forbidden(
            f"{who} cannot grant scopes it does not hold: {names}.",
            {"missingScopes": missing, "heldScopes": sorted(caller.scopes)},
            names,
        )


def _key_not_found(key_id: str) -> KilnError:
    return KilnError(ErrorCode.NOT_FOUND, "API key not found.", {"resource": "apiKey", "id": key_id})


class AccessService:
    def __init__(
        self,
        repository: AccessRepository,
        usage_keys: UsageKeys,
        clock: Clock = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._repository = repository
        self._usage_keys = usage_keys
        self._clock = clock
        self._sleep = sleep

    def now(self) -> datetime:
        """The service's clock (a key's status is computed against it)."""
        return self._clock()

    # --- authentication (the authorizer) ---------------------------------------------------

    def authenticate(self, authorization_header: str | None) -> Authentication | None:
        """Resolve a bearer header to a principal; None for anything that must answer 401."""
        secret = parse_bearer(authorization_header)
        if secret is None:
            return None
        # The lookup is by hash, so a found key matches; nothing secret is compared in Python.
        # Reads are eventually consistent, which can miss a key (or workspace) written a moment
        # ago: a miss is confirmed by a consistent read before it becomes a 401, so a fresh key
        # works at once and only unknown secrets pay the second read.
        secret_hash = hash_secret(secret)
        key = self._repository.get_key_by_hash(secret_hash) or self._repository.get_key_by_hash(
            secret_hash, consistent=True
        )
        now = self._clock()
        if key is None or not key.usable_at(now):
            return None
        # Read per authentication, so a tier change shows on the workspace's next request
        # (once API Gateway's cached answer for the token has expired).
        workspace = self._repository.get_workspace(key.workspace_id) or self._repository.get_workspace(
            key.workspace_id, consistent=True
        )
        if workspace is None:
            return None
        stale_before = iso(now - timedelta(seconds=LAST_USED_RESOLUTION_SECONDS))
        if key.last_used_at is None or key.last_used_at < stale_before:
            self._repository.touch_key(key.secret_hash, iso(now), stale_before)
        principal = Principal(
            workspace_id=workspace.id,
            key_id=key.id,
            scopes=frozenset(key.scopes),
            tier=workspace.tier,
            allowed_paths=key.allowed_paths,
        )
        return Authentication(principal, workspace.usage_key_value)

    # --- workspaces (admin) ------------------------------------------------------------------

    def create_workspace(self, name: str, tier: str) -> Workspace:
        check_tier(tier)
        workspace_id = ids.new_id("workspace")
        usage_key_id, usage_key_value = self._usage_keys.create(workspace_id, tier)
        now = iso(self._clock())
        workspace = Workspace(workspace_id, name, tier, usage_key_id, usage_key_value, now, now)
        try:
            self._repository.insert_workspace(workspace)
        except Exception:
            _best_effort(self._usage_keys.delete, usage_key_id)  # no meter without its workspace
            raise
        return workspace

    def get_workspace(self, workspace_id: str) -> Workspace:
        workspace = self._repository.get_workspace(workspace_id, consistent=True)
        if workspace is None:
            raise not_found("workspace", workspace_id)
        return workspace

    def update_workspace(self, workspace_id: str, name: str | None = None, tier: str | None = None) -> Workspace:
        """Rename and/or change the tier: the usage key moves to the new tier's plan first, then
        the item changes; a failed move leaves the key in the old plan and the item unchanged."""
        workspace = self.get_workspace(workspace_id)
        changes: dict[str, str] = {"updatedAt": iso(self._clock())}
        if name is not None:
            changes["name"] = name
        if tier is not None and tier != workspace.tier:
            check_tier(tier)
            self._usage_keys.move(workspace.usage_key_id, workspace.tier, tier)
            changes["tier"] = tier
        try:
            updated = self._repository.update_workspace(workspace_id, changes)
        except Exception:
            if "tier" in changes:
                # Put the meter back where the item says it is; a retried PATCH converges anyway.
                _best_effort(self._usage_keys.move, workspace.usage_key_id, changes["tier"], workspace.tier)
            raise
        if updated is None:
            raise not_found("workspace", workspace_id)
        return updated

    def list_workspaces_page(self, page: int, size: int) -> tuple[list[Workspace], int]:
        return self._repository.list_workspaces_page(page, size)

    def list_workspaces_cursor(
        self, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Workspace], dict[str, Any] | None]:
        return self._repository.list_workspaces_cursor(limit, after)

    # --- keys ----------------------------------------------------------------------------------

    def mint_key(
        self,
        workspace_id: str,
        name: str,
        scopes: tuple[str, ...],
        secret: str | None = None,
        allowed_paths: tuple[str, ...] = (),
        expires_at: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Store a new key for the workspace; returns it with its secret (shown once).

        No permission checks: for the bootstrap and for create_key, which has made them.
        """
        secret = secret or generate_secret()
        if not is_well_formed(secret):
            raise ValueError("an API key is 'kiln_' followed by 43 URL-safe base64 characters")
        key = ApiKey(
            id=ids.new_id("api_key"),
            workspace_id=workspace_id,
            name=name,
            prefix=secret[:DISPLAY_PREFIX_LENGTH],
            secret_hash=hash_secret(secret),
            scopes=scopes,
            allowed_paths=allowed_paths,
            created_at=iso(self._clock()),
            expires_at=expires_at,
        )
        self._repository.insert_key(key)
        return key, secret

    def find_key(self, secret: str) -> ApiKey | None:
        return self._repository.get_key_by_hash(hash_secret(secret)) if is_well_formed(secret) else None

    def create_key(self, caller: Principal, request: KeyRequest) -> tuple[ApiKey, str]:
        now = self._clock()
        caller_expiry = self._caller_expiry(caller, now)
        workspace_id = self._target_workspace(caller, request.workspace_id, "body")
        scopes = canonical_scopes(request.scopes)
        paths = canonical_paths(request.allowed_paths)
        expires_at = self._new_key_expiry(request.expires_at, now)
        if caller_expiry is not None and expires_at is None:
            expires_at = caller_expiry  # a key never outlives the key that made it
        self._check_within_powers(caller, caller_expiry, scopes, paths, expires_at)
        return self.mint_key(workspace_id, request.name, scopes, allowed_paths=paths, expires_at=expires_at)

    def list_keys_page(
        self, caller: Principal, workspace_id: str | None, page: int, size: int
    ) -> tuple[list[ApiKey], int]:
        return self._repository.list_keys_page(self._target_workspace(caller, workspace_id, "query"), page, size)

    def list_keys_cursor(
        self, caller: Principal, workspace_id: str | None, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[ApiKey], dict[str, Any] | None]:
        return self._repository.list_keys_cursor(self._target_workspace(caller, workspace_id, "query"), limit, after)

    def revoke_key(self, caller: Principal, key_id: str, workspace_id: str | None = None) -> ApiKey:
        """Revoke a key and its previous secret; idempotent (the first revokedAt stays)."""
        now = self._clock()
        caller_expiry = self._caller_expiry(caller, now)
        target = self._target_workspace(caller, workspace_id, "query")
        key = self._repository.find_key(target, key_id)
        if key is None:
            raise _key_not_found(key_id)
        if not caller.is_admin:
            self._check_within_powers(caller, caller_expiry, key.scopes, key.allowed_paths, None)
        for _ in range(3):
            revoked = self._repository.revoke_key(key, iso(now))
            if revoked is not None:
                return revoked
            # Rotated meanwhile: revoke the key's new current secret (and so this one too).
            key = self._repository.find_key(target, key_id)
            if key is None:
                raise _key_not_found(key_id)
        raise self._concurrent_change()

    def rotate_key(
        self, caller: Principal, key_id: str, workspace_id: str | None = None, grace: timedelta | None = None
    ) -> tuple[ApiKey, str]:
        """A new secret for the same key; the previous one works until the grace period ends."""
        now = self._clock()
        caller_expiry = self._caller_expiry(caller, now)
        target = self._target_workspace(caller, workspace_id, "query")
        key = self._repository.find_key(target, key_id)
        if key is None:
            raise _key_not_found(key_id)
        status = key.status_at(now)
        if status in ("revoked", "expired"):
            raise KilnError(
                ErrorCode.CONFLICT,
                f"A {status} key cannot be rotated; create a new key.",
                {"currentStatus": status, "allowedFrom": ["active", "rotated"]},
            )
        self._check_within_powers(caller, caller_expiry, key.scopes, key.allowed_paths, key.expires_at)
        grace = timedelta(seconds=ROTATION_GRACE_SECONDS) if grace is None else max(grace, timedelta(0))
        grace_until = iso(now + grace)
        if key.expires_at is not None and key.expires_at < grace_until:
            grace_until = key.expires_at  # the previous secret never outlives the key
        secret = generate_secret()
        rotated = replace(
            key,
            prefix=secret[:DISPLAY_PREFIX_LENGTH],
            secret_hash=hash_secret(secret),
            rotated_at=iso(now),
            previous_secret_hash=key.secret_hash,
            previous_secret_expires_at=grace_until,
            superseded_at=None,
            replaced_by=None,
            grace_until=None,
        )
        # At most two working secrets: an earlier previous secret still in its grace ends now.
        end_previous = key.previous_secret_hash if key.previous_secret_valid_at(now) else None
        try:
            self._repository.rotate_key(key, rotated, iso(now), end_previous)
        except KeyChanged:
            raise self._concurrent_change() from None
        return rotated, secret

    # --- rules -----------------------------------------------------------------------------------

    def _caller_expiry(self, caller: Principal, now: datetime) -> str | None:
        """The latest a key managed by this caller may live: its own key's expiry, read again
        (None: unbounded). A person has no key to outlive: the authorizer checked the session,
        or the token's grant and person, on this very request."""
        if caller.credential != "key":
            return None
        return self._live_caller_key(caller, now).expires_at

    def _live_caller_key(self, caller: Principal, now: datetime) -> ApiKey:
        """The caller's own key, read again: within the authorizer cache's 60 s a revoked or
        expired key still reaches the functions, but it must not mint, rotate or revoke keys."""
        key = self._repository.find_key(caller.workspace_id, caller.key_id)
        for delay in _INDEX_SETTLE_DELAYS:
            if key is not None:
                break
            self._sleep(delay)
            key = self._repository.find_key(caller.workspace_id, caller.key_id)
        if key is None or not key.usable_at(now):
            raise KilnError(
                ErrorCode.UNAUTHORIZED, "This key is revoked or expired.", headers=error_headers(ErrorCode.UNAUTHORIZED)
            )
        return key

    def _target_workspace(self, caller: Principal, requested: str | None, location: str) -> str:
        """The workspace whose keys are managed: the caller's, or (admin only) one named."""
        return managed_workspace(
            caller,
            requested,
            location,
            refusal="Only a key with the admin scope can manage another workspace's keys.",
            workspace_exists=lambda ws: self._repository.get_workspace(ws, consistent=True) is not None,
        )

    def _new_key_expiry(self, expires_at: datetime | None, now: datetime) -> str | None:
        if expires_at is None:
            return None
        if expires_at <= now:
            raise validation_error([_field_error("expiresAt", "must be in the future", "expiry_past")])
        if expires_at > now + MAX_KEY_LIFETIME:
            raise validation_error(
                [_field_error("expiresAt", "must be at most 2 years (730 days) ahead", "expiry_too_far")]
            )
        return iso(expires_at)

    @staticmethod
    def _check_within_powers(
        caller: Principal,
        caller_expiry: str | None,
        scopes: tuple[str, ...],
        paths: tuple[str, ...],
        expires_at: str | None,
    ) -> None:
        require_held_scopes(caller, scopes, "This key" if caller.credential == "key" else "This person")
        if caller.allowed_paths:
            if not paths:
                raise _forbidden(
                    "This key is limited to a path allow-list; the keys it manages must be limited within it.",
                    {"allowedPaths": list(caller.allowed_paths)},
                )
            outside = [p for p in paths if not any(glob_within(p, mine) for mine in caller.allowed_paths)]
            if outside:
                raise _forbidden(
                    "These paths are outside this key's own allow-list: " + ", ".join(outside) + ".",
                    {"pathsOutsideAllowList": outside, "allowedPaths": list(caller.allowed_paths)},
                )
        if caller_expiry is not None and (expires_at is None or expires_at > caller_expiry):
            raise _forbidden(
                "A key cannot manage a key that outlives it.",
                {"callerExpiresAt": caller_expiry, "expiresAt": expires_at},
            )

    @staticmethod
    def _concurrent_change() -> KilnError:
        return KilnError(
            ErrorCode.CONFLICT, "The key changed while this request ran; retry.", {"reason": "concurrent_change"}
        )

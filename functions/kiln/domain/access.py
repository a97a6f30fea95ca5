"""Workspaces, API keys and principals: who is calling and what they may do. No AWS here.

An API key is `kiln_` followed by 43 URL-safe base64 characters (32 random bytes). Only its
SHA-256 is stored; the secret itself is shown once, when the key is created. A SHA-256 of a
256-bit random secret needs no salt or slow hash: it cannot be brute-forced or looked up.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now

KEY_PREFIX = "kiln_"
KEY_PATTERN = re.compile(r"^kiln_[A-Za-z0-9_-]{43}$")
DISPLAY_PREFIX_LENGTH = 12  # "kiln_" + 7 characters: enough to tell keys apart in a list
ALL_SCOPES: tuple[str, ...] = ("project:read", "project:write", "ai:invoke", "admin")


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


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    tier: str
    usage_key_id: str  # API Gateway API key that meters this workspace in its tier's usage plan
    usage_key_value: str
    created_at: str


@dataclass(frozen=True)
class ApiKey:
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

    def usable_at(self, moment: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or iso(moment) < self.expires_at


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the authorizer hands it to every function."""

    workspace_id: str
    key_id: str
    scopes: frozenset[str]
    tier: str
    allowed_paths: tuple[str, ...] = field(default=())


class AccessRepository(Protocol):
    def get_key_by_hash(self, secret_hash: str) -> ApiKey | None: ...

    def get_workspace(self, workspace_id: str) -> Workspace | None: ...

    def insert_workspace(self, workspace: Workspace) -> None: ...

    def insert_key(self, key: ApiKey) -> None: ...


class UsageKeys(Protocol):
    """The gateway-side meter of a workspace (API Gateway API keys in usage plans)."""

    def create(self, workspace_id: str, tier: str) -> tuple[str, str]:
        """Create a usage key attached to the tier's plan; returns (key id, key value)."""
        ...


@dataclass(frozen=True)
class Authentication:
    principal: Principal
    usage_key_value: str


class AccessService:
    def __init__(self, repository: AccessRepository, usage_keys: UsageKeys, clock: Clock = utc_now) -> None:
        self._repository = repository
        self._usage_keys = usage_keys
        self._clock = clock

    def authenticate(self, authorization_header: str | None) -> Authentication | None:
        """Resolve a bearer header to a principal; None for anything that must answer 401."""
        secret = parse_bearer(authorization_header)
        if secret is None:
            return None
        # The lookup is by hash, so a found key matches; nothing secret is compared in Python.
        key = self._repository.get_key_by_hash(hash_secret(secret))
        if key is None or not key.usable_at(self._clock()):
            return None
        workspace = self._repository.get_workspace(key.workspace_id)
        if workspace is None:
            return None
        principal = Principal(
            workspace_id=workspace.id,
            key_id=key.id,
            scopes=frozenset(key.scopes),
            tier=workspace.tier,
            allowed_paths=key.allowed_paths,
        )
        return Authentication(principal, workspace.usage_key_value)

    def create_workspace(self, name: str, tier: str) -> Workspace:
        workspace_id = ids.new_id("workspace")
        usage_key_id, usage_key_value = self._usage_keys.create(workspace_id, tier)
        workspace = Workspace(workspace_id, name, tier, usage_key_id, usage_key_value, iso(self._clock()))
        self._repository.insert_workspace(workspace)
        return workspace

    def mint_key(self, workspace_id: str, name: str, scopes: tuple[str, ...],
                 secret: str | None = None, allowed_paths: tuple[str, ...] = ()) -> tuple[ApiKey, str]:
        """Store a new key for the workspace; returns it with its secret (shown once)."""
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
        )
        self._repository.insert_key(key)
        return key, secret

    def find_key(self, secret: str) -> ApiKey | None:
        return self._repository.get_key_by_hash(hash_secret(secret)) if is_well_formed(secret) else None

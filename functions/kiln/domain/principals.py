"""Who a request is from, as the authorizer hands it to every function.

Kept apart from kiln.domain.access (keys, workspaces, their service) and
kiln.domain.authentication (the credential chain): every authorized request reads its
principal from the authorizer context, and only the authorizer and the key routes need the
rest, so the other functions' cold starts do not load it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ADMIN_SCOPE = "admin"

# How a caller authenticated: an API key, an OAuth access token or a browser session cookie.
Credential = Literal["key", "token", "session"]
CREDENTIALS: tuple[Credential, ...] = ("key", "token", "session")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as the authorizer hands it to every function.

    `credential` says how the caller proved who it is. For an access token or a session,
    `key_id` holds the person's id (`user_...`), so rate-limit windows and idempotency records
    are kept per person; `user_id` names the person, `client_id` the OAuth client a token was
    issued to, and `csrf_hash` (sessions only) is the SHA-256 hex of the session's CSRF token,
    which the pipeline compares with `X-CSRF-Token` on every change.
    """

    workspace_id: str
    key_id: str
    scopes: frozenset[str]
    tier: str
    allowed_paths: tuple[str, ...] = field(default=())
    credential: Credential = "key"
    user_id: str | None = None
    client_id: str | None = None
    csrf_hash: str | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes


# --- the authorizer context ------------------------------------------------------------------
# API Gateway passes the authorizer's context to every function as requestContext.authorizer.
# Its values must be strings, numbers or booleans, so scopes and paths are encoded; optional
# fields are omitted rather than sent empty.


def principal_context(principal: Principal) -> dict[str, str]:
    """The authorizer context that carries `principal` to the functions."""
    context = {
        "workspaceId": principal.workspace_id,
        "keyId": principal.key_id,
        "scopes": " ".join(sorted(principal.scopes)),
        "tier": principal.tier,
        "allowedPaths": json.dumps(list(principal.allowed_paths)),
        "credential": principal.credential,
    }
    for name, value in (
        ("userId", principal.user_id),
        ("clientId", principal.client_id),
        ("csrfHash", principal.csrf_hash),
    ):
        if value:
            context[name] = value
    return context


def principal_from_context(context: Mapping[str, Any]) -> Principal | None:
    """The principal an authorizer context describes; None when it names no caller."""
    workspace_id, key_id = context.get("workspaceId"), context.get("keyId")
    if not workspace_id or not key_id:
        return None
    credential = context.get("credential") or "key"
    if credential not in CREDENTIALS:
        return None  # only this project's authorizer writes the context: never guess
    return Principal(
        workspace_id=workspace_id,
        key_id=key_id,
        scopes=frozenset((context.get("scopes") or "").split()),
        tier=context.get("tier") or "free",
        allowed_paths=tuple(json.loads(context.get("allowedPaths") or "[]")),
        credential=credential,
        user_id=context.get("userId") or None,
        client_id=context.get("clientId") or None,
        csrf_hash=context.get("csrfHash") or None,
    )

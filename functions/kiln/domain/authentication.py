"""Who is calling: the authorizer's credential chain and the context it hands to functions.

This module is imported by the authorizer, so it must not import pydantic or boto3: the
authorizer's cold start stays light.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kiln.domain.access import CREDENTIALS, Principal

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

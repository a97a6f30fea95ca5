"""Workspaces, API keys and usage keys in memory: kiln.domain.access.AccessRepository with
kiln.adapters.dynamodb.access' semantics, and kiln.domain.access.UsageKeys with
kiln.adapters.apigateway's.

A key is stored under the hash of its current secret; a rotation puts the new secret's item
and marks the old one superseded (out of the listing, `replacedBy` the new hash) in one
transaction that fails, writing nothing, if the old one was rotated or revoked meanwhile.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from kiln.domain.access import ApiKey, KeyChanged, Workspace
from kiln.tiers import TIERS
from tests.fakes._hooks import Hooks
from tests.fakes.errors import ConditionFailed

_MAX_REPLACEMENT_HOPS = 5


class FakeAccess(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, ApiKey] = {}  # secret hash -> that secret's item
        self.listed: dict[tuple[str, str], str] = {}  # (workspace, key id) -> current secret's hash (gsi1)
        self.workspaces: dict[str, Workspace] = {}

    # --- keys -------------------------------------------------------------------------------------

    def get_key_by_hash(self, secret_hash: str, consistent: bool = False) -> ApiKey | None:
        self._hook("get_key_by_hash")
        return self.keys.get(secret_hash)

    def find_key(self, workspace_id: str, key_id: str) -> ApiKey | None:
        self._hook("find_key")
        secret_hash: str | None = self.listed.get((workspace_id, key_id))
        for _ in range(_MAX_REPLACEMENT_HOPS):
            if secret_hash is None:
                return None
            key = self.keys.get(secret_hash)
            if key is None or key.workspace_id != workspace_id or key.id != key_id:
                return None
            if key.replaced_by is None:
                return key
            secret_hash = key.replaced_by
        return None

    def insert_key(self, key: ApiKey) -> None:
        self._hook("insert_key")
        if key.secret_hash in self.keys:
            raise ConditionFailed("a key with this secret exists")
        self.keys[key.secret_hash] = key
        self.listed[(key.workspace_id, key.id)] = key.secret_hash

    def rotate_key(self, current: ApiKey, new: ApiKey, at: str, end_previous: str | None) -> None:
        self._hook("rotate_key")
        assert new.previous_secret_expires_at is not None
        stored = self.keys.get(current.secret_hash)
        if (
            new.secret_hash in self.keys
            or stored is None
            or stored.superseded_at is not None
            or stored.revoked_at is not None
            or (end_previous is not None and end_previous not in self.keys)
        ):
            raise KeyChanged(current.id)
        self.keys[new.secret_hash] = new
        self.keys[current.secret_hash] = replace(
            stored, superseded_at=at, replaced_by=new.secret_hash, grace_until=new.previous_secret_expires_at
        )
        self.listed[(new.workspace_id, new.id)] = new.secret_hash
        if end_previous is not None:
            self.keys[end_previous] = replace(self.keys[end_previous], grace_until=at)

    def revoke_key(self, key: ApiKey, at: str) -> ApiKey | None:
        self._hook("revoke_key")
        previous = key.previous_secret_hash
        if (
            previous is not None
            and key.previous_secret_expires_at is not None
            and at < key.previous_secret_expires_at
            and previous in self.keys
        ):
            self.keys[previous] = _revoked(self.keys[previous], at)
        stored = self.keys.get(key.secret_hash)
        if stored is None or stored.superseded_at is not None:
            return None  # rotated meanwhile: the caller reads again
        self.keys[key.secret_hash] = _revoked(stored, at)
        return self.keys[key.secret_hash]

    def touch_key(self, secret_hash: str, at: str, stale_before: str) -> None:
        try:
            self._hook("touch_key")
        except Exception:  # noqa: BLE001 - bookkeeping never fails an authentication
            return
        stored = self.keys.get(secret_hash)
        if stored is not None and (stored.last_used_at is None or stored.last_used_at < stale_before):
            self.keys[secret_hash] = replace(stored, last_used_at=at)

    def list_keys_page(self, workspace_id: str, page: int, size: int) -> tuple[list[ApiKey], int]:
        self._hook("list_keys_page")
        keys = self._listed_keys(workspace_id)
        return keys[(page - 1) * size : page * size], len(keys)

    def list_keys_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[ApiKey], dict[str, Any] | None]:
        self._hook("list_keys_cursor")
        keys = self._listed_keys(workspace_id)
        if after:
            keys = [k for k in keys if f"APIKEY#{k.id}" < after["gsi1sk"]]
        page = keys[:limit]
        position = None
        if len(keys) > limit:
            last = page[-1]
            position = {
                "pk": f"APIKEY#{last.secret_hash}",
                "sk": "APIKEY",
                "gsi1pk": f"WS#{workspace_id}#APIKEYS",
                "gsi1sk": f"APIKEY#{last.id}",
            }
        return page, position

    # --- workspaces ---------------------------------------------------------------------------------

    def get_workspace(self, workspace_id: str, consistent: bool = False) -> Workspace | None:
        self._hook("get_workspace")
        return self.workspaces.get(workspace_id)

    def insert_workspace(self, workspace: Workspace) -> None:
        self._hook("insert_workspace")
        if workspace.id in self.workspaces:
            raise ConditionFailed(f"workspace {workspace.id} exists")
        self.workspaces[workspace.id] = replace(workspace, updated_at=workspace.updated_at or workspace.created_at)

    def update_workspace(self, workspace_id: str, changes: dict[str, str]) -> Workspace | None:
        self._hook("update_workspace")
        current = self.workspaces.get(workspace_id)
        if current is None:
            return None
        fields = {"name": "name", "tier": "tier", "updatedAt": "updated_at"}
        self.workspaces[workspace_id] = replace(current, **{fields[k]: v for k, v in changes.items()})
        return self.workspaces[workspace_id]

    def list_workspaces_page(self, page: int, size: int) -> tuple[list[Workspace], int]:
        self._hook("list_workspaces_page")
        workspaces = sorted(self.workspaces.values(), key=lambda w: w.id, reverse=True)
        return workspaces[(page - 1) * size : page * size], len(workspaces)

    def list_workspaces_cursor(
        self, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Workspace], dict[str, Any] | None]:
        self._hook("list_workspaces_cursor")
        workspaces = sorted(self.workspaces.values(), key=lambda w: w.id, reverse=True)
        if after:
            workspaces = [w for w in workspaces if f"WS#{w.id}" < after["gsi1sk"]]
        page = workspaces[:limit]
        position = None
        if len(workspaces) > limit:
            last = page[-1]
            position = {"pk": f"WS#{last.id}", "sk": "WORKSPACE", "gsi1pk": "WORKSPACES", "gsi1sk": f"WS#{last.id}"}
        return page, position

    def _listed_keys(self, workspace_id: str) -> list[ApiKey]:
        # gsi1 holds each key once, as its current secret; newest first (ids start with their time).
        keys = [self.keys[h] for (w, _), h in self.listed.items() if w == workspace_id and h in self.keys]
        return sorted(keys, key=lambda k: k.id, reverse=True)


def _revoked(key: ApiKey, at: str) -> ApiKey:
    return key if key.revoked_at is not None else replace(key, revoked_at=at)


class FakeUsageKeys(Hooks):
    """Usage keys in the tiers' usage plans; a key is in at most one plan, as API Gateway wants."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}  # key id -> value
        self.plans: dict[str, set[str]] = {tier: set() for tier in TIERS}

    def create(self, workspace_id: str, tier: str) -> tuple[str, str]:
        self._hook("create")
        plan = self._plan(tier)
        key_id = f"uk{secrets.token_hex(5)}"
        self.values[key_id] = secrets.token_urlsafe(30)
        plan.add(key_id)
        return key_id, self.values[key_id]

    def move(self, key_id: str, from_tier: str, to_tier: str) -> None:
        self._hook("move")
        old, new = self._plan(from_tier), self._plan(to_tier)
        if old is new:
            return
        old.discard(key_id)  # not in the old plan: a retried move
        if any(key_id in keys for keys in self.plans.values() if keys is not new):
            old.add(key_id)
            raise ConditionFailed(f"usage key {key_id} is in another plan")
        new.add(key_id)

    def delete(self, key_id: str) -> None:
        self._hook("delete")
        self.values.pop(key_id, None)
        for keys in self.plans.values():
            keys.discard(key_id)

    def tier_of(self, key_id: str) -> str | None:
        found = [tier for tier, keys in self.plans.items() if key_id in keys]
        return found[0] if found else None

    def _plan(self, tier: str) -> set[str]:
        if tier not in self.plans:
            raise RuntimeError(f"no usage plan configured for tier {tier!r}")
        return self.plans[tier]

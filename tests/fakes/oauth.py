"""OAuth clients, codes, grants and refresh tokens in memory: kiln.domain.oauth.OAuthRepository
with kiln.adapters.dynamodb.oauth's semantics. Redeeming a code and rotating a refresh token
are all-or-nothing and conditional, as the adapter's transactions are: a code redeemed twice
raises CodeAlreadyUsed, a refresh token no longer active (or whose grant is revoked) raises
RefreshTokenSpent, having written nothing. A lock makes each call atomic, so tests can race
threads against it as they would against the table.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from kiln.domain.oauth import (
    AuthorizationCode,
    CodeAlreadyUsed,
    Grant,
    OAuthClient,
    RefreshToken,
    RefreshTokenSpent,
)
from tests.fakes._hooks import Hooks
from tests.fakes.errors import ConditionFailed


class FakeOAuth(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.clients: dict[str, OAuthClient] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}

    def insert_client(self, client: OAuthClient) -> None:
        self._hook("insert_client")
        with self._lock:
            if client.id in self.clients:
                raise ConditionFailed(client.id)
            self.clients[client.id] = client

    def get_client(self, client_id: str) -> OAuthClient | None:
        self._hook("get_client")
        return self.clients.get(client_id)

    def delete_client(self, client: OAuthClient) -> bool:
        self._hook("delete_client")
        with self._lock:
            return self.clients.pop(client.id, None) is not None

    def _listed(self, workspace_id: str) -> list[OAuthClient]:
        # Newest first, as the Query over ids that start with their creation time.
        return sorted((c for c in self.clients.values() if c.workspace_id == workspace_id), key=lambda c: c.id)[::-1]

    def list_clients_page(self, workspace_id: str, page: int, size: int) -> tuple[list[OAuthClient], int]:
        self._hook("list_clients_page")
        listed = self._listed(workspace_id)
        return listed[(page - 1) * size : page * size], len(listed)

    def list_clients_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[OAuthClient], dict[str, Any] | None]:
        self._hook("list_clients_cursor")
        listed = self._listed(workspace_id)
        if after is not None:
            listed = [c for c in listed if f"OAUTHCLIENT#{c.id}" < after["sk"]]
        page = listed[:limit]
        position = None
        if len(listed) > limit:
            position = {"pk": f"WS#{workspace_id}", "sk": f"OAUTHCLIENT#{page[-1].id}"}
        return page, position

    def insert_code(self, code: AuthorizationCode) -> None:
        self._hook("insert_code")
        with self._lock:
            if code.code_hash in self.codes:
                raise ConditionFailed(code.code_hash)
            self.codes[code.code_hash] = code

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        self._hook("get_code")
        return self.codes.get(code_hash)

    def redeem_code(self, code: AuthorizationCode, grant: Grant, refresh: RefreshToken) -> None:
        self._hook("redeem_code")
        with self._lock:
            stored = self.codes.get(code.code_hash)
            if stored is None or stored.used:
                raise CodeAlreadyUsed(code.code_hash)
            if grant.id in self.grants or refresh.token_hash in self.refresh_tokens:
                raise ConditionFailed(grant.id)
            self.codes[code.code_hash] = replace(stored, used=True)
            self.grants[grant.id] = grant
            self.refresh_tokens[refresh.token_hash] = refresh

    def get_grant(self, grant_id: str) -> Grant | None:
        self._hook("get_grant")
        return self.grants.get(grant_id)

    def revoke_grant(self, grant_id: str, at: str) -> None:
        self._hook("revoke_grant")
        with self._lock:
            grant = self.grants.get(grant_id)
            if grant is not None and grant.revoked_at is None:
                self.grants[grant_id] = replace(grant, revoked_at=at)

    def grant_ids_of_person(self, workspace_id: str, user_id: str) -> list[str]:
        self._hook("grant_ids_of_person")
        return [g.id for g in self.grants.values() if g.workspace_id == workspace_id and g.user_id == user_id]

    def grant_ids_of_client(self, client_id: str) -> list[str]:
        self._hook("grant_ids_of_client")
        return [g.id for g in self.grants.values() if g.client_id == client_id]

    def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        self._hook("get_refresh_token")
        return self.refresh_tokens.get(token_hash)

    def rotate_refresh_token(self, current: RefreshToken, successor: RefreshToken, at: str) -> None:
        self._hook("rotate_refresh_token")
        with self._lock:
            stored = self.refresh_tokens.get(current.token_hash)
            grant = self.grants.get(current.grant_id)
            if stored is None or stored.status != "active" or grant is None or not grant.active:
                raise RefreshTokenSpent(current.token_hash)
            self.refresh_tokens[current.token_hash] = replace(stored, status="rotated")
            self.refresh_tokens[successor.token_hash] = successor

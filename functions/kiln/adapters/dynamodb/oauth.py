"""OAuth clients, authorization codes, grants and refresh tokens in the single table
(kiln.domain.oauth.OAuthRepository).

- A client is two copies written and removed together: `WS#<ws>` / `OAUTHCLIENT#<id>` (the
  workspace's list, one Query, newest first) and `OAUTHCLIENT#<id>` / `CLIENT` (the token
  endpoint and the consent page know the client id only).
- `OAUTHCLIENT#<id>` / `GRANT#<grantId>`: one small item per grant of the client, so deleting
  the client finds the grants to revoke with one Query of its partition.
- A code is `OAUTHCODE#<sha256>` / `CODE`; redeeming it sets `usedAt` under
  `attribute_not_exists(usedAt)` in the transaction that writes the grant, the client's grant
  item and the first refresh token: two redemptions cannot both succeed.
- A grant is `OAUTHGRANT#<id>` / `GRANT`, also under gsi1 (`OAUTHGRANTS#<ws>#<userId>`) so a
  person's grants are one Query when they are deleted.
- A refresh token is `OAUTHREFRESH#<sha256>` / `REFRESH`; rotation is one TransactWriteItems:
  the old token `active -> rotated` under a condition, the new one put, and a ConditionCheck
  that the grant is not revoked.

Every item carries the table's TTL attribute, so spent codes, old tokens and expired grants
go away by themselves; reads never rely on TTL (its deletion is lazy), the domain checks times.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    put_item,
    put_new,
    query_cursor,
    query_items,
    query_page,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.adapters.schema import GSI1, TTL_ATTRIBUTE
from kiln.domain.oauth import (
    AuthorizationCode,
    CodeAlreadyUsed,
    Grant,
    OAuthClient,
    RefreshToken,
    RefreshTokenSpent,
)
from kiln.domain.tokens import CLOCK_SKEW_SECONDS, TOKEN_LIFETIME_SECONDS

# A used code is kept a day after it expired, so presenting it again still finds (and revokes)
# the grant it opened.
_CODE_KEPT_SECONDS = 24 * 3600
# A grant outlives its last refresh by the lifetime of the last access token it may have issued.
_GRANT_KEPT_SECONDS = TOKEN_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS


def client_pk(client_id: str) -> str:
    return f"OAUTHCLIENT#{client_id}"


def client_sk(client_id: str) -> str:
    return f"OAUTHCLIENT#{client_id}"


def grant_pk(grant_id: str) -> str:
    return f"OAUTHGRANT#{grant_id}"


def person_grants(workspace_id: str, user_id: str) -> str:
    return f"OAUTHGRANTS#{workspace_id}#{user_id}"


def code_pk(code_hash: str) -> str:
    return f"OAUTHCODE#{code_hash}"


def refresh_pk(token_hash: str) -> str:
    return f"OAUTHREFRESH#{token_hash}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return to_item({"pk": pk, "sk": sk})


def _client_fields(c: OAuthClient) -> dict[str, Any]:
    return {
        "type": "oauthClient",
        "id": c.id,
        "workspaceId": c.workspace_id,
        "name": c.name,
        "redirectUris": list(c.redirect_uris),
        "scopes": list(c.scopes),
        "createdAt": c.created_at,
    }


def _client_from(item: dict[str, Any]) -> OAuthClient:
    v = from_item(item)
    return OAuthClient(
        id=v["id"],
        workspace_id=v["workspaceId"],
        name=v["name"],
        redirect_uris=tuple(v["redirectUris"]),
        scopes=tuple(v["scopes"]),
        created_at=v["createdAt"],
    )


def _code_from(item: dict[str, Any]) -> AuthorizationCode:
    v = from_item(item)
    return AuthorizationCode(
        code_hash=v["codeHash"],
        client_id=v["clientId"],
        workspace_id=v["workspaceId"],
        user_id=v["userId"],
        redirect_uri=v["redirectUri"],
        code_challenge=v["codeChallenge"],
        scopes=tuple(v["scopes"]),
        grant_id=v["grantId"],
        expires_at=int(v["expiresAt"]),
        used="usedAt" in v,
    )


def _grant_item(g: Grant) -> dict[str, Any]:
    return {
        "pk": grant_pk(g.id),
        "sk": "GRANT",
        "type": "oauthGrant",
        "gsi1pk": person_grants(g.workspace_id, g.user_id),
        "gsi1sk": g.id,
        "id": g.id,
        "workspaceId": g.workspace_id,
        "userId": g.user_id,
        "clientId": g.client_id,
        "scopes": list(g.scopes),
        "createdAt": g.created_at,
        "expiresAt": g.expires_at,
        "revokedAt": g.revoked_at,
        TTL_ATTRIBUTE: g.expires_at + _GRANT_KEPT_SECONDS,
    }


def _grant_from(item: dict[str, Any]) -> Grant:
    v = from_item(item)
    return Grant(
        id=v["id"],
        workspace_id=v["workspaceId"],
        user_id=v["userId"],
        client_id=v["clientId"],
        scopes=tuple(v["scopes"]),
        created_at=v["createdAt"],
        expires_at=int(v["expiresAt"]),
        revoked_at=v.get("revokedAt"),
    )


def _refresh_item(r: RefreshToken) -> dict[str, Any]:
    return {
        "pk": refresh_pk(r.token_hash),
        "sk": "REFRESH",
        "type": "oauthRefreshToken",
        "tokenHash": r.token_hash,
        "grantId": r.grant_id,
        "clientId": r.client_id,
        "workspaceId": r.workspace_id,
        "userId": r.user_id,
        "scopes": list(r.scopes),
        "createdAt": r.created_at,
        "expiresAt": r.expires_at,
        "status": r.status,
        TTL_ATTRIBUTE: r.expires_at,
    }


def _refresh_from(item: dict[str, Any]) -> RefreshToken:
    v = from_item(item)
    return RefreshToken(
        token_hash=v["tokenHash"],
        grant_id=v["grantId"],
        client_id=v["clientId"],
        workspace_id=v["workspaceId"],
        user_id=v["userId"],
        scopes=tuple(v["scopes"]),
        created_at=v["createdAt"],
        expires_at=int(v["expiresAt"]),
        status=v["status"],
    )


def _clients_query(workspace_id: str) -> dict[str, Any]:
    return {
        "TableName": table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": to_item({":pk": workspace_pk(workspace_id), ":prefix": "OAUTHCLIENT#"}),
        "ScanIndexForward": False,
    }


class OAuthStore:
    """kiln.domain.oauth.OAuthRepository on DynamoDB."""

    # --- clients ---------------------------------------------------------------------------------

    def insert_client(self, oauth_client: OAuthClient) -> None:
        fields = _client_fields(oauth_client)
        client("dynamodb").transact_write_items(
            TransactItems=[
                put_new({"pk": client_pk(oauth_client.id), "sk": "CLIENT", **fields}),
                {
                    "Put": {
                        "TableName": table(),
                        "Item": to_item(
                            {
                                "pk": workspace_pk(oauth_client.workspace_id),
                                "sk": client_sk(oauth_client.id),
                                **fields,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    def get_client(self, client_id: str) -> OAuthClient | None:
        item = get_item(client_pk(client_id), "CLIENT", consistent=True)
        return _client_from(item) if item else None

    def delete_client(self, oauth_client: OAuthClient) -> bool:
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": table(),
                            "Key": _key(client_pk(oauth_client.id), "CLIENT"),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": table(),
                            "Key": _key(workspace_pk(oauth_client.workspace_id), client_sk(oauth_client.id)),
                        }
                    },
                ]
            )
        except ClientError as error:
            if transaction_cancelled(error):
                return False
            raise
        return True

    def list_clients_page(self, workspace_id: str, page: int, size: int) -> tuple[list[OAuthClient], int]:
        return query_page(_clients_query(workspace_id), page, size, _client_from)

    def list_clients_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[OAuthClient], dict[str, Any] | None]:
        return query_cursor(_clients_query(workspace_id), limit, after, _client_from)

    # --- codes -----------------------------------------------------------------------------------

    def insert_code(self, code: AuthorizationCode) -> None:
        put_item(
            {
                "pk": code_pk(code.code_hash),
                "sk": "CODE",
                "type": "oauthCode",
                "codeHash": code.code_hash,
                "clientId": code.client_id,
                "workspaceId": code.workspace_id,
                "userId": code.user_id,
                "redirectUri": code.redirect_uri,
                "codeChallenge": code.code_challenge,
                "scopes": list(code.scopes),
                "grantId": code.grant_id,
                "expiresAt": code.expires_at,
                TTL_ATTRIBUTE: code.expires_at + _CODE_KEPT_SECONDS,
            },
            only_if_new=True,
        )

    def get_code(self, code_hash: str) -> AuthorizationCode | None:
        item = get_item(code_pk(code_hash), "CODE", consistent=True)
        return _code_from(item) if item else None

    def redeem_code(self, code: AuthorizationCode, grant: Grant, refresh: RefreshToken) -> None:
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table(),
                            "Key": _key(code_pk(code.code_hash), "CODE"),
                            "UpdateExpression": "SET usedAt = :at",
                            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(usedAt)",
                            "ExpressionAttributeValues": to_item({":at": grant.created_at}),
                        }
                    },
                    put_new(_grant_item(grant)),
                    {
                        "Put": {
                            "TableName": table(),
                            "Item": to_item(
                                {
                                    "pk": client_pk(grant.client_id),
                                    "sk": f"GRANT#{grant.id}",
                                    "type": "oauthClientGrant",
                                    "grantId": grant.id,
                                    TTL_ATTRIBUTE: grant.expires_at + _GRANT_KEPT_SECONDS,
                                }
                            ),
                        }
                    },
                    put_new(_refresh_item(refresh)),
                ]
            )
        except ClientError as error:
            if transaction_cancelled(error):
                raise CodeAlreadyUsed(code.code_hash) from None
            raise

    # --- grants ----------------------------------------------------------------------------------

    def get_grant(self, grant_id: str) -> Grant | None:
        item = get_item(grant_pk(grant_id), "GRANT", consistent=True)
        return _grant_from(item) if item else None

    def revoke_grant(self, grant_id: str, at: str) -> None:
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=_key(grant_pk(grant_id), "GRANT"),
                UpdateExpression="SET revokedAt = :at",
                # The first revocation's time stays; an unknown grant is not created.
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(revokedAt)",
                ExpressionAttributeValues=to_item({":at": at}),
            )
        except ClientError as error:
            if not condition_failed(error):
                raise

    def grant_ids_of_person(self, workspace_id: str, user_id: str) -> list[str]:
        query = {
            "TableName": table(),
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": person_grants(workspace_id, user_id)}),
        }
        return [from_item(item)["id"] for item in query_items(query)]

    def grant_ids_of_client(self, client_id: str) -> list[str]:
        query = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": client_pk(client_id), ":prefix": "GRANT#"}),
        }
        return [from_item(item)["grantId"] for item in query_items(query)]

    # --- refresh tokens --------------------------------------------------------------------------

    def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        item = get_item(refresh_pk(token_hash), "REFRESH", consistent=True)
        return _refresh_from(item) if item else None

    def rotate_refresh_token(self, current: RefreshToken, successor: RefreshToken, at: str) -> None:
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table(),
                            "Key": _key(refresh_pk(current.token_hash), "REFRESH"),
                            "UpdateExpression": "SET #status = :rotated, rotatedAt = :at",
                            "ConditionExpression": "#status = :active",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_item(
                                {":rotated": "rotated", ":active": "active", ":at": at}
                            ),
                        }
                    },
                    put_new(_refresh_item(successor)),
                    {
                        "ConditionCheck": {
                            "TableName": table(),
                            "Key": _key(grant_pk(current.grant_id), "GRANT"),
                            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(revokedAt)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if transaction_cancelled(error):
                raise RefreshTokenSpent(current.token_hash) from None
            raise

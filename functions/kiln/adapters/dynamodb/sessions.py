"""Sessions and the sign-in throttle in the single table (kiln.domain.sessions).

    session     pk=SESSION#<sha256 of the token>  sk=SESSION
                id, workspaceId, userId, csrfToken, createdAt, expiresAt, lastSeenAt,
                expiresAtEpoch (TTL: the absolute expiry),
                gsi1pk=SESSIONS#<workspaceId>#<userId>  gsi1sk=<createdAt>#<id>
    throttle    pk=SIGNIN#<sha256 of the email>       sk=ATTEMPTS
                attempts (epoch ms, oldest first), rev, expiresAtEpoch (TTL: when the newest
                attempt leaves the window)

A request with a cookie costs one GetItem (the item is keyed by the token's hash, which is all
that is stored of the token). gsi1 lists a person's sessions, so that deleting the person or
changing their password can delete them all with one Query; it is eventually consistent, which
kiln.domain.sessions covers by checking the person on every resolve.

The throttle item is replaced whole by a PutItem conditioned on its revision (or on its
absence), so two concurrent attempts for one email cannot both take the last free slot.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import condition_failed, from_item, get_item, query_items, table, to_item
from kiln.adapters.schema import GSI1, TTL_ATTRIBUTE
from kiln.domain.sessions import Attempts, Session

logger = logging.getLogger("kiln.sessions")

SESSION_SK = "SESSION"
ATTEMPTS_SK = "ATTEMPTS"


def session_pk(token_hash: str) -> str:
    return f"SESSION#{token_hash}"


def person_sessions_partition(workspace_id: str, user_id: str) -> str:
    return f"SESSIONS#{workspace_id}#{user_id}"


def attempts_pk(email_hash: str) -> str:
    return f"SIGNIN#{email_hash}"


def session_item(session: Session, expires_at_epoch: int) -> dict[str, Any]:
    return {
        "pk": session_pk(session.token_hash),
        "sk": SESSION_SK,
        "type": "session",
        "id": session.id,
        "workspaceId": session.workspace_id,
        "userId": session.user_id,
        "csrfToken": session.csrf_token,
        "createdAt": session.created_at,
        "expiresAt": session.expires_at,
        "lastSeenAt": session.last_seen_at,
        TTL_ATTRIBUTE: expires_at_epoch,
        "gsi1pk": person_sessions_partition(session.workspace_id, session.user_id),
        "gsi1sk": f"{session.created_at}#{session.id}",
    }


def session_from(item: dict[str, Any]) -> Session:
    v = from_item(item)
    return Session(
        id=v["id"],
        workspace_id=v["workspaceId"],
        user_id=v["userId"],
        token_hash=v["pk"].removeprefix("SESSION#"),
        csrf_token=v["csrfToken"],
        created_at=v["createdAt"],
        expires_at=v["expiresAt"],
        last_seen_at=v["lastSeenAt"],
    )


def _key(pk: str, sk: str) -> dict[str, Any]:
    return to_item({"pk": pk, "sk": sk})


class SessionStore:
    """kiln.domain.sessions.SessionRepository and SignInAttempts on DynamoDB."""

    _touch_failure_logged = False

    # --- sessions --------------------------------------------------------------------------

    def insert_session(self, session: Session, expires_at_epoch: int) -> None:
        client("dynamodb").put_item(
            TableName=table(),
            Item=to_item(session_item(session, expires_at_epoch)),
            ConditionExpression="attribute_not_exists(pk)",  # 256 random bits: never taken
        )

    def get_session(self, token_hash: str) -> Session | None:
        # Consistent: a cookie handed out a moment ago works at once, one signed out fails at once.
        item = get_item(session_pk(token_hash), SESSION_SK, consistent=True)
        return session_from(item) if item else None

    def touch_session(self, token_hash: str, at: str, stale_before: str) -> None:
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=_key(session_pk(token_hash), SESSION_SK),
                UpdateExpression="SET lastSeenAt = :at",
                ConditionExpression="attribute_exists(pk) AND lastSeenAt < :stale",
                ExpressionAttributeValues=to_item({":at": at, ":stale": stale_before}),
            )
        except ClientError as error:
            if not condition_failed(error):  # recorded by another request, or signed out: fine
                self._log_touch_failure(error)
        except Exception as error:  # noqa: BLE001 - bookkeeping must never fail an authentication
            self._log_touch_failure(error)

    @classmethod
    def _log_touch_failure(cls, error: Exception) -> None:
        if not cls._touch_failure_logged:  # once per container, not once per request
            cls._touch_failure_logged = True
            logger.warning("could not record a session's lastSeenAt: %s", error)

    def delete_session(self, token_hash: str) -> None:
        client("dynamodb").delete_item(TableName=table(), Key=_key(session_pk(token_hash), SESSION_SK))

    def delete_person_sessions(self, workspace_id: str, user_id: str) -> int:
        query = {
            "TableName": table(),
            "IndexName": GSI1,
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": person_sessions_partition(workspace_id, user_id)}),
            "ProjectionExpression": "pk, sk",
        }
        ended = 0
        for item in list(query_items(query)):
            client("dynamodb").delete_item(TableName=table(), Key={"pk": item["pk"], "sk": item["sk"]})
            ended += 1
        return ended

    # --- the sign-in throttle --------------------------------------------------------------

    def read_attempts(self, email_hash: str) -> Attempts | None:
        item = get_item(attempts_pk(email_hash), ATTEMPTS_SK, consistent=True)
        if item is None:
            return None
        v = from_item(item)
        return Attempts(tuple(int(t) for t in v.get("attempts", ())), int(v["rev"]))

    def write_attempts(
        self, email_hash: str, expected_revision: int | None, times_ms: tuple[int, ...], expires_at_epoch: int
    ) -> bool:
        if expected_revision is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": to_item({":rev": expected_revision}),
            }
        item = {
            "pk": attempts_pk(email_hash),
            "sk": ATTEMPTS_SK,
            "type": "signInAttempts",
            "attempts": list(times_ms),
            "rev": (expected_revision or 0) + 1,
            TTL_ATTRIBUTE: expires_at_epoch,
        }
        try:
            client("dynamodb").put_item(TableName=table(), Item=to_item(item), **condition)
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def clear_attempts(self, email_hash: str) -> None:
        client("dynamodb").delete_item(TableName=table(), Key=_key(attempts_pk(email_hash), ATTEMPTS_SK))

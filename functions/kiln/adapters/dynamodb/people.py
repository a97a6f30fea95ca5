"""People in the single table (kiln.domain.people.PeopleRepository).

A person is `WS#<ws>` / `USER#<userId>`: in its workspace's partition, so another
workspace's id is simply not found, and the workspace's people are one Query (newest first:
ids start with their creation time). Its email is held by a second item, `EMAIL#<email>` /
`EMAIL` (the normalised email, with the person's workspace and id), written in the same
transaction as the person under `attribute_not_exists`: that is what makes an email unique
across the deployment, and what sign-in reads to find the person. A deletion removes both
items together; an email change deletes the old email item and puts the new one in the
transaction that updates the person.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    from_item,
    get_item,
    put_new,
    query_cursor,
    query_page,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.domain.people import EmailTaken, Person, PersonMissing


def person_sk(user_id: str) -> str:
    return f"USER#{user_id}"


def email_pk(email: str) -> str:
    return f"EMAIL#{email}"


def person_item(person: Person) -> dict[str, Any]:
    return {
        "pk": workspace_pk(person.workspace_id),
        "sk": person_sk(person.id),
        "type": "user",
        "id": person.id,
        "workspaceId": person.workspace_id,
        "email": person.email,
        "name": person.name,
        "scopes": list(person.scopes),  # a list: DynamoDB sets cannot be empty
        "passwordHash": person.password_hash,
        "createdAt": person.created_at,
        "updatedAt": person.updated_at,
        "passwordChangedAt": person.password_changed_at,
    }


def email_item(person: Person) -> dict[str, Any]:
    return {
        "pk": email_pk(person.email),
        "sk": "EMAIL",
        "type": "userEmail",
        "userId": person.id,
        "workspaceId": person.workspace_id,
    }


def person_from(item: dict[str, Any]) -> Person:
    v = from_item(item)
    return Person(
        id=v["id"],
        workspace_id=v["workspaceId"],
        email=v["email"],
        name=v["name"],
        scopes=tuple(v.get("scopes", ())),
        password_hash=v["passwordHash"],
        created_at=v["createdAt"],
        updated_at=v["updatedAt"],
        password_changed_at=v["passwordChangedAt"],
    )


def _people_query(workspace_id: str) -> dict[str, Any]:
    return {
        "TableName": table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": to_item({":pk": workspace_pk(workspace_id), ":prefix": "USER#"}),
        "ScanIndexForward": False,
    }


def _key(pk: str, sk: str) -> dict[str, Any]:
    return to_item({"pk": pk, "sk": sk})


class PeopleStore:
    """kiln.domain.people.PeopleRepository on DynamoDB."""

    def get_person(self, workspace_id: str, user_id: str) -> Person | None:
        item = get_item(workspace_pk(workspace_id), person_sk(user_id), consistent=True)
        return person_from(item) if item else None

    def find_by_email(self, email: str) -> Person | None:
        held = get_item(email_pk(email), "EMAIL", consistent=True)
        if held is None:
            return None
        owner = from_item(held)
        return self.get_person(owner["workspaceId"], owner["userId"])

    def insert_person(self, person: Person) -> None:
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    put_new(email_item(person)),
                    put_new(person_item(person)),
                ]
            )
        except ClientError as error:
            if transaction_cancelled(error):
                raise EmailTaken(person.email) from None
            raise

    def replace_person(self, current: Person, updated: Person) -> None:
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table(),
                    "Item": to_item(person_item(updated)),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
        ]
        if updated.email != current.email:
            writes += [
                {
                    "Delete": {
                        "TableName": table(),
                        "Key": _key(email_pk(current.email), "EMAIL"),
                        "ConditionExpression": "userId = :id",
                        "ExpressionAttributeValues": to_item({":id": current.id}),
                    }
                },
                put_new(email_item(updated)),
            ]
        try:
            client("dynamodb").transact_write_items(TransactItems=writes)
        except ClientError as error:
            if not transaction_cancelled(error):
                raise
            # Which condition failed: a person still there means the new email is held.
            if self.get_person(current.workspace_id, current.id) is None:
                raise PersonMissing(current.id) from None
            raise EmailTaken(updated.email) from None

    def delete_person(self, person: Person) -> bool:
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": table(),
                            "Key": _key(workspace_pk(person.workspace_id), person_sk(person.id)),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": table(),
                            "Key": _key(email_pk(person.email), "EMAIL"),
                            "ConditionExpression": "userId = :id",
                            "ExpressionAttributeValues": to_item({":id": person.id}),
                        }
                    },
                ]
            )
        except ClientError as error:
            if transaction_cancelled(error):
                return False
            raise
        return True

    def list_people_page(self, workspace_id: str, page: int, size: int) -> tuple[list[Person], int]:
        return query_page(_people_query(workspace_id), page, size, person_from)

    def list_people_cursor(
        self, workspace_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Person], dict[str, Any] | None]:
        return query_cursor(_people_query(workspace_id), limit, after, person_from)

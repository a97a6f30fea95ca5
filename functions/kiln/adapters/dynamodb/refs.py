"""Repository branches in the single table (kiln.domain.repository.RefStore).

A branch is an item in its workspace's partition, `sk = REF#<projectId>#<branch>`, whose
`commit` attribute names the head commit. It is only ever written conditionally: created
with `attribute_not_exists(pk)`, moved with `commit = :expected`. Of two writers that read
the same head, exactly one moves the branch (a retried write that finds the branch already at
its own new head has succeeded). Reads are consistent (a writer compares against
the latest head, a reader sees a merge that just finished).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from kiln import ids
from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import condition_failed, from_item, get_item, put_item, table, to_item, workspace_pk
from kiln.clock import iso, utc_now


def ref_prefix(project_id: str) -> str:
    return f"REF#{project_id}#"


def ref_sk(project_id: str, ref: str) -> str:
    return ref_prefix(project_id) + ref


class RefItems:
    """The branches of one project's repository."""

    def __init__(self, workspace_id: str, project_id: str) -> None:
        if not ids.is_valid("workspace", workspace_id) or not ids.is_valid("project", project_id):
            raise ValueError("refs need a workspace id and a project id")
        self._workspace_id = workspace_id
        self._project_id = project_id

    def get(self, ref: str) -> str | None:
        item = get_item(workspace_pk(self._workspace_id), ref_sk(self._project_id, ref), consistent=True)
        return from_item({"commit": item["commit"]})["commit"] if item else None

    def compare_and_swap(self, ref: str, expected: str | None, new: str) -> bool:
        now = iso(utc_now())
        try:
            if expected is None:
                put_item(
                    {
                        "pk": workspace_pk(self._workspace_id),
                        "sk": ref_sk(self._project_id, ref),
                        "type": "ref",
                        "projectId": self._project_id,
                        "ref": ref,
                        "commit": new,
                        "createdAt": now,
                        "updatedAt": now,
                    },
                    only_if_new=True,
                )
            else:
                client("dynamodb").update_item(
                    TableName=table(),
                    Key=to_item({"pk": workspace_pk(self._workspace_id), "sk": ref_sk(self._project_id, ref)}),
                    UpdateExpression="SET #commit = :new, updatedAt = :now",
                    # COMMIT is a DynamoDB reserved word, hence the name placeholder.
                    ConditionExpression="#commit = :expected",
                    ExpressionAttributeNames={"#commit": "commit"},
                    ExpressionAttributeValues=to_item({":new": new, ":expected": expected, ":now": now}),
                )
        except ClientError as error:
            if condition_failed(error):
                # The SDK retries a write whose answer was lost (a read timeout): the retry then
                # finds the branch where the first attempt put it. That is this move, done.
                return self.get(ref) == new
            raise
        return True

    def list_refs(self) -> dict[str, str]:
        prefix = ref_prefix(self._project_id)
        request: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": workspace_pk(self._workspace_id), ":prefix": prefix}),
            "ProjectionExpression": "sk, #commit",
            "ExpressionAttributeNames": {"#commit": "commit"},
            "ConsistentRead": True,
        }
        refs: dict[str, str] = {}
        while True:
            response = client("dynamodb").query(**request)
            for item in response.get("Items", []):
                values = from_item(item)
                refs[values["sk"][len(prefix) :]] = values["commit"]
            last = response.get("LastEvaluatedKey")
            if not last:
                return refs
            request["ExclusiveStartKey"] = last

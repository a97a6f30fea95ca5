"""Shared pieces of the DynamoDB adapter: (de)serialization, single-item reads and writes, keys."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from kiln import config
from kiln.adapters.aws import client

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def table() -> str:
    return config.table_name()


def condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def get_item(pk: str, sk: str, consistent: bool = False) -> dict[str, Any] | None:
    """The raw item under (pk, sk), or None; callers deserialize only what they need."""
    response = client("dynamodb").get_item(
        TableName=table(), Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=consistent
    )
    return response.get("Item")


def put_item(values: dict[str, Any], only_if_new: bool = False) -> None:
    """Write an item; `only_if_new` refuses to overwrite one with the same key."""
    extra = {"ConditionExpression": "attribute_not_exists(pk)"} if only_if_new else {}
    client("dynamodb").put_item(TableName=table(), Item=to_item(values), **extra)


# --- keys -------------------------------------------------------------------------------

def workspace_pk(workspace_id: str) -> str:
    return f"WS#{workspace_id}"


def project_sk(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def project_status_partition(workspace_id: str, status: str) -> str:
    return f"WS#{workspace_id}#PROJECTS#{status}"


def describe_table() -> str:
    """The table's status (health check)."""
    return client("dynamodb").describe_table(TableName=table())["Table"]["TableStatus"]


def transaction_cancelled(error: ClientError) -> bool:
    """A TransactWriteItems refused because one of its conditions failed (or a conflict)."""
    return error.response.get("Error", {}).get("Code") == "TransactionCanceledException"


def spec_sk(project_id: str, version: int) -> str:
    # Zero-padded so the sort key orders versions numerically.
    return f"SPEC#{project_id}#{version:06d}"


def spec_prefix(project_id: str) -> str:
    return f"SPEC#{project_id}#"

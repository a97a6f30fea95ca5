"""Shared pieces of the DynamoDB adapter: (de)serialization, single-item reads and writes, keys."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
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


def query_items(
    query: dict[str, Any], start: dict[str, Any] | None = None, batch: int | None = None
) -> Iterator[dict[str, Any]]:
    """The raw items of a Query, page after page (`batch` items per page; from `start`)."""
    request = dict(query)
    if batch:
        request["Limit"] = batch
    if start:
        request["ExclusiveStartKey"] = to_item(start)
    while True:
        response = client("dynamodb").query(**request)
        yield from response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


def numbers(value: Any) -> Any:
    """DynamoDB numbers (Decimal) as ints, or floats when fractional, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers(v) for v in value]
    return value

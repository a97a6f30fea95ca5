"""Shared pieces of the DynamoDB adapter: (de)serialization, single-item reads and writes, keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from kiln import config
from kiln.adapters.aws import client

T = TypeVar("T")

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def fields_from(item: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of a raw item as `from_item` deserializes them; absent ones left out.

    For the items of a page, read one by one: a string (most of what a listing answers) is
    taken from its "S" directly, as the deserializer's type dispatch costs several times the
    read; every other type goes through the deserializer.
    """
    values: dict[str, Any] = {}
    for name in fields:
        value = item.get(name)
        if value is not None:
            text = value.get("S")
            values[name] = text if text is not None else _deserializer.deserialize(value)
    return values


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


def put_new(values: dict[str, Any]) -> dict[str, Any]:
    """A transaction's Put of an item that must not exist yet (its key taken: the transaction fails)."""
    return {"Put": {"TableName": table(), "Item": to_item(values), "ConditionExpression": "attribute_not_exists(pk)"}}


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


# Items read per Query request of a cursor page: the page and one more (to tell there is a next
# page), at most this many.
QUERY_BATCH = 100


def query_page(
    query: dict[str, Any], page: int, size: int, convert: Callable[[dict[str, Any]], T]
) -> tuple[list[T], int]:
    """Page `page` (from 1) of `size` items and the total. Page mode reports a total, which
    DynamoDB can only get by reading the whole partition: for small lists only."""
    start, end = (page - 1) * size, page * size
    out: list[T] = []
    total = 0
    for item in query_items(query):
        if start <= total < end:
            out.append(convert(item))
        total += 1
    return out, total


def query_cursor(
    query: dict[str, Any],
    limit: int,
    after: dict[str, Any] | None,
    convert: Callable[[dict[str, Any]], T],
    position_keys: tuple[str, ...] = ("pk", "sk"),
) -> tuple[list[T], dict[str, Any] | None]:
    """Up to `limit` items after `after`, and the position of the next page (None: the last one).
    `position_keys` are the key attributes of the table or index queried."""
    items: list[dict[str, Any]] = []
    for item in query_items(query, after, min(QUERY_BATCH, limit + 1)):
        items.append(item)
        if len(items) > limit:
            break
    page = items[:limit]
    position = None
    if len(items) > limit:
        last = from_item(page[-1])
        position = {k: last[k] for k in position_keys}
    return [convert(i) for i in page], position


def numbers(value: Any) -> Any:
    """DynamoDB numbers (Decimal) as ints, or floats when fractional, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers(v) for v in value]
    return value

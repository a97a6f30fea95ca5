"""Stream records of the main table turned into kiln.domain.table_changes.TableChange.

A record arrives the way Lambda's event source mapping hands it (and the local cloud's stream
poller, which copies that shape): `eventName` INSERT/MODIFY/REMOVE, `dynamodb.Keys`,
`NewImage`/`OldImage` in DynamoDB's typed JSON, `SequenceNumber`, and
`ApproximateCreationDateTime` in epoch seconds. Only this module knows that format.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kiln.adapters.dynamodb.items import from_item, numbers
from kiln.domain.table_changes import ChangeKind, TableChange

__all__ = ["TableChange", "from_record", "from_records"]

_KINDS: dict[str, ChangeKind] = {"INSERT": "insert", "MODIFY": "modify", "REMOVE": "remove"}
# The principal DynamoDB's TTL deletes as (AWS: "DynamoDB Streams and Time to Live").
_TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def _image(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    return numbers(from_item(raw)) if raw else None


def _moment(value: Any) -> str:
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(float(value), UTC)
    elif isinstance(value, datetime):
        moment = value.astimezone(UTC)
    else:
        moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_record(record: dict[str, Any]) -> TableChange:
    """One stream record as a TableChange; KeyError/ValueError for a record of another shape."""
    body = record["dynamodb"]
    keys = numbers(from_item(body["Keys"]))
    identity = record.get("userIdentity") or {}
    return TableChange(
        kind=_KINDS[record["eventName"]],
        pk=str(keys["pk"]),
        sk=str(keys["sk"]),
        sequence=str(body["SequenceNumber"]),
        at=_moment(body.get("ApproximateCreationDateTime")),
        new=_image(body.get("NewImage")),
        old=_image(body.get("OldImage")),
        expired=identity.get("type") == "Service" and identity.get("principalId") == _TTL_PRINCIPAL,
    )


def from_records(records: list[dict[str, Any]]) -> list[TableChange]:
    return [from_record(record) for record in records]

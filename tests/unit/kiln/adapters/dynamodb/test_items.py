"""The deserialization helpers of the DynamoDB adapter (kiln.adapters.dynamodb.items)."""

from __future__ import annotations

from decimal import Decimal

from boto3.dynamodb.types import Binary

from kiln.adapters.dynamodb.items import fields_from, from_item, to_item

STORED = {
    "id": "prj_1",
    "name": "Kiln",
    "empty": "",
    "specVersion": 3,
    "ratio": Decimal("0.5"),
    "complete": True,
    "cleared": None,
    "tags": {"a", "b"},
    "answers": [{"questionId": "q", "answer": ["x", 2]}],
    "blob": Binary(b"\x00\x01"),
}


def test_fields_from_answers_what_from_item_answers_for_those_fields():
    item = to_item(STORED) | {"cleared": {"NULL": True}}
    names = [*item, "absent"]
    assert fields_from(item, names) == from_item(item)
    assert fields_from(item, ("name", "specVersion", "absent")) == {"name": "Kiln", "specVersion": Decimal(3)}
    assert fields_from(item, ("empty",)) == {"empty": ""}  # an empty string is still a string

"""Shared pieces of the DynamoDB adapter: (de)serialization, key builders, table probes."""

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

"""The webhook delivery log (kiln.domain.deliveries.DeliveryLog) on the main table.

delivery   pk=WS#<ws>  sk=DELIVERY#<webhookId>#<deliveryId>   (expires by TTL 30 days after creation)

Delivery ids start with their creation time, so a webhook's deliveries are one key range,
newest first in reverse order. Each write of an attempt replaces the item on condition that it
still holds the attempts its writer read, so two workers handling duplicate messages of one
attempt record it once.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    numbers,
    query_items,
    table,
    to_item,
    workspace_pk,
)
from kiln.adapters.schema import TTL_ATTRIBUTE
from kiln.domain.deliveries import Delivery

ITEM_TYPE = "delivery"


def delivery_prefix(webhook_id: str) -> str:
    return f"DELIVERY#{webhook_id}#"


def delivery_sk(webhook_id: str, delivery_id: str) -> str:
    return f"{delivery_prefix(webhook_id)}{delivery_id}"


def _item(delivery: Delivery, expires_at_epoch: int | None = None) -> dict[str, Any]:
    values = delivery.model_dump(mode="json")
    # The payload is kept as the JSON text it is sent as: a map would turn its numbers into
    # Decimals and could not hold empty strings in older SDKs' eyes; the text is exact.
    values["payload"] = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    values["attemptCount"] = len(delivery.attempts)
    item = {
        "pk": workspace_pk(delivery.workspaceId),
        "sk": delivery_sk(delivery.webhookId, delivery.id),
        "type": ITEM_TYPE,
        **values,
    }
    if expires_at_epoch is not None:
        item[TTL_ATTRIBUTE] = expires_at_epoch
    return item


def _delivery(raw: dict[str, Any]) -> Delivery:
    values = numbers(from_item(raw))
    values["payload"] = json.loads(values["payload"]) if isinstance(values.get("payload"), str) else {}
    fields = set(Delivery.model_fields)
    return Delivery(**{k: v for k, v in values.items() if k in fields})


class DeliveryItems:
    def create(self, delivery: Delivery, expires_at_epoch: int) -> bool:
        try:
            client("dynamodb").put_item(
                TableName=table(),
                Item=to_item(_item(delivery, expires_at_epoch)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def get(self, workspace_id: str, webhook_id: str, delivery_id: str) -> Delivery | None:
        raw = get_item(workspace_pk(workspace_id), delivery_sk(webhook_id, delivery_id), consistent=True)
        return _delivery(raw) if raw else None

    def record(self, delivery: Delivery, previous_attempts: int) -> bool:
        item = _item(delivery)
        names = {f"#{k}": k for k in item if k not in ("pk", "sk")}
        values = {f":{k}": v for k, v in item.items() if k not in ("pk", "sk") and v is not None}
        sets = [f"#{k} = :{k}" for k in item if k not in ("pk", "sk") and item[k] is not None]
        removes = [f"#{k}" for k in item if k not in ("pk", "sk") and item[k] is None]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        values[":previous"] = previous_attempts
        try:
            client("dynamodb").update_item(
                TableName=table(),
                Key=to_item({"pk": item["pk"], "sk": item["sk"]}),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk) AND #attemptCount = :previous",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def page(
        self, workspace_id: str, webhook_id: str, limit: int, after: dict[str, Any] | None
    ) -> tuple[list[Delivery], dict[str, Any] | None]:
        query = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item(
                {":pk": workspace_pk(workspace_id), ":prefix": delivery_prefix(webhook_id)}
            ),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        found: list[Delivery] = []
        for raw in query_items(query, start=after, batch=limit + 1):
            found.append(_delivery(raw))
            if len(found) > limit:
                break
        if len(found) <= limit:
            return found, None
        last = found[limit - 1]
        return found[:limit], {"pk": workspace_pk(workspace_id), "sk": delivery_sk(webhook_id, last.id)}

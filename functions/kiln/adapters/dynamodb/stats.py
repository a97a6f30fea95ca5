"""The deployment's stats counters (kiln.domain.stats.CounterStore) and how items are counted.

    counters      pk=STATS               sk=DEPLOYMENT        {projects.total: n, runs.inProgress: n, ...}
    applied mark  pk=STATS#APPLIED       sk=<stream sequence> {expiresAtEpoch: 2 days}

One item holds every counter; each change adds its deltas with one `ADD`, in a transaction with
a marker named after the stream record's sequence number, whose condition makes a retried batch
add nothing. Stream records are kept 24 hours, so a marker kept two days outlives any retry.
Reading the stats is one GetItem: nothing here (or anywhere in Kiln) scans.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import from_item, get_item, numbers, table, to_item, transaction_cancelled
from kiln.domain.stats import DELIVERY, OPERATION, PROJECT, RUN, State

STATS_PK, STATS_SK = "STATS", "DEPLOYMENT"
APPLIED_PK = "STATS#APPLIED"
MARKER_SECONDS = 2 * 86_400
# Item `type` attribute -> what the stats count it as (kiln.domain.stats). Deliveries are the
# webhook delivery log's items (kiln.domain.deliveries).
_KINDS = {"project": PROJECT, "run": RUN, "operation": OPERATION, "delivery": DELIVERY}


def state_of(image: dict[str, Any] | None) -> State | None:
    """What the stats see of one item image; None for an item they do not count."""
    if not image:
        return None
    kind = _KINDS.get(str(image.get("type")))
    if kind is None:
        return None
    status = image.get("status")
    subkind = image.get("kind") if kind == OPERATION else None
    return State(kind, str(status) if status is not None else None, str(subkind) if subkind is not None else None)


class CounterItems:
    """kiln.domain.stats.CounterStore on the main table."""

    def read(self) -> dict[str, int]:
        item = get_item(STATS_PK, STATS_SK, consistent=True)
        if item is None:
            return {}
        raw = numbers(from_item(item))
        return {name: int(value) for name, value in raw.items() if "." in name and isinstance(value, int)}

    def apply(self, change_id: str, changes: dict[str, int]) -> bool:
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values = {f":c{i}": value for i, value in enumerate(changes.values())}
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table(),
                            "Item": to_item(
                                {
                                    "pk": APPLIED_PK,
                                    "sk": change_id,
                                    "type": "stats-applied",
                                    "expiresAtEpoch": int(time.time()) + MARKER_SECONDS,
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": table(),
                            "Key": to_item({"pk": STATS_PK, "sk": STATS_SK}),
                            "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(changes))),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": to_item(values),
                        }
                    },
                ]
            )
        except ClientError as error:
            if not transaction_cancelled(error):
                raise
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons") or []]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False  # this change was counted by an earlier attempt of its batch
            raise
        return True

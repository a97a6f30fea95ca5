"""The webhook delivery worker: one attempt per queue message (kiln.domain.deliveries).

Lambda's SQS event source mapping (infra/events.py; locally, local/queue_poller.py) hands a
batch of messages, each naming a delivery and the attempt it is for. A message that cannot be
handled now (the record of the attempt before it is not readable yet, a throttled table) is
reported in `batchItemFailures`, so only it comes back after the queue's visibility timeout;
the others are deleted. A message that keeps failing ends in the queue's dead-letter queue.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from kiln import config, services

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable

logger = logging.getLogger("kiln.webhook_deliver")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    deliveries = services.current().deliveries
    failures = []
    for record in event.get("Records") or []:
        try:
            message = json.loads(record["body"])
        except (KeyError, ValueError):
            # Never readable, however often it is retried: drop it rather than block a slot.
            logger.error("dropping an unreadable delivery message %s", record.get("messageId"))
            continue
        try:
            outcome = deliveries.attempt(message)
            logger.info("delivery %s attempt %s: %s", message.get("deliveryId"), message.get("attempt"), outcome)
        except Exception:
            logger.exception("delivery %s attempt %s failed", message.get("deliveryId"), message.get("attempt"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}

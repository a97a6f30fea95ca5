"""The webhook delivery queue (kiln.domain.deliveries.DeliveryQueue) on Amazon SQS.

One standard queue feeds the delivery worker through an event source mapping. A message is a
small JSON object naming a delivery and the attempt it is for; its delay (DelaySeconds, at most
900 s) is the wait before that attempt, and kiln.domain.deliveries chains hops for longer waits.
"""

from __future__ import annotations

import json
from typing import Any

from kiln import config
from kiln.adapters.aws import client

MAX_DELAY_SECONDS = 900


class DeliveryQueue:
    def __init__(self, queue_url: str | None = None) -> None:
        self._queue_url = queue_url

    @property
    def queue_url(self) -> str:
        return self._queue_url or config.delivery_queue_url()

    def send(self, message: dict[str, Any], delay_seconds: int) -> None:
        client("sqs").send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(message, separators=(",", ":")),
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(delay_seconds))),
        )

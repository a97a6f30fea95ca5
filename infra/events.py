"""Event capture and webhook delivery (docs/events.md): the queues, and the event source mappings
that feed the workers declaring a `source` in kiln.routes.WORKERS.

- `table-stream`: the table's DynamoDB stream (infra/data.py) -> kiln.workers.table_stream, in
  batches of up to 100 from the oldest record still kept (TRIM_HORIZON, 24 h), reporting batch
  item failures (a consumer's failure retries from the first failed record), bisecting a batch
  that keeps failing, at most `STREAM_RETRY_ATTEMPTS` retries; then the batch's description goes
  to the `StreamFailures` queue (14 days) instead of holding the shard.
- `delivery-queue`: the webhook delivery queue -> kiln.workers.webhook_deliver, 5 messages a
  batch, reporting batch item failures; a message received `DELIVERY_MAX_RECEIVES` times goes
  to the `DeliveryDeadLetters` queue. Retries of deliveries are not these: they are new
  messages with their own delay (kiln.domain.deliveries).

The mappings read with the function's role, so the reads are grants of the worker
(`table-stream:read`, `deliveries:receive`: infra/grants.py), never added by CDK (Kiln's roles
take no policy updates). The queues are created before any function so that their ARNs are
grant targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, NestedStack, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.lambdas import KilnFunction
from infra.nag import acknowledge
from kiln.routes import Worker

STREAM_BATCH_SIZE = 100
STREAM_RETRY_ATTEMPTS = 10
DELIVERY_BATCH_SIZE = 5
DELIVERY_MAX_RECEIVES = 5
# AWS: a queue feeding Lambda needs a visibility timeout of at least six times the function's.
VISIBILITY_FACTOR = 6
RETENTION = Duration.days(14)

DEAD_LETTER_REASON = (
    "This queue is itself where failures end (a dead-letter queue / the stream mapping's on-failure "
    "destination), kept 14 days for inspection and replay; a dead-letter queue of its own would hold nothing."
)
SQS_MAPPING_DESTINATION_REASON = (
    "An SQS event source mapping takes no on-failure destination: messages that keep failing move to the "
    "queue's own dead-letter queue (redrive policy, DeliveryDeadLetters)."
)
ASYNC_DLQ_REASON = (
    "Invoked only by an event source mapping (synchronously): failed stream batches go to the mapping's "
    "on-failure destination and failed messages to the queue's dead-letter queue; a function DLQ would "
    "never receive anything."
)


class EventQueues(NestedStack):
    """The delivery queue with its dead-letter queue, and the stream's failure queue: a nested
    stack of their own (6 resources for 1), as the root stack is the one near its budget."""

    def __init__(
        self, scope: Construct, id: str, *, delivery_timeout_seconds: int, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, id, description="Kiln events: the webhook delivery queues")

        def queue(name: str, **extra: Any) -> sqs.Queue:
            return sqs.Queue(
                self,
                name,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=RETENTION,
                removal_policy=removal_policy,
                **extra,
            )

        self.dead_letters = queue("DeliveryDeadLetters")
        self.stream_failures = queue("StreamFailures")
        for terminal in (self.dead_letters, self.stream_failures):
            acknowledge(terminal, "AwsSolutions-SQS3", DEAD_LETTER_REASON)
            acknowledge(terminal, "Serverless-SQSRedrivePolicy", DEAD_LETTER_REASON)
        self.deliveries = queue(
            "Deliveries",
            visibility_timeout=Duration.seconds(VISIBILITY_FACTOR * delivery_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=DELIVERY_MAX_RECEIVES),
        )

    def connect(self, table: dynamodb.ITable, workers: Mapping[Worker, KilnFunction]) -> None:
        """One event source mapping per worker with a `source`."""
        for worker, function in workers.items():
            if worker.source is None:
                continue
            acknowledge(function.function, "Serverless-LambdaDLQ", ASYNC_DLQ_REASON)
            if worker.source == "table-stream":
                function.function.add_event_source(
                    sources.DynamoEventSource(
                        table,
                        starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                        batch_size=STREAM_BATCH_SIZE,
                        bisect_batch_on_error=True,
                        report_batch_item_failures=True,
                        retry_attempts=STREAM_RETRY_ATTEMPTS,
                        max_record_age=Duration.hours(24),
                        on_failure=sources.SqsDlq(self.stream_failures),
                    )
                )
            elif worker.source == "delivery-queue":
                function.function.add_event_source(
                    sources.SqsEventSource(
                        self.deliveries, batch_size=DELIVERY_BATCH_SIZE, report_batch_item_failures=True
                    )
                )
                acknowledge(
                    function.function, "Serverless-LambdaEventSourceMappingDestination", SQS_MAPPING_DESTINATION_REASON
                )
            else:
                raise ValueError(f"worker {worker.name!r}: unknown source {worker.source!r}")

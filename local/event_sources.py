"""Lambda event source mappings, emulated: the table's stream and the webhook delivery queue.

In AWS, Lambda polls the table's DynamoDB stream and the delivery queue and invokes the
workers the route table marks with a `source` (infra/events.py). moto keeps both (a stream of
NEW_AND_OLD_IMAGES records per table, SQS with real-time delays) but invokes nothing, so here
two threads poll them and invoke the same workers through local.lambda_runtime, with the event
shapes and failure semantics of a mapping:

- stream: records of each shard in order, in batches; a batch whose answer reports
  `batchItemFailures` (or that raises) is handed again from the first failed record, after a
  short pause, up to `STREAM_RETRY_ATTEMPTS` times; then it is skipped with a log line (the
  deployed mapping sends it to its on-failure destination instead).
- queue: up to `QUEUE_BATCH` messages at a time; the ones reported failed stay in the queue and
  come back after a short visibility timeout, the others are deleted.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from local import lambda_runtime
from local.constants import REGION, function_name

STREAM_BATCH = 100
STREAM_RETRY_ATTEMPTS = 5
QUEUE_BATCH = 5
# Seconds a failed message stays invisible before it is handed again (the deployed queue's
# visibility timeout is minutes; locally retries should come quickly).
QUEUE_RETRY_VISIBILITY = 1
# Pause after a poll that found nothing (each poll is a few calls to moto), doubling while
# nothing comes, up to IDLE_POLL_SECONDS: an idle local cloud (a test session may run several)
# should cost next to no CPU, and a busy one polls again at once.
POLL_SECONDS = 0.2
IDLE_POLL_SECONDS = 1.0

Invoke = Callable[[dict[str, Any]], lambda_runtime.InvocationResult]


def _worker(source: str) -> Any:
    from kiln.routes import WORKERS

    [worker] = [w for w in WORKERS if w.source == source]
    return worker


def _invoker(source: str) -> Invoke:
    worker = _worker(source)

    def invoke(event: dict[str, Any]) -> lambda_runtime.InvocationResult:
        result = lambda_runtime.invoke(
            worker.handler_ref,
            event,
            function_name(worker.name),
            timeout_seconds=worker.timeout_seconds,
            memory_mb=worker.memory_mb,
        )
        lambda_runtime.log_failure(function_name(worker.name), result)
        return result

    return invoke


def _failed_ids(result: lambda_runtime.InvocationResult) -> list[str] | None:
    """The reported item identifiers, or None when the whole batch failed (an error, or an answer
    that is not a batch response)."""
    if not result.ok or not isinstance(result.payload, dict):
        return None
    failures = result.payload.get("batchItemFailures") or []
    return [str(f.get("itemIdentifier")) for f in failures if isinstance(f, dict)]


def _json_safe(value: Any) -> Any:
    """boto3 hands ApproximateCreationDateTime as a datetime; Lambda sends epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


class _Poller:
    name = "poller"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        pause = POLL_SECONDS
        while not self._stop.is_set():
            try:
                busy = self.poll()
            except Exception as error:  # noqa: BLE001 - a poller survives anything; the cloud keeps running
                print(f"[{self.name}] {type(error).__name__}: {error}", file=sys.stderr)
                busy = False
            if busy:
                pause = POLL_SECONDS
            else:
                self._stop.wait(pause)
                pause = min(pause * 2, IDLE_POLL_SECONDS)

    def poll(self) -> bool:
        raise NotImplementedError


class StreamPoller(_Poller):
    """Reads every shard of the table's stream and invokes the stream worker per batch."""

    name = "table-stream"

    def __init__(
        self, streams: Any, stream_arn: str, invoke: Invoke | None = None, trim: Callable[[str], None] | None = None
    ) -> None:
        super().__init__()
        self._streams = streams
        self._arn = stream_arn
        self._invoke = invoke or _invoker("table-stream")
        self._trim = trim or (lambda sequence: None)
        self._last: dict[str, str] = {}  # shard -> sequence number of the last record read
        self._pending: dict[str, list[dict[str, Any]]] = {}  # records read, not yet handled

    def poll(self) -> bool:
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        busy = False
        for shard in shards:
            shard_id = shard["ShardId"]
            pending = self._pending.setdefault(shard_id, [])
            if len(pending) < STREAM_BATCH:
                records = self._read(shard_id, STREAM_BATCH - len(pending))
                if records:
                    self._last[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                pending.extend({**_json_safe(r), "eventSourceARN": self._arn, "awsRegion": REGION} for r in records)
            if pending:
                self._handle(pending)
                busy = True
        return busy

    def _read(self, shard_id: str, limit: int) -> list[dict[str, Any]]:
        # A fresh iterator after the last record read, every time: cheap here, and it stays a
        # position in the shard however much of its start the trimmer below has dropped.
        last = self._last.get(shard_id)
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
            if last
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id, **position)["ShardIterator"]
        return list(self._streams.get_records(ShardIterator=iterator, Limit=limit)["Records"])

    def _handle(self, pending: list[dict[str, Any]]) -> None:
        batch = list(pending)
        for attempt in range(1, STREAM_RETRY_ATTEMPTS + 1):
            failed = _failed_ids(self._invoke({"Records": batch}))
            if failed == []:
                del pending[: len(batch)]
                self._trim(batch[-1]["dynamodb"]["SequenceNumber"])
                return
            sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
            start = sequences.index(failed[0]) if failed and failed[0] in sequences else 0
            del pending[:start]  # handled: the mapping checkpoints before the first failure
            batch = batch[start:]
            if self._stop.wait(min(2.0, 0.1 * 2**attempt)):
                return
        print(f"[{self.name}] skipping {len(batch)} records after {STREAM_RETRY_ATTEMPTS} attempts", file=sys.stderr)
        del pending[: len(batch)]
        self._trim(batch[-1]["dynamodb"]["SequenceNumber"])


def moto_stream_trimmer(table_name: str) -> Callable[[str], None]:
    """Drops a table's stream records up to a sequence number from moto's memory (the local cloud
    runs moto in its own process), as DynamoDB drops them after 24 hours. Without it the shard
    only grows for as long as the local cloud runs."""
    from moto.dynamodb.models import dynamodb_backends

    from local.atomic import LOCK
    from local.constants import ACCOUNT_ID

    def trim(sequence: str) -> None:
        with LOCK:  # moto's item operations, which append to the shard, hold it too
            shard = dynamodb_backends[ACCOUNT_ID][REGION].tables[table_name].stream_shard
            if shard is None:
                return
            drop = min(len(shard.items), int(sequence) + 1 - shard.starting_sequence_number)
            if drop > 0:
                del shard.items[:drop]
                # Sequence numbers stay those already handed out: moto numbers a record by its
                # index plus this start.
                shard.starting_sequence_number += drop

    return trim


class QueuePoller(_Poller):
    """Receives the delivery queue's messages and invokes the delivery worker per batch."""

    name = "delivery-queue"

    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, invoke: Invoke | None = None) -> None:
        super().__init__()
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._invoke = invoke or _invoker("delivery-queue")

    def poll(self) -> bool:
        messages = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=QUEUE_BATCH, VisibilityTimeout=QUEUE_RETRY_VISIBILITY
        ).get("Messages", [])
        if not messages:
            return False
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": self._arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
        failed = _failed_ids(self._invoke({"Records": records}))
        if failed is None:
            return True  # all of them come back after the visibility timeout
        done = [m for m in messages if m["MessageId"] not in set(failed)]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return True

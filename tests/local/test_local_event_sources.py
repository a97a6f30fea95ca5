"""The local event source mappings: the stream poller hands batches in order and retries from the
first failed record; the queue poller deletes only the messages that did not fail."""

from __future__ import annotations

from typing import Any

from local import event_sources
from local.event_sources import QueuePoller, StreamPoller
from local.lambda_runtime import InvocationResult


class FakeStreams:
    def __init__(self, sequences: list[int]) -> None:
        self.records = [{"eventID": str(n), "dynamodb": {"SequenceNumber": str(n)}} for n in sequences]

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "s1"}]}}

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str = ""
    ) -> dict[str, Any]:
        after = int(SequenceNumber) if ShardIteratorType == "AFTER_SEQUENCE_NUMBER" else -1
        return {"ShardIterator": str(after)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        after = int(ShardIterator)
        return {"Records": [r for r in self.records if int(r["dynamodb"]["SequenceNumber"]) > after][:Limit]}


def test_stream_batches_retry_from_the_first_failed_record(monkeypatch) -> None:
    monkeypatch.setattr(event_sources, "STREAM_BATCH", 3)
    batches: list[list[str]] = []
    trimmed: list[str] = []

    def invoke(event: dict[str, Any]) -> InvocationResult:
        sequences = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        batches.append(sequences)
        if len(batches) == 1:  # the first batch fails at its second record
            return InvocationResult({"batchItemFailures": [{"itemIdentifier": sequences[1]}]})
        return InvocationResult({"batchItemFailures": []})

    poller = StreamPoller(FakeStreams([1, 2, 3, 4, 5]), "arn:stream", invoke=invoke, trim=trimmed.append)
    assert poller.poll() is True
    assert poller.poll() is True
    assert poller.poll() is False  # everything handled
    assert batches == [["1", "2", "3"], ["2", "3"], ["4", "5"]]
    assert trimmed == ["3", "5"]


class FakeQueue:
    def __init__(self, bodies: list[str]) -> None:
        self.messages = [{"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": b} for i, b in enumerate(bodies)]
        self.deleted: list[str] = []

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        return {"Messages": list(self.messages)}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> None:
        self.deleted += [e["ReceiptHandle"] for e in Entries]


def test_queue_messages_reported_failed_stay_the_others_are_deleted() -> None:
    queue = FakeQueue(["a", "b", "c"])
    seen: list[dict[str, Any]] = []

    def invoke(event: dict[str, Any]) -> InvocationResult:
        seen.extend(event["Records"])
        return InvocationResult({"batchItemFailures": [{"itemIdentifier": "m1"}]})

    assert QueuePoller(queue, "url", "arn:queue", invoke=invoke).poll() is True
    assert [r["body"] for r in seen] == ["a", "b", "c"] and seen[0]["eventSource"] == "aws:sqs"
    assert queue.deleted == ["r0", "r2"]


def test_a_crashed_invocation_deletes_nothing() -> None:
    queue = FakeQueue(["a"])
    crashed = InvocationResult({"errorType": "RuntimeError"}, function_error="Unhandled")
    QueuePoller(queue, "url", "arn:queue", invoke=lambda event: crashed).poll()
    assert queue.deleted == []

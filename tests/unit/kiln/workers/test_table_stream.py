"""The stream worker: records -> TableChanges -> every consumer; a failure reports the batch."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from kiln.adapters.dynamodb.table_changes import from_record
from kiln.domain.table_changes import TableChange


def record(sequence: str, name: str = "INSERT", **images: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Keys": {"pk": {"S": "WS#ws_1"}, "sk": {"S": "PROJECT#proj_1"}},
        "SequenceNumber": sequence,
        "ApproximateCreationDateTime": 1740830400,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    body.update(images)
    return {"eventID": sequence, "eventName": name, "dynamodb": body}


def test_a_record_becomes_a_change_with_plain_values():
    change = from_record(
        record(
            "11",
            "MODIFY",
            NewImage={"pk": {"S": "WS#ws_1"}, "sk": {"S": "PROJECT#proj_1"}, "revision": {"N": "2"}},
            OldImage={"pk": {"S": "WS#ws_1"}, "sk": {"S": "PROJECT#proj_1"}, "revision": {"N": "1"}},
        )
    )
    assert (change.kind, change.pk, change.sk, change.sequence) == ("modify", "WS#ws_1", "PROJECT#proj_1", "11")
    assert change.at == "2025-03-01T12:00:00.000Z"
    assert change.new is not None and change.new["revision"] == 2 and change.changed("revision")
    ttl = from_record(
        {**record("12", "REMOVE"), "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"}}
    )
    assert ttl.kind == "remove" and ttl.expired


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("KILN_ENVIRONMENT", "local")
    monkeypatch.setenv("KILN_TABLE_NAME", "t")
    monkeypatch.setenv("KILN_BUCKET_NAME", "b")
    from kiln import config

    config.reset()
    from kiln.workers import table_stream

    yield table_stream
    config.reset()


def test_every_consumer_gets_the_batch_and_success_reports_nothing(worker: Any, monkeypatch: pytest.MonkeyPatch):
    seen: list[list[TableChange]] = []

    def consumer(changes: Sequence[TableChange]) -> None:
        seen.append(list(changes))

    monkeypatch.setattr(worker, "CONSUMERS", (consumer, consumer))
    answer = worker.handler({"Records": [record("1"), {"eventID": "bad"}, record("2")]})
    assert answer == {"batchItemFailures": []}
    assert [[c.sequence for c in batch] for batch in seen] == [["1", "2"], ["1", "2"]]  # the unreadable one skipped


def test_a_failing_consumer_reports_the_batch_for_retry_and_the_others_still_run(
    worker: Any, monkeypatch: pytest.MonkeyPatch
):
    ran: list[str] = []

    def broken(changes: Sequence[TableChange]) -> None:
        raise RuntimeError("table throttled")

    def fine(changes: Sequence[TableChange]) -> None:
        ran.append("fine")

    monkeypatch.setattr(worker, "CONSUMERS", (broken, fine))
    answer = worker.handler({"Records": [record("5"), record("6")]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "5"}]}
    assert ran == ["fine"]


def test_the_registry_names_the_webhook_fan_out(worker: Any):
    assert worker.webhook_fan_out in worker.CONSUMERS

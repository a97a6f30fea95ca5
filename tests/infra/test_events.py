"""Event capture and delivery in the synthesized app: the table's stream, the event source
mappings with their failure handling, the queues, and who may read or send what."""

from __future__ import annotations

import json

from kiln.routes import ROUTES, WORKERS
from tests.infra.conftest import Synth
from tests.infra.test_stack import actions, function_key, functions, role_statements

STREAM_READS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
QUEUE_READS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}


def _mappings(main: Synth) -> list[dict]:
    return [resource["Properties"] for _, resource in main.resources("AWS::Lambda::EventSourceMapping").values()]


def _queues(main: Synth) -> dict[str, dict]:
    return {
        key.split(":", 1)[1]: resource["Properties"] for key, (_, resource) in main.resources("AWS::SQS::Queue").items()
    }


def test_the_table_streams_new_and_old_images(main: Synth) -> None:
    [table] = [r["Properties"] for key, (_, r) in main.resources("AWS::DynamoDB::Table").items() if ":DataTable" in key]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_the_stream_mapping_retries_bisects_reports_and_keeps_what_failed(main: Synth) -> None:
    [stream] = [m for m in _mappings(main) if "StartingPosition" in m]
    assert stream["StartingPosition"] == "TRIM_HORIZON"
    assert stream["BisectBatchOnFunctionError"] is True
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stream["MaximumRetryAttempts"] == 10 and stream["MaximumRecordAgeInSeconds"] == 86400
    destination = json.dumps(stream["DestinationConfig"]["OnFailure"]["Destination"])
    assert "StreamFailures" in destination
    assert "TableStreamArn" in json.dumps(stream["EventSourceArn"]) or "StreamArn" in json.dumps(
        stream["EventSourceArn"]
    )


def test_the_delivery_queue_mapping_and_its_dead_letters(main: Synth) -> None:
    [queue_mapping] = [m for m in _mappings(main) if "StartingPosition" not in m]
    assert queue_mapping["BatchSize"] == 5
    assert queue_mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queues = _queues(main)
    [deliveries] = [q for name, q in queues.items() if name.startswith("Deliveries")]
    assert deliveries["RedrivePolicy"]["maxReceiveCount"] == 5
    assert "DeliveryDeadLetters" in json.dumps(deliveries["RedrivePolicy"]["deadLetterTargetArn"])
    deliver = next(w for w in WORKERS if w.source == "delivery-queue")
    assert deliveries["VisibilityTimeout"] == 6 * deliver.timeout_seconds
    for props in queues.values():
        assert props["SqsManagedSseEnabled"] is True and props["MessageRetentionPeriod"] == 14 * 86400


def test_only_the_stream_worker_reads_the_stream_and_only_the_deliverer_receives(main: Synth) -> None:
    for key, (stack, _, props) in functions(main).items():
        granted = actions(role_statements(main, stack, props))
        if key == "kiln.workers.table_stream.handler":
            assert STREAM_READS | {"dynamodb:ListStreams", "sqs:SendMessage"} <= granted
            assert not granted & QUEUE_READS
        elif key == "kiln.workers.webhook_deliver.handler":
            assert QUEUE_READS | {"sqs:SendMessage"} <= granted
            assert not granted & STREAM_READS
        else:
            assert not granted & (STREAM_READS | QUEUE_READS | {"dynamodb:ListStreams"}), key


def test_senders_name_the_queue_and_send_only(main: Synth) -> None:
    fns = functions(main)
    senders = [f"kiln.workers.{w.name}.handler" for w in WORKERS if "deliveries:send" in w.grants]
    senders += [function_key(r) for r in ROUTES if "deliveries:send" in r.grants]
    assert "kiln.workers.table_stream.handler" in senders
    for key in senders:
        stack, _, props = fns[key]
        assert "KILN_DELIVERY_QUEUE_URL" in props["Environment"]["Variables"], key
        [send] = [s for s in role_statements(main, stack, props) if s.get("Sid") == "DeliveriesSend"]
        assert send["Action"] == "sqs:SendMessage" and "*" not in json.dumps(send["Resource"])
    for key, (_, _, props) in fns.items():
        if key not in senders:
            assert "KILN_DELIVERY_QUEUE_URL" not in props.get("Environment", {}).get("Variables", {}), key

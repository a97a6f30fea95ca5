"""The table's stream worker: every item change of the main table, handed to its consumers.

Lambda's event source mapping (infra/events.py; locally, local/stream_poller.py) calls this
function with a batch of DynamoDB stream records (NEW_AND_OLD_IMAGES), in order per item. Each
record becomes a kiln.domain.table_changes.TableChange, and the whole batch goes to every
consumer in CONSUMERS, the one place that says who listens.

Failure never loses a batch: when a consumer raises, the answer reports the batch's first
record as failed (`batchItemFailures`, the mapping's ReportBatchItemFailures), so the stream
hands the batch again (bisected on repeated errors, then to the on-failure destination after
the mapping's attempts). Every consumer therefore sees some changes more than once and must
be idempotent; the others that succeeded are simply run again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kiln import config, services
from kiln.adapters.dynamodb.table_changes import from_record
from kiln.domain.table_changes import Consumer, TableChange

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable

logger = logging.getLogger("kiln.table_stream")


def webhook_fan_out(changes: Sequence[TableChange]) -> None:
    """Queues a delivery per event and matching webhook (kiln.domain.deliveries)."""
    services.current().deliveries.fan_out(changes)


def stats_counters(changes: Sequence[TableChange]) -> None:
    """Keeps GET /v1/admin/stats's counters (kiln.domain.stats), each change counted once."""
    services.current().stats.record(changes)


def live_fan_out(changes: Sequence[TableChange]) -> None:
    """Pushes new run events to the WebSocket connections subscribed to their run (kiln.domain.live)."""
    from kiln.adapters.dynamodb.live import appended_runs

    live = services.current().live
    for workspace_id, run_ids in appended_runs(changes).items():
        live.publish(workspace_id, run_ids)


# Who consumes the table's changes, in the order they run. Add a consumer here (a callable
# taking the batch's changes, built from services.current()); nothing else wires it.
CONSUMERS: tuple[Consumer, ...] = (webhook_fan_out, stats_counters, live_fan_out)


def _changes(records: list[dict[str, Any]]) -> list[TableChange]:
    changes = []
    for record in records:
        try:
            changes.append(from_record(record))
        except (KeyError, ValueError, TypeError):
            # A record of another shape can never be read, however often it is retried; holding
            # the shard for it would stop every later change.
            logger.error("skipping an unreadable stream record: %s", record.get("eventID"))
    return changes


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    records = event.get("Records") or []
    if not records:
        return {"batchItemFailures": []}
    changes = _changes(records)
    failed = False
    for consumer in CONSUMERS:
        try:
            consumer(changes)
        except Exception:
            logger.exception("consumer %s failed on a batch of %d changes", consumer.__name__, len(changes))
            failed = True
    if not failed:
        return {"batchItemFailures": []}
    first = str(records[0].get("dynamodb", {}).get("SequenceNumber", ""))
    return {"batchItemFailures": [{"itemIdentifier": first}]}

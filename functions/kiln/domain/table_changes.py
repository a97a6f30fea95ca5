"""One item change of the main table, as the table's stream reports it, in plain Python values.

The DynamoDB stream (NEW_AND_OLD_IMAGES) is where Kiln learns that something happened: every
writer (runs, projects, specs, exports, imports, custom events, webhooks) already writes an
item, so the stream sees them all without any writer doing more. kiln.adapters.dynamodb.
table_changes turns each stream record into a `TableChange`; the consumers declared in
kiln.workers.table_stream (webhook fan-out, stats, real time) read only this type, never a
stream record, so they stay free of DynamoDB's wire format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ChangeKind = Literal["insert", "modify", "remove"]


@dataclass(frozen=True)
class TableChange:
    """An item written (insert, modify) or deleted (remove, TTL expiries included).

    `new` and `old` are the item's images as plain values (numbers as int or float), `None`
    where the change has none (no `old` on an insert, no `new` on a remove). `sequence` is the
    stream's sequence number of the record: unique per change and the same on every retry of a
    batch, so consumers can derive idempotent ids from it. `at` is the approximate moment of
    the write (ISO 8601, UTC).
    """

    kind: ChangeKind
    pk: str
    sk: str
    sequence: str
    at: str
    new: dict[str, Any] | None = None
    old: dict[str, Any] | None = None
    # True when DynamoDB's TTL removed the item (the record's userIdentity is the TTL service).
    expired: bool = False

    @property
    def image(self) -> dict[str, Any]:
        """The item as it is after the change, or as it was before a remove."""
        return self.new if self.new is not None else (self.old or {})

    def changed(self, attribute: str) -> bool:
        """Whether `attribute` differs between the old and the new image."""
        return (self.old or {}).get(attribute) != (self.new or {}).get(attribute)


# What every consumer of the stream is: called with one batch's changes, in stream order.
# A consumer raises to have the batch retried (kiln.workers.table_stream reports the failure
# so the stream hands the records again), so it must be idempotent.
Consumer = Callable[[Sequence[TableChange]], None]

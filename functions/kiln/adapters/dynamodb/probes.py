"""Self-check probes in the single table."""

from __future__ import annotations

from kiln.adapters.dynamodb.items import from_item, get_item, put_item
from kiln.adapters.schema import TTL_ATTRIBUTE


class Probes:
    """Items written by the self-check workflow; they expire through the table's TTL."""

    def write(self, probe_id: str, payload: str, expires_at_epoch: int) -> None:
        put_item(
            {
                "pk": f"PROBE#{probe_id}",
                "sk": "PROBE",
                "type": "probe",
                "payload": payload,
                TTL_ATTRIBUTE: expires_at_epoch,
            }
        )

    def read(self, probe_id: str) -> str | None:
        item = get_item(f"PROBE#{probe_id}", "PROBE", consistent=True)
        return from_item(item)["payload"] if item else None

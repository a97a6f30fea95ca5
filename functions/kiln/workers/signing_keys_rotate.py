"""Scheduled step of the access-token signing key set's rotation (kiln.domain.tokens).

Invoked by an EventBridge schedule (kiln.routes.Worker.schedule), never by a workflow. Each run
is one `KeySet.advance`: drop retiring keys whose last token has expired, let a `next` key that
has been published long enough start signing, and publish a successor once the current key is
ROTATION_PERIOD_SECONDS old. An empty set (a stack nobody bootstrapped yet) gets its first key.

The schedule's period only needs to be shorter than the waits it serves: run hourly, a staged
key signs within an hour of PUBLISH_LEAD_SECONDS (6 min) and a retired key leaves the JWKS
within an hour of RETIRE_AFTER_SECONDS (16 min). Both waits are lower bounds, so a late or
missed run is always safe; only an early one could hurt, and `advance` never acts early.

Nothing is written when nothing changes, so the secret's versions record rotations only. Two
overlapping runs (EventBridge delivers at least once) can both write; the later write wins, and
what it may drop is a `next` key staged a moment earlier, which never signed anything.
"""

from __future__ import annotations

from typing import Any

from kiln import config, services
from kiln.adapters import secrets
from kiln.domain.tokens import KeySet

config.load(config.WorkerSettings)  # the cold start fails on a missing or malformed variable


def rotate(now: int) -> dict[str, Any]:
    """One rotation step at `now` (epoch seconds); returns what the set holds afterwards."""
    before = KeySet.from_json(secrets.signing_keys())
    after = before.advance(now)
    changed = after != before
    if changed:
        secrets.put_signing_keys(after.to_json())
    return {"changed": changed, "keys": [{"kid": key.kid, "state": key.state} for key in after.keys]}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return rotate(int(services.current().clock().timestamp()))

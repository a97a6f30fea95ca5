"""Give moto's DynamoDB the atomicity of the real service.

DynamoDB evaluates a condition and applies the write as one indivisible step, and applies a
transaction's items all at once. moto checks and writes in plain Python, so two threads of
the (threaded) emulator can both pass the same condition. Kiln's status machine relies on
exactly that guarantee (two overlapping transitions never both win), so the local cloud and
the tests serialize moto's item operations behind one lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
# Held by whatever else changes moto's tables in place (local.event_sources trims the stream).
LOCK = _LOCK
_ITEM_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "transact_write_items")
_MARK = "_kiln_serialized"


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    setattr(locked, _MARK, True)
    return locked


def install() -> None:
    """Patch moto's DynamoDB backend once per process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    from local import dynamodb_transactions

    # First, so that the lock below wraps the replacement rather than being replaced by it.
    dynamodb_transactions.install()
    for name in _ITEM_OPERATIONS:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, _MARK, False):
            setattr(DynamoDBBackend, name, _serialized(method))

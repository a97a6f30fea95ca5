"""kiln.domain.stats.CounterStore in memory, with kiln.adapters.dynamodb.stats' semantics: one
set of counters, each change added at most once per change id (the adapter's applied marker),
counters that were never moved absent from what `read` answers."""

from __future__ import annotations

import threading

from tests.fakes._hooks import Hooks


class FakeCounters(Hooks):
    def __init__(self) -> None:
        super().__init__()
        self.counters: dict[str, int] = {}
        self.applied: set[str] = set()
        self._lock = threading.Lock()

    def read(self) -> dict[str, int]:
        self._hook("read")
        with self._lock:
            return dict(self.counters)

    def apply(self, change_id: str, changes: dict[str, int]) -> bool:
        self._hook("apply")
        with self._lock:
            if change_id in self.applied:
                return False
            self.applied.add(change_id)
            for name, value in changes.items():
                self.counters[name] = self.counters.get(name, 0) + value
            return True

"""What every fake shares: a way for a test to act *between* a service's read and its write.

Races and failures are what the real adapters' conditions exist for, so a fake that could
only succeed would test half of each service. `before("set_status", cancel_the_run)` runs
`cancel_the_run` at the start of the next `set_status` call (a concurrent writer that got
there first); `fail_next("start", error)` makes the next `start` raise `error` having written
nothing (a throttled or failing dependency). Both are one-shot unless `times` says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable


class Hooks:
    def __init__(self) -> None:
        self._before: dict[str, list[Callable[[], object]]] = {}

    def before(self, method: str, action: Callable[[], object], *, times: int = 1) -> None:
        """Run `action` at the start of the next `times` calls of `method` (an exception it
        raises is what the call raises, with nothing written)."""
        if not callable(getattr(self, method, None)):
            raise AttributeError(f"{type(self).__name__} has no method {method}")
        self._before.setdefault(method, []).extend([action] * times)

    def fail_next(self, method: str, error: BaseException, *, times: int = 1) -> None:
        def fail() -> None:
            raise error

        self.before(method, fail, times=times)

    def forget(self) -> None:
        """Drop the actions that have not run (their call never came)."""
        self._before.clear()

    def _hook(self, method: str) -> None:
        pending = self._before.get(method)
        if pending:
            pending.pop(0)()

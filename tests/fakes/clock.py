"""kiln.clock.Clock for tests: time that moves only when the test (or a call) moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FakeClock:
    """Each call first moves the time on by `step`, then answers it: with the default step of a
    millisecond every stamp and every id (whose first characters are the creation time) is
    distinct and ordered, as they are in production; `step=timedelta(0)` pins the time.
    `sleep` is a service's `sleep` parameter: it records the delay and lets that much time pass."""

    def __init__(self, start: datetime = START, step: timedelta = timedelta(milliseconds=1)) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's time must be timezone-aware")
        self.now = start
        self.step = step
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)

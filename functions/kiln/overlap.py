"""Work started now and answered later, so that its AWS round trip overlaps the caller's own.

A request that needs two independent calls (the limiter's window and day checks next to the
handler's read, a page's count next to its query) hands one to a `Job` and does the other.
The jobs run on one pool of daemon threads per container, kept once started: starting a
thread per request costs more than the stubbed call it would carry. A thread is started only
when a job finds none idle (up to WORKERS): a container's first request, which hands over one
or two jobs, starts one or two threads, not all of them on its cold path.

Whichever thread claims a job first runs it: a pool thread that picks it up, or the caller
once it needs the answer (`Job.result`) and no pool thread has started it yet. As deployed,
the caller's own AWS call releases the GIL within microseconds and a pool thread starts the
job then, so the two share one round trip. A job no pool thread has begun by the time its
answer is needed would only start later on one: the caller runs it itself rather than pay a
thread switch to wait for the same work (with the AWS call stubbed, where nothing waits,
that is the usual case). Plain locks rather than `threading.Event`, which builds a Condition
and its lock every time.
"""

from __future__ import annotations

import threading
from _queue import SimpleQueue  # queue.SimpleQueue itself, without `queue`'s imports on the cold start
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Pool threads: a request overlaps two jobs at most; the local cloud serves a few requests at
# once in one process, a Lambda container one.
WORKERS = 4


class Job(Generic[T]):
    """One piece of work: its result, or what it raised, for whoever waits for it."""

    __slots__ = ("_claimed", "_done", "_error", "_result", "_work")

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._result: T | None = None
        self._error: BaseException | None = None
        self._claimed = threading.Lock()  # held by the thread that runs (or cancelled) the job
        self._done = threading.Lock()  # held until the job has finished or was cancelled
        self._done.acquire()

    def run(self) -> None:
        """Run the work here, unless another thread has already claimed it."""
        if not self._claimed.acquire(blocking=False):
            return
        try:
            self._result = self._work()
        except BaseException as error:  # noqa: BLE001 - raised again to whoever asks for the result
            self._error = error
        finally:
            self._done.release()

    def cancel(self) -> bool:
        """Make sure the work never runs: True if it had not started (so it did nothing)."""
        if not self._claimed.acquire(blocking=False):
            return False
        self._error = RuntimeError("the job was cancelled before it started")
        self._done.release()
        return True

    def wait(self) -> None:
        """Until the work has finished (or was cancelled), whichever thread runs it."""
        self._done.acquire()
        self._done.release()

    def result(self) -> T:
        """The work's result, or what it raised; run here when no pool thread has started it."""
        self.run()
        self.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]  # set: the work returned


class _Pool:
    """The queue of jobs and the threads serving it."""

    def __init__(self) -> None:
        self.jobs: SimpleQueue[Job[Any]] = SimpleQueue()
        self.threads = 0  # started so far
        # Threads free to take a job: a thread adds itself when it finishes one, a submit that
        # relies on it takes it away. Once all WORKERS run, a job that waited in the queue was
        # not taken away, so this may overcount; harmless then, as no thread is started any more.
        self.idle = 0
        self.counting = threading.Lock()

    def submit(self, job: Job[Any]) -> None:
        with self.counting:
            grow = self.idle == 0 and self.threads < WORKERS
            if grow:
                self.threads += 1
            else:
                # Taken when the job is handed over rather than when a thread wakes for it: two
                # jobs submitted back to back must not both count on one idle thread.
                self.idle = max(0, self.idle - 1)
            number = self.threads
        self.jobs.put(job)
        if grow:
            # Daemons: a frozen or ending container never waits for an idle thread.
            threading.Thread(target=self._serve, name=f"kiln-overlap-{number - 1}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            self.jobs.get().run()  # a no-op for a job its caller claimed meanwhile
            with self.counting:
                self.idle += 1


# One per container. A thread is started only when a job finds none idle: a container that
# never overlaps anything, or a snapshot taken before the first request, holds none.
_pool = _Pool()


def submit(job: Job[Any]) -> None:
    """Hand `job` to the pool, starting a thread when none is idle to take it."""
    _pool.submit(job)


def start(work: Callable[[], T]) -> Job[T]:
    """A job doing `work`, handed to the pool; `result()` answers it."""
    job = Job(work)
    submit(job)
    return job

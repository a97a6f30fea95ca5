"""Jobs that overlap the caller's own work: run by the pool while the caller is busy (blocked),
by the caller when no pool thread has started them, never twice, on one pool of threads."""

from __future__ import annotations

import threading
import time

import pytest

from kiln import overlap

PATIENCE = 10  # seconds a test waits for the other side before calling it sequential


def test_a_job_runs_on_the_pool_while_the_caller_waits_for_something_else():
    caller_waiting = threading.Event()

    def work() -> str:
        # Only a pool thread can get past this: the caller is blocked below until it does.
        assert caller_waiting.wait(PATIENCE)
        return threading.current_thread().name

    job = overlap.start(work)
    caller_waiting.set()
    job.wait()
    assert job.result().startswith("kiln-overlap-")


def test_a_job_no_pool_thread_started_runs_on_the_callers_thread():
    job = overlap.Job(lambda: threading.current_thread())
    assert job.result() is threading.current_thread()


def test_a_job_runs_once_whoever_claims_it():
    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        return len(runs)

    job = overlap.Job(work)
    job.run()
    overlap.submit(job)  # a pool thread finds it claimed
    job.run()
    assert job.result() == 1
    overlap.start(lambda: None).wait()
    assert runs == [1]


def test_what_the_work_raises_is_raised_to_the_caller():
    def work() -> None:
        raise ValueError("no")

    job = overlap.start(work)
    with pytest.raises(ValueError, match="no"):
        job.result()
    with pytest.raises(ValueError, match="no"):
        job.result()  # asked again, the same answer


def test_a_cancelled_job_never_runs():
    runs: list[int] = []
    job = overlap.Job(lambda: runs.extend([1]))
    assert job.cancel()
    overlap.submit(job)
    job.run()
    with pytest.raises(RuntimeError, match="cancelled"):
        job.result()
    assert runs == [] and not job.cancel()


def test_a_job_that_started_cannot_be_cancelled():
    started, release = threading.Event(), threading.Event()

    def work() -> str:
        started.set()
        assert release.wait(PATIENCE)
        return "done"

    job = overlap.start(work)
    assert started.wait(PATIENCE)
    assert not job.cancel()
    release.set()
    assert job.result() == "done"


def test_every_job_shares_one_pool_of_threads():
    jobs = [overlap.start(lambda: threading.current_thread().name) for _ in range(50)]
    for job in jobs:
        job.result()
    names = {thread.name for thread in threading.enumerate() if thread.name.startswith("kiln-overlap-")}
    assert 1 <= len(names) <= overlap.WORKERS
    assert all(thread.daemon for thread in threading.enumerate() if thread.name in names)


def pool_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("kiln-overlap-")}


def test_a_thread_is_started_only_for_a_job_no_idle_thread_can_take(monkeypatch):
    pool = overlap._Pool()  # a pool of its own: the threads earlier tests started serve theirs
    monkeypatch.setattr(overlap, "_pool", pool)
    before = pool_threads()

    caller_waiting = threading.Event()
    first = overlap.start(lambda: caller_waiting.wait(PATIENCE))  # only a pool thread can run it
    caller_waiting.set()
    first.wait()
    assert len(pool_threads() - before) == 1
    deadline = time.monotonic() + PATIENCE
    while pool.idle != 1:  # the thread counts itself idle just after finishing the job
        assert time.monotonic() < deadline
        time.sleep(0.001)

    overlap.start(lambda: None).wait()  # the idle thread takes it: no second thread
    assert len(pool_threads() - before) == 1

    # Jobs that hold their thread: each finds none idle, until all WORKERS run.
    release = threading.Event()
    busy = [overlap.start(lambda: release.wait(PATIENCE)) for _ in range(overlap.WORKERS + 2)]
    started = pool_threads() - before
    release.set()
    for job in busy:
        job.result()
    assert len(started) == overlap.WORKERS

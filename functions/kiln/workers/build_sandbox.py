"""The build sandbox: compiles a generated tree and runs its tests, where nothing can be reached.

Its own function (kiln.routes.WORKERS, `sandbox=True`), invoked synchronously by build_verify
only (kiln.adapters.lambda_invoke): a role granting nothing but its log group (and the network
interfaces of its VPC), an environment without Kiln settings, subnets that route nowhere.
The request and report formats are kiln.domain.sandbox's; the checks, kiln.domain.verification's.

Before generated code runs, this process makes itself
- non-dumpable (PR_SET_DUMPABLE 0): processes of its user, the tests included, can no longer
  read its /proc/<pid>/environ (where Lambda put this function's credentials) or its memory,
  nor ptrace it;
- a child subreaper (PR_SET_CHILD_SUBREAPER): what the tests start and orphan is re-parented
  here rather than to init, and killed after each run, so nothing outlives an invocation into
  the next one (which may carry another workspace's code).
Both only where the process is a function's own (Lambda, or the local cloud's isolated
runtime, which set AWS_LAMBDA_FUNCTION_NAME): a test calling the handler in-process keeps its
process as it is.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from typing import Any

from kiln.domain import sandbox
from kiln.domain.verification import run_suite

_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
# Kept from the function's own remaining time: stopping the tests, cleaning up, answering.
ANSWER_MARGIN_SECONDS = 15
_contained = False


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    files, requested = sandbox.decode_request(event)
    _contain()
    try:
        checks = run_suite(files, _budget(requested, context))
    finally:
        _reap_orphans()
    return sandbox.encode_report(checks)


def _budget(requested: float, context: Any) -> float:
    """The tests' timeout: what build_verify asked for, within what this invocation has left."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return requested
    return max(1.0, min(requested, remaining() / 1000 - ANSWER_MARGIN_SECONDS))


def _own_process() -> bool:
    return sys.platform.startswith("linux") and bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def _contain() -> None:
    global _contained
    if _contained or not _own_process():
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for option in (_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER):
        value = 0 if option == _PR_SET_DUMPABLE else 1
        if libc.prctl(option, value, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed: the sandbox will not run code")
    _contained = True


def _children() -> list[int]:
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and fields[1] == me:
            found.append(int(entry))
    return found


def _reap_orphans(rounds: int = 50) -> None:
    """Kill every remaining descendant (re-parented here, as the subreaper) and collect them."""
    if not _contained:
        return
    # Each round kills this process's children; their own children are re-parented here as they
    # die, and are found by the next round.
    for _ in range(rounds):
        children = _children()
        if not children:
            return
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:  # collect them: no zombie stays behind
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

"""The build sandbox worker: request in, report out, and a process that keeps nothing of a run.

Its isolation from the local cloud (environment, parent's /proc) is tested through the local
Invoke path in tests/local/test_local_sandbox.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiln.domain import sandbox
from kiln.domain.builds import SuiteCounts
from kiln.workers import build_sandbox
from local import lambda_runtime

REPO = Path(__file__).resolve().parents[4]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")

TREE = {
    "app/__init__.py": b"",
    "app/calc.py": b"def add(a, b):\n    return a + b\n",
    "tests/__init__.py": b"",
    "tests/test_calc.py": b"import unittest\n\nfrom app.calc import add\n\n\nclass Add(unittest.TestCase):\n"
    b"    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
}


def test_a_request_gets_the_compile_and_unittest_checks():
    report = build_sandbox.handler(sandbox.encode_request(TREE, 60))
    compile_check, unittest_check = sandbox.decode_report(report)
    assert compile_check.passed and compile_check.output == "4 Python file(s) compiled"
    assert unittest_check.passed and unittest_check.tests == SuiteCounts(run=1)


def test_anything_but_a_request_is_refused():
    with pytest.raises(sandbox.BadRequest):
        build_sandbox.handler({"workspaceId": "ws_x", "projectId": "proj_x", "runId": "run_x"})


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_tests_stop_in_time_for_the_sandbox_to_answer():
    assert build_sandbox._budget(420, Context(480_000)) == 420
    assert build_sandbox._budget(420, Context(100_000)) == 100 - build_sandbox.ANSWER_MARGIN_SECONDS
    assert build_sandbox._budget(420, Context(5_000)) == 1.0
    assert build_sandbox._budget(30, None) == 30


_STATE = """
import ctypes, json, sys
from kiln.workers import build_sandbox
build_sandbox._contain()
libc = ctypes.CDLL(None, use_errno=True)
subreaper = ctypes.c_int(-1)
libc.prctl(37, ctypes.byref(subreaper), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
print(json.dumps({"dumpable": libc.prctl(3, 0, 0, 0, 0), "subreaper": subreaper.value}))  # PR_GET_DUMPABLE
"""


@linux_only
@pytest.mark.parametrize(
    "function_name, expected",
    [
        ("kiln-build_sandbox", {"dumpable": 0, "subreaper": 1}),  # Lambda, or the local cloud's isolated runtime
        ("", {"dumpable": 1, "subreaper": 0}),  # any other process (a test calling the handler) is left as it is
    ],
)
def test_a_sandbox_process_hides_its_environment_and_adopts_orphans(function_name, expected):
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO / "functions"), "AWS_LAMBDA_FUNCTION_NAME": function_name}
    done = subprocess.run(
        [sys.executable, "-c", _STATE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == expected


def _daemonizing_tree(pid_file: Path) -> dict[str, bytes]:
    """A generated test that leaves a daemon behind: double fork, own session, out of its group."""
    test = f"""import os
import time
import unittest


class Leaves(unittest.TestCase):
    def test_leaves_a_daemon(self):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                null = os.open(os.devnull, os.O_RDWR)  # lets go of the run's output pipe, as daemons do
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                with open({str(pid_file)!r}, "w") as handle:
                    handle.write(str(os.getpid()))
                time.sleep(60)
            os._exit(0)
        os.wait()
        deadline = time.monotonic() + 10
        while not os.path.exists({str(pid_file)!r}) and time.monotonic() < deadline:
            time.sleep(0.05)
"""
    return {"tests/__init__.py": b"", "tests/test_leaves.py": test.encode()}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@linux_only
def test_nothing_the_tests_start_outlives_the_invocation(tmp_path):
    pid_file = tmp_path / "daemon.pid"
    result = lambda_runtime.invoke_isolated(
        "kiln.workers.build_sandbox.handler",
        sandbox.encode_request(_daemonizing_tree(pid_file), 60),
        "kiln-build_sandbox",
        timeout_seconds=60,
    )
    assert result.ok, result.payload
    assert sandbox.decode_report(result.payload)[1].passed
    daemon = int(pid_file.read_text())
    assert not _alive(daemon), "the daemon the tests started survived the sandbox's invocation"


_RUN_UNCONTAINED = """
import json, sys
from kiln.domain.verification import run_suite
files = {path: content.encode() for path, content in json.loads(sys.stdin.read()).items()}
print(json.dumps(run_suite(files, 60)[1].passed))
"""


@linux_only
def test_control_without_the_sandbox_the_daemon_survives(tmp_path):
    """The same tree run by verification alone (its process group is killed, nothing more): the
    daemon left that group, so only the sandbox's reaping stops it."""
    pid_file = tmp_path / "daemon.pid"
    tree = {path: content.decode() for path, content in _daemonizing_tree(pid_file).items()}
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO / "functions")}
    done = subprocess.run(
        [sys.executable, "-c", _RUN_UNCONTAINED],
        input=json.dumps(tree),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout) is True
    daemon = int(pid_file.read_text())
    try:
        assert _alive(daemon)
    finally:
        os.kill(daemon, signal.SIGKILL)
        time.sleep(0.1)

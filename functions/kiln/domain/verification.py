"""Verification of a build's merged tree: expected outputs, compilation and the test suite.

`verify(files, plan, sandbox=...)` checks, in order:

- paths: every path is a safe relative path (no absolute path, no `..`, `.` or empty segment,
  no backslash or NUL), so nothing can be written outside the working directory;
- expected-outputs: every task's expectedOutputs is in the tree;
- compile and unittest, which `run_suite` does where the generated code may run: in the
  sandbox (kiln.workers.build_sandbox, reached through the `Sandbox` port) when one is given,
  else here, in this process (the sandbox itself, and tests):
  - compile: every .py file compiles (the first errors are reported as path:line: message);
  - unittest: the tree is written to a fresh temporary directory and
    `python -m unittest discover -s tests -t .` runs there in a subprocess with a timeout; the
    output's last 8 KB and unittest's counts are kept. The temporary directories are always
    removed, and so is every process the run left in its process group.

The test run's environment is built from an allow-list, not by removing what is known to be
secret: the locale and PATH, and HOME/TMPDIR in a scratch directory of its own. So no AWS_*
credential, AWS_LAMBDA_RUNTIME_API, KILN_* setting or endpoint (the local cloud's moto URL)
reaches the generated code, whatever else the process running it was given.

Only the temporary directories are written (tempfile honours TMPDIR; on Lambda that is /tmp).
No AWS here: the domain layer runs the same in Lambda and in tests.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Protocol

from kiln.domain.builds import SuiteCounts, TaskPlan, VerificationCheck, VerificationResult

OUTPUT_LIMIT = 8 * 1024
MAX_REPORTED_ERRORS = 10
# The only variables of the running process the generated code sees: none of them names a
# credential, an endpoint or a Kiln setting. (LD_LIBRARY_PATH: Lambda's interpreter finds its
# shared libraries through it.)
_INHERITED = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH")
_UNITTEST = ["-m", "unittest", "discover", "-s", "tests", "-t", "."]
_RAN = re.compile(r"^Ran (\d+) tests? in ", re.MULTILINE)
_SUMMARY = re.compile(r"^(?:OK|FAILED)(?: \(([^)\n]*)\))?\s*$", re.MULTILINE)


class SandboxUnavailable(Exception):
    """The sandbox could not be reached or was throttled: worth retrying later."""


class SandboxRefused(Exception):
    """The sandbox cannot take this tree (too large for its payload); the message says why."""


class Sandbox(Protocol):
    """Where compile and unittest run: somewhere that can reach nothing (kiln.workers.build_sandbox).

    Returns the compile and unittest checks; raises SandboxUnavailable (transient) or
    SandboxRefused (this tree never fits).
    """

    def run(self, files: dict[str, bytes], timeout_seconds: float) -> list[VerificationCheck]: ...


def verify(
    files: dict[str, bytes], plan: TaskPlan, *, timeout_seconds: float = 120, sandbox: Sandbox | None = None
) -> VerificationResult:
    """Checks the merged tree (path -> content) of a build run against its plan."""
    contents = {path: _as_bytes(content) for path, content in files.items()}
    unsafe = unsafe_paths(contents)
    paths = _unsafe_report(unsafe) if unsafe else f"{len(contents)} path(s), all relative and safe"
    checks = [
        VerificationCheck(name="paths", passed=not unsafe, output=paths),
        _expected_outputs(contents, plan),
    ]
    if unsafe:  # never sent anywhere: the sandbox would have to write these paths
        checks += [
            VerificationCheck(
                name=name, passed=False, output="not run: the tree has unsafe paths (see the paths check)"
            )
            for name in ("compile", "unittest")
        ]
    elif sandbox is None:
        checks += run_suite(contents, timeout_seconds)
    else:
        try:
            checks += sandbox.run(contents, timeout_seconds)
        except SandboxRefused as refusal:
            checks.append(VerificationCheck(name="sandbox", passed=False, output=str(refusal)))
    return VerificationResult(passed=all(check.passed for check in checks), checks=checks)


def run_suite(
    files: dict[str, bytes], timeout_seconds: float, *, environment: Mapping[str, str] | None = None
) -> list[VerificationCheck]:
    """compile and unittest of a tree, in this process and its children: what the sandbox runs.

    `environment` replaces the allow-listed one the tests get; only a test proving that a probe
    detects a leak passes one.
    """
    contents = {path: _as_bytes(content) for path, content in files.items()}
    unsafe = unsafe_paths(contents)
    if unsafe:  # checked again here: this side writes the files
        return [
            VerificationCheck(name="compile", passed=False, output=_unsafe_report(unsafe)),
            VerificationCheck(name="unittest", passed=False, output="not run: the tree has unsafe paths"),
        ]
    return [_compile(contents), _unittest(contents, timeout_seconds, environment)]


def unsafe_paths(contents: Mapping[str, bytes]) -> list[str]:
    return sorted(path for path in contents if not _safe_path(path))


def _as_bytes(content: bytes | str) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def _safe_path(path: str) -> bool:
    if not isinstance(path, str) or not path or len(path) > 1024:
        return False
    if path.startswith("/") or "\\" in path or "\0" in path or (len(path) > 1 and path[1] == ":"):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _unsafe_report(unsafe: list[str]) -> str:
    shown = ", ".join(repr(path[:200]) for path in unsafe[:MAX_REPORTED_ERRORS])
    more = f" and {len(unsafe) - MAX_REPORTED_ERRORS} more" if len(unsafe) > MAX_REPORTED_ERRORS else ""
    return f"unsafe path(s), absolute or with '..', '.', empty segments or backslashes: {shown}{more}"


def _expected_outputs(contents: dict[str, bytes], plan: TaskPlan) -> VerificationCheck:
    missing = [(task.id, path) for task in plan.tasks for path in task.expectedOutputs if path not in contents]
    expected = sum(len(task.expectedOutputs) for task in plan.tasks)
    if not missing:
        return VerificationCheck(
            name="expected-outputs", passed=True, output=f"all {expected} expected output(s) present"
        )
    lines = [f"{len(missing)} of {expected} expected output(s) missing:"]
    lines += [f"- {path} (from {task_id})" for task_id, path in missing[:50]]
    if len(missing) > 50:
        lines.append(f"... and {len(missing) - 50} more")
    return VerificationCheck(name="expected-outputs", passed=False, output="\n".join(lines))


def _compile(contents: dict[str, bytes]) -> VerificationCheck:
    sources = sorted(path for path in contents if path.endswith(".py"))
    errors: list[str] = []
    for path in sources:
        try:
            compile(contents[path], path, "exec", dont_inherit=True)
        except SyntaxError as error:  # IndentationError and TabError included
            line = f"{path}:{error.lineno or 0}: {error.msg}"
            if error.text and error.text.strip():
                line += f": {error.text.strip()[:200]}"
            errors.append(line)
        except (ValueError, RecursionError, MemoryError, OverflowError) as error:  # NUL bytes, absurd nesting
            errors.append(f"{path}:0: {type(error).__name__}: {error}")
    if not errors:
        return VerificationCheck(name="compile", passed=True, output=f"{len(sources)} Python file(s) compiled")
    lines = errors[:MAX_REPORTED_ERRORS]
    if len(errors) > MAX_REPORTED_ERRORS:
        lines.append(f"... and {len(errors) - MAX_REPORTED_ERRORS} more file(s) with errors")
    summary = f"{len(errors)} of {len(sources)} Python file(s) do not compile:"
    return VerificationCheck(name="compile", passed=False, output="\n".join([summary, *lines]))


def suite_environment(scratch: str) -> dict[str, str]:
    """What the generated tests see: the allow-listed variables, HOME and TMPDIR in `scratch`."""
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        {
            "HOME": scratch,
            "TMPDIR": scratch,
            "TMP": scratch,
            "TEMP": scratch,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
        }
    )
    return env


def _tail(text: str) -> str:
    if len(text.encode("utf-8")) <= OUTPUT_LIMIT:
        return text
    data = text.encode("utf-8")[-OUTPUT_LIMIT:]
    kept = data.decode("utf-8", errors="ignore")
    return f"[... {len(text) - len(kept)} earlier characters left out]\n{kept}"


def suite_counts(output: str) -> SuiteCounts | None:
    """unittest's own summary ("Ran 3 tests in 0.01s" then "FAILED (failures=1, skipped=1)"), if any."""
    ran = list(_RAN.finditer(output))
    if not ran:
        return None
    summary = _SUMMARY.search(output, ran[-1].end())
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    for part in (summary.group(1) or "").split(",") if summary else ():
        name, _, value = part.strip().partition("=")
        if name in counts and value.isdigit():
            counts[name] = int(value)
    return SuiteCounts(run=int(ran[-1].group(1)), **counts)


def _unittest(
    contents: dict[str, bytes], timeout_seconds: float, environment: Mapping[str, str] | None
) -> VerificationCheck:
    if not any(path.startswith("tests/") for path in contents):
        return VerificationCheck(
            name="unittest",
            passed=False,
            output="no tests/ directory: the build must include a tests package that "
            "`python -m unittest discover -s tests -t .` can run",
        )
    if not sys.executable:
        return VerificationCheck(name="unittest", passed=False, output="no Python interpreter to run the tests with")
    workdir = tempfile.mkdtemp(prefix="kiln-verify-")
    scratch = tempfile.mkdtemp(prefix="kiln-scratch-")
    try:
        try:
            _write_tree(workdir, contents)
        except OSError as error:
            return VerificationCheck(
                name="unittest", passed=False, output=f"could not write the tree to run its tests: {error}"
            )
        env = dict(environment) if environment is not None else suite_environment(scratch)
        return _run_tests(workdir, timeout_seconds, env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _write_tree(root: str, contents: dict[str, bytes]) -> None:
    base = os.path.realpath(root)
    for path, content in sorted(contents.items()):
        target = os.path.realpath(os.path.join(base, *path.split("/")))
        if os.path.commonpath([base, target]) != base or target == base:
            raise OSError(f"{path!r} resolves outside the working directory")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(content)


def _run_tests(workdir: str, timeout_seconds: float, env: dict[str, str]) -> VerificationCheck:
    command = [sys.executable, *_UNITTEST]
    started = time.monotonic()
    # Its own session and process group: whatever the tests start is stopped with them.
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill(process)
        try:
            output, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a descendant left its own session and holds the pipe
            output = b""
        text = output.decode("utf-8", errors="replace")
        return VerificationCheck(
            name="unittest",
            passed=False,
            output=_tail(f"timed out after {timeout_seconds:g} s; the tests were stopped\n{text}"),
        )
    finally:
        # Also after a normal exit: a background process the tests left must not outlive them.
        _kill(process)
        if process.poll() is None:
            process.wait()
    elapsed = time.monotonic() - started
    text = output.decode("utf-8", errors="replace")
    status = "passed" if process.returncode == 0 else f"failed (exit code {process.returncode})"
    return VerificationCheck(
        name="unittest",
        passed=process.returncode == 0,
        output=_tail(f"{status} in {elapsed:.1f} s\n{text}"),
        tests=suite_counts(text),
    )


def _kill(process: subprocess.Popen) -> None:
    """Stops the test run and everything it started (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:  # no such group any more, or not ours
        with contextlib.suppress(OSError):
            process.kill()

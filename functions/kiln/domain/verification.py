"""Verification of a build's merged tree: expected outputs, compilation and the test suite.

`verify(files, plan)` checks, in order:

- paths: every path is a safe relative path (no absolute path, no `..`, `.` or empty segment,
  no backslash or NUL), so nothing can be written outside the working directory;
- expected-outputs: every task's expectedOutputs is in the tree;
- compile: every .py file compiles (the first errors are reported as path:line: message);
- unittest: the tree is written to a fresh temporary directory and
  `python -m unittest discover -s tests -t .` runs there in a subprocess, with a scrubbed
  environment (no AWS_*/KILN_* variables, no PYTHONPATH, PYTHONDONTWRITEBYTECODE=1) and a
  timeout; the output's last 8 KB are kept. The temporary directory is always removed.

Only the temporary directory is written (tempfile honours TMPDIR; on Lambda that is /tmp).
No AWS here: the domain layer runs the same in Lambda and in tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from kiln.domain.builds import TaskPlan, VerificationCheck, VerificationResult

OUTPUT_LIMIT = 8 * 1024
MAX_REPORTED_ERRORS = 10
# Variables never passed to the generated code: cloud credentials and Kiln's own settings, and
# anything that changes which modules the interpreter imports.
_SCRUBBED_PREFIXES = ("AWS_", "KILN_", "_AWS_", "_X_AMZN_")
_SCRUBBED_NAMES = frozenset({"PYTHONPATH", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONINSPECT",
                             "PYTHONSAFEPATH", "PYTHONWARNINGS", "_HANDLER"})
_UNITTEST = ["-m", "unittest", "discover", "-s", "tests", "-t", "."]


def verify(files: dict[str, bytes], plan: TaskPlan, *, timeout_seconds: float = 120) -> VerificationResult:
    """Checks the merged tree (path -> content) of a build run against its plan."""
    contents = {path: _as_bytes(content) for path, content in files.items()}
    unsafe = sorted(path for path in contents if not _safe_path(path))
    checks = [
        VerificationCheck(name="paths", passed=not unsafe,
                          output=_unsafe_report(unsafe) if unsafe else f"{len(contents)} path(s), all relative and safe"),
        _expected_outputs(contents, plan),
        _compile(contents),
    ]
    if unsafe:
        checks.append(VerificationCheck(name="unittest", passed=False,
                                        output="not run: the tree has unsafe paths (see the paths check)"))
    else:
        checks.append(_unittest(contents, timeout_seconds))
    return VerificationResult(passed=all(check.passed for check in checks), checks=checks)


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
        return VerificationCheck(name="expected-outputs", passed=True,
                                 output=f"all {expected} expected output(s) present")
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
    return VerificationCheck(name="compile", passed=False,
                             output=f"{len(errors)} of {len(sources)} Python file(s) do not compile:\n" + "\n".join(lines))


def _environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(_SCRUBBED_PREFIXES) and name not in _SCRUBBED_NAMES}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _tail(text: str) -> str:
    if len(text.encode("utf-8")) <= OUTPUT_LIMIT:
        return text
    data = text.encode("utf-8")[-OUTPUT_LIMIT:]
    kept = data.decode("utf-8", errors="ignore")
    return f"[... {len(text) - len(kept)} earlier characters left out]\n{kept}"


def _unittest(contents: dict[str, bytes], timeout_seconds: float) -> VerificationCheck:
    if not any(path.startswith("tests/") for path in contents):
        return VerificationCheck(name="unittest", passed=False,
                                 output="no tests/ directory: the build must include a tests package that "
                                        "`python -m unittest discover -s tests -t .` can run")
    if not sys.executable:
        return VerificationCheck(name="unittest", passed=False, output="no Python interpreter to run the tests with")
    workdir = tempfile.mkdtemp(prefix="kiln-verify-")
    try:
        try:
            _write_tree(workdir, contents)
        except OSError as error:
            return VerificationCheck(name="unittest", passed=False,
                                     output=f"could not write the tree to run its tests: {error}")
        return _run_tests(workdir, timeout_seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _write_tree(root: str, contents: dict[str, bytes]) -> None:
    base = os.path.realpath(root)
    for path, content in sorted(contents.items()):
        target = os.path.realpath(os.path.join(base, *path.split("/")))
        if os.path.commonpath([base, target]) != base or target == base:
            raise OSError(f"{path!r} resolves outside the working directory")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(content)


def _run_tests(workdir: str, timeout_seconds: float) -> VerificationCheck:
    command = [sys.executable, *_UNITTEST]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=workdir, env=_environment(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        _kill(process)
        try:
            output, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a descendant left its own session and holds the pipe
            output = b""
        text = output.decode("utf-8", errors="replace")
        return VerificationCheck(name="unittest", passed=False,
                                 output=_tail(f"timed out after {timeout_seconds:g} s; the tests were stopped\n{text}"))
    finally:
        if process.poll() is None:
            _kill(process)
            process.wait()
    elapsed = time.monotonic() - started
    text = output.decode("utf-8", errors="replace")
    status = "passed" if process.returncode == 0 else f"failed (exit code {process.returncode})"
    return VerificationCheck(name="unittest", passed=process.returncode == 0,
                             output=_tail(f"{status} in {elapsed:.1f} s\n{text}"))


def _kill(process: subprocess.Popen) -> None:
    """Stops the test run and everything it started (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            process.kill()
        except OSError:
            pass

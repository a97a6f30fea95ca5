"""Which task a verification failure belongs to, and what to tell it. No AWS here.

When a model wrote a build's code and verification fails, the build steps
(kiln.domain.build_steps) send each failure back to the task(s) whose files it is about,
and ask the generator to repair them. A file belongs to the task whose result holds it
(`filesCreated`/`filesModified`); when tasks ordered by dependencies both wrote a path, to the
last of them in merge order, whose version is the one verified. The checks name files in
their own ways:

- expected-outputs lists each missing path with the task that was to write it;
- compile names `path:line: message`;
- unittest's output names files in its tracebacks (`File "/tmp/kiln-verify-x/app/links.py",
  line 3`, under a temporary directory) and test modules in its test ids
  (`FAIL: test_alias (tests.test_links.LinkTest.test_alias)`).

The failing test output goes to the owners of every file it names (the test module's and the
code's); output that names no file of the build (a timeout before any output, no tests/
directory) goes to every task that wrote tests, or to every task when none did. Checks no
file of a task can fix (the sandbox refused the tree) blame nobody: the run fails at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kiln.domain.builds import TaskPlan, TaskResult, VerificationCheck, VerificationResult

# The failing output sent back to a task: enough of unittest's report to show each failure
# (its whole output is kept to 8 KB by verification already).
MAX_OUTPUT_CHARS = 8_000
MAX_FILES_NAMED = 20

_MISSING = re.compile(r"^- (?P<path>.+) \(from (?P<task>task-\d{3})\)$")
_COMPILE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+): (?P<message>.+)$")
_TRACEBACK_FILE = re.compile(r'File "(?P<file>[^"\n]+)", line \d+')
_TEST_ID = re.compile(r"^(?:FAIL|ERROR): \S+ \((?P<id>[A-Za-z_][\w.]*)\)", re.MULTILINE)


def owners(plan: TaskPlan, results: Mapping[str, TaskResult]) -> dict[str, str]:
    """path -> the task whose version of it is verified (the last writer in merge order)."""
    owned: dict[str, str] = {}
    for task_id in plan.mergeOrder:
        result = results.get(task_id)
        if result is not None:
            for path in [*result.filesCreated, *result.filesModified]:
                owned[path] = task_id
    return owned


def blame(verification: VerificationResult, plan: TaskPlan, owned: Mapping[str, str]) -> dict[str, list[str]]:
    """task id -> what verification found wrong with its files, in words for the generator,
    for every task with something to repair, in plan order. Empty when the verification
    passed or when nothing it found is any task's to fix."""
    found: dict[str, list[str]] = {}

    def add(task_id: str, text: str) -> None:
        found.setdefault(task_id, []).append(text)

    for check in verification.checks:
        if check.passed:
            continue
        if check.name == "expected-outputs":
            for task_id, path in _missing(check):
                add(
                    task_id,
                    f"Verification found no file {path}, which this task must write (an expected output). Write it.",
                )
        elif check.name == "compile":
            by_task: dict[str, list[str]] = {}
            for path, line in _compile_errors(check):
                if path in owned:
                    by_task.setdefault(owned[path], []).append(line)
            for task_id, lines in by_task.items():
                add(
                    task_id,
                    "These files of this task do not compile (Python's compile(), path:line: error):\n"
                    + "\n".join(lines),
                )
        elif check.name == "unittest":
            named = files_named(check.output, owned)
            responsible = list(dict.fromkeys(owned[path] for path in named)) or _test_writers(plan, owned)
            for task_id in responsible:
                mine = [path for path in named if owned[path] == task_id]
                add(task_id, _suite_failure(check, mine))
        # Other checks (paths, sandbox) are about the tree as a whole: no task's rewrite fixes them.
    order = {task.id: index for index, task in enumerate(plan.tasks)}
    return {task_id: found[task_id] for task_id in sorted(found, key=lambda t: order.get(t, len(order)))}


def files_named(output: str, owned: Mapping[str, str]) -> list[str]:
    """The build's files that a test run's output names, in order of first mention."""
    paths = set(owned)
    named: list[str] = []
    for match in _TRACEBACK_FILE.finditer(output):
        path = _tree_path(match.group("file"), paths)
        if path is not None:
            named.append(path)
    for match in _TEST_ID.finditer(output):
        path = _module_path(match.group("id"), paths)
        if path is not None:
            named.append(path)
    return list(dict.fromkeys(named))[:MAX_FILES_NAMED]


def _missing(check: VerificationCheck) -> Iterable[tuple[str, str]]:
    for line in check.output.splitlines():
        match = _MISSING.match(line.strip())
        if match:
            yield match.group("task"), match.group("path")


def _compile_errors(check: VerificationCheck) -> Iterable[tuple[str, str]]:
    for line in check.output.splitlines():
        match = _COMPILE.match(line.strip())
        if match:
            yield match.group("path"), line.strip()


def _tree_path(file: str, paths: set[str]) -> str | None:
    """The build path a traceback's file is (the suite ran in a temporary directory, so the
    file is that directory plus the path): the longest path the file ends with."""
    file = file.replace("\\", "/")
    if file in paths:
        return file
    parts = file.split("/")
    for start in range(1, len(parts)):
        candidate = "/".join(parts[start:])
        if candidate in paths:
            return candidate
    return None


def _module_path(test_id: str, paths: set[str]) -> str | None:
    """The module file of a unittest id (tests.test_links.LinkTest.test_alias -> tests/test_links.py);
    import failures read `unittest.loader._FailedTest.tests.test_links`, hence any window."""
    parts = test_id.split(".")
    for end in range(len(parts), 0, -1):
        for start in range(end):
            candidate = "/".join(parts[start:end]) + ".py"
            if candidate in paths:
                return candidate
    return None


def _test_writers(plan: TaskPlan, owned: Mapping[str, str]) -> list[str]:
    writers = {task_id for path, task_id in owned.items() if path.startswith("tests/")}
    return [task.id for task in plan.tasks if task.id in writers] or [
        task.id for task in plan.tasks if task.id in set(owned.values())
    ]


def _suite_failure(check: VerificationCheck, mine: list[str]) -> str:
    counts = ""
    if check.tests is not None:
        counts = f" ({check.tests.run} tests ran: {check.tests.failures} failures, {check.tests.errors} errors)"
    named = (
        f"It names these files of this task: {', '.join(mine)}."
        if mine
        else "It names no file of this task in particular; the tests this task wrote may be among those failing."
    )
    output = check.output if len(check.output) <= MAX_OUTPUT_CHARS else "[...]\n" + check.output[-MAX_OUTPUT_CHARS:]
    return (
        f"The project's test suite failed{counts} when run as `python -m unittest discover -s tests -t .` "
        f"from the repository root. {named} Fix the code or the tests (whichever is wrong according to the "
        f"specification), within this task's files. The output:\n{output}"
    )

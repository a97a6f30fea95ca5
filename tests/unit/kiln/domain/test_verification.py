"""Verification of a merged build tree: expected outputs, compilation and the unittest run."""

from __future__ import annotations

import os
import tempfile
import time

import pytest

from kiln.domain.builds import SuiteCounts, TaskDefinition, TaskPlan, VerificationCheck
from kiln.domain.verification import (
    OUTPUT_LIMIT,
    SandboxRefused,
    SandboxUnavailable,
    run_suite,
    suite_counts,
    verify,
)
from tests.fakes import FakeSandbox

PASSING_TEST = b"""import unittest

from app.calc import add


class AddTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)
"""


def _plan(*expected: str) -> TaskPlan:
    return TaskPlan(
        tasks=[
            TaskDefinition(
                id="task-001",
                slug="all",
                description="Everything.",
                instructions="Write it.",
                pathScope=["**"],
                expectedOutputs=list(expected),
            )
        ],
        mergeOrder=["task-001"],
    )


def _tree(extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    files = {
        "app/__init__.py": b"",
        "app/calc.py": b"def add(a, b):\n    return a + b\n",
        "tests/__init__.py": b"",
        "tests/test_calc.py": PASSING_TEST,
    }
    files.update(extra or {})
    return files


def _check(result, name: str):
    return next(check for check in result.checks if check.name == name)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """tempfile writes below tmp_path, so the test can see what verify leaves behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_sound_tree_passes_every_check_and_leaves_nothing_behind(private_tmp):
    result = verify(_tree(), _plan("app/calc.py", "tests/test_calc.py"))
    assert result.passed, result
    assert [check.name for check in result.checks] == ["paths", "expected-outputs", "compile", "unittest"]
    assert all(check.passed for check in result.checks)
    assert "Ran 1 test" in _check(result, "unittest").output and "OK" in _check(result, "unittest").output
    assert _check(result, "compile").output == "4 Python file(s) compiled"
    assert list(private_tmp.iterdir()) == []


def test_a_missing_expected_output_fails_and_is_named():
    result = verify(_tree(), _plan("app/calc.py", "app/server.py", "README.md"))
    assert not result.passed
    check = _check(result, "expected-outputs")
    assert not check.passed
    assert "2 of 3 expected output(s) missing" in check.output
    assert "- app/server.py (from task-001)" in check.output and "- README.md (from task-001)" in check.output
    assert _check(result, "unittest").passed


def test_a_syntax_error_fails_compile_with_file_and_line():
    broken = b"def fine():\n    return 1\n\ndef broken(:\n    pass\n"
    result = verify(
        _tree({"app/broken.py": broken, "app/bad_indent.py": b"if True:\nreturn 1\n", "app/nul.py": b"x = 1\0\n"}),
        _plan(),
    )
    assert not result.passed
    check = _check(result, "compile")
    assert not check.passed
    assert "3 of 7 Python file(s) do not compile" in check.output
    assert "app/broken.py:4: " in check.output and "def broken(:" in check.output
    assert "app/bad_indent.py:2: " in check.output
    assert "app/nul.py:" in check.output


def test_a_failing_test_fails_the_unittest_check_with_its_output():
    failing = PASSING_TEST.replace(b"5)", b"6)")
    result = verify(_tree({"tests/test_calc.py": failing}), _plan())
    assert not result.passed
    check = _check(result, "unittest")
    assert not check.passed
    assert check.output.startswith("failed (exit code 1)")
    assert "AssertionError: 5 != 6" in check.output and "FAILED (failures=1)" in check.output
    assert _check(result, "compile").passed


def test_an_import_error_in_the_tests_fails_too():
    result = verify(_tree({"tests/test_more.py": b"import app.missing\n"}), _plan())
    assert not _check(result, "unittest").passed
    assert "app.missing" in _check(result, "unittest").output


def test_a_run_over_the_timeout_is_stopped_and_fails(private_tmp):
    sleeping = (
        b"import time\nimport unittest\n\n\nclass Slow(unittest.TestCase):\n"
        b"    def test_sleeps(self):\n        print('started', flush=True)\n        time.sleep(60)\n"
    )
    started = time.monotonic()
    result = verify(_tree({"tests/test_slow.py": sleeping}), _plan(), timeout_seconds=1.5)
    assert time.monotonic() - started < 20
    check = _check(result, "unittest")
    assert not result.passed and not check.passed
    assert check.output.startswith("timed out after 1.5 s")
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(
    "path",
    [
        "../escaped.py",
        "tests/../../escaped.py",
        "/tmp/escaped.py",
        "tests//x.py",
        "./tests/x.py",
        "tests\\..\\escaped.py",
        "C:/escaped.py",
        "",
    ],
)
def test_an_unsafe_path_fails_and_nothing_is_written(path, private_tmp):
    result = verify(dict(_tree(), **{path: b"print('escaped')\n"}), _plan())
    assert not result.passed
    paths = _check(result, "paths")
    assert not paths.passed and repr(path) in paths.output
    assert _check(result, "unittest").output.startswith("not run")
    assert list(private_tmp.iterdir()) == []
    assert not os.path.exists(private_tmp.parent / "escaped.py")


def test_a_tree_without_tests_fails_clearly():
    files = {"app/__init__.py": b"", "app/calc.py": b"def add(a, b):\n    return a + b\n"}
    result = verify(files, _plan("app/calc.py"))
    check = _check(result, "unittest")
    assert not result.passed and not check.passed
    assert check.output.startswith("no tests/ directory")


def test_tests_run_in_a_scrubbed_environment_in_their_own_directory(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-generated-code")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "not-for-generated-code")
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    monkeypatch.setenv("KILN_TABLE_NAME", "not-for-generated-code")
    monkeypatch.setenv("MOTO_PORT", "5000")
    monkeypatch.setenv("SOME_TOKEN", "not-for-generated-code")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    probe = b"""import os
import tempfile
import unittest


class EnvironmentTest(unittest.TestCase):
    def test_scrubbed(self):
        allowed = {"PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH", "HOME", "TMPDIR",
                   "TMP", "TEMP", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING"}
        self.assertEqual(sorted(set(os.environ) - allowed), [])
        self.assertEqual(os.environ["PYTHONDONTWRITEBYTECODE"], "1")
        self.assertTrue(os.path.isfile(os.path.join(os.getcwd(), "tests", "test_env.py")))
        self.assertTrue(os.path.basename(os.getcwd()).startswith("kiln-verify-"))
        # HOME and the temporary directory: a scratch directory of the run's own, empty at first.
        home = os.environ["HOME"]
        self.assertTrue(os.path.basename(home).startswith("kiln-scratch-"))
        self.assertEqual(os.environ["TMPDIR"], home)
        self.assertEqual(tempfile.gettempdir(), home)
        self.assertEqual(os.path.expanduser("~"), home)
"""
    result = verify(_tree({"tests/test_env.py": probe}), _plan())
    assert result.passed, _check(result, "unittest").output


def test_the_probe_above_sees_what_it_is_given():
    """The control of the test above: handed a leaking environment, the same probe fails."""
    probe = b"""import os
import unittest


class EnvironmentTest(unittest.TestCase):
    def test_scrubbed(self):
        self.assertNotIn("AWS_SECRET_ACCESS_KEY", os.environ)
"""
    checks = run_suite(
        _tree({"tests/test_env.py": probe}),
        60,
        environment={"PATH": os.environ["PATH"], "AWS_SECRET_ACCESS_KEY": "leaked"},
    )
    unittest_check = checks[1]
    assert not unittest_check.passed
    assert "'AWS_SECRET_ACCESS_KEY' unexpectedly found" in unittest_check.output


def test_a_process_the_tests_leave_running_is_stopped_with_them(tmp_path):
    marker = tmp_path / "still-running"
    lingering = f"""import subprocess
import sys
import unittest


class Lingers(unittest.TestCase):
    def test_starts_a_background_process(self):
        subprocess.Popen([sys.executable, "-c", "import pathlib, time; time.sleep(3); "
                          "pathlib.Path({str(marker)!r}).write_text('alive')"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
""".encode()
    result = verify(_tree({"tests/test_linger.py": lingering}), _plan())
    assert result.passed, _check(result, "unittest").output
    time.sleep(4)
    assert not marker.exists(), "the background process outlived the test run"


def test_unittest_counts_are_kept():
    tests = (
        PASSING_TEST
        + b"""

    @unittest.skip("later")
    def test_later(self):
        pass

    def test_wrong(self):
        self.assertEqual(add(1, 1), 3)

    def test_broken(self):
        raise RuntimeError("broken")
"""
    )
    result = verify(_tree({"tests/test_calc.py": tests}), _plan())
    check = _check(result, "unittest")
    assert not check.passed
    assert check.tests == SuiteCounts(run=4, failures=1, errors=1, skipped=1)
    assert _check(verify(_tree(), _plan()), "unittest").tests == SuiteCounts(run=1)
    assert _check(result, "compile").tests is None


def test_suite_counts_read_unittests_summary_only():
    assert suite_counts("Ran 12 tests in 0.5s\n\nOK (skipped=2)\n") == SuiteCounts(run=12, skipped=2)
    assert suite_counts("Ran 1 test in 0.1s\n\nFAILED (errors=1)") == SuiteCounts(run=1, errors=1)
    assert suite_counts("Traceback ...\nImportError: no module named app") is None
    # The last summary wins (a test may print text that looks like one).
    assert suite_counts("Ran 99 tests in 1s\nOK\n...\nRan 2 tests in 0.1s\n\nOK\n") == SuiteCounts(run=2)


# --- through a sandbox ---------------------------------------------------------------------------

# What the sandbox function answers for a sound tree.
PASSED = [
    VerificationCheck(name="compile", passed=True, output="2 Python file(s) compiled"),
    VerificationCheck(name="unittest", passed=True, output="passed", tests=SuiteCounts(run=1)),
]


def test_with_a_sandbox_the_generated_code_runs_there_not_here(private_tmp):
    sandbox = FakeSandbox(PASSED)
    result = verify(_tree(), _plan("app/calc.py"), timeout_seconds=42, sandbox=sandbox)
    assert result.passed
    assert [check.name for check in result.checks] == ["paths", "expected-outputs", "compile", "unittest"]
    [(files, timeout)] = sandbox.calls
    assert files == _tree() and timeout == 42
    assert list(private_tmp.iterdir()) == [], "nothing was written or run in this process"


def test_what_the_sandbox_answers_decides():
    failing = [VerificationCheck(name="compile", passed=True), VerificationCheck(name="unittest", passed=False)]
    result = verify(_tree(), _plan(), sandbox=FakeSandbox(failing))
    assert not result.passed and not _check(result, "unittest").passed


def test_a_tree_the_sandbox_cannot_take_fails_verification_with_the_reason():
    refusal = SandboxRefused("the tree is 7.0 MB once compressed; the sandbox takes at most 5.8 MB")
    sandbox = FakeSandbox(raises=refusal)
    result = verify(_tree(), _plan(), sandbox=sandbox)
    assert not result.passed
    assert _check(result, "sandbox").output.startswith("the tree is 7.0 MB")


def test_an_unavailable_sandbox_is_not_a_verdict():
    with pytest.raises(SandboxUnavailable):
        verify(_tree(), _plan(), sandbox=FakeSandbox(raises=SandboxUnavailable("throttled")))


def test_unsafe_paths_are_never_sent_to_the_sandbox():
    sandbox = FakeSandbox()
    result = verify(dict(_tree(), **{"../escaped.py": b"x = 1\n"}), _plan(), sandbox=sandbox)
    assert sandbox.calls == []
    assert not result.passed
    assert _check(result, "compile").output.startswith("not run")
    assert _check(result, "unittest").output.startswith("not run")
    # The sandbox's side checks them again before it writes anything.
    compile_check, unittest_check = run_suite({"../escaped.py": b"x = 1\n"}, 10)
    assert not compile_check.passed and "'../escaped.py'" in compile_check.output
    assert unittest_check.output.startswith("not run")


def test_long_output_keeps_only_its_end():
    noisy = (
        b"import unittest\n\n\nclass Noisy(unittest.TestCase):\n    def test_noise(self):\n"
        b"        print('x' * 100_000, flush=True)\n        print('THE END', flush=True)\n"
    )
    result = verify(_tree({"tests/test_noisy.py": noisy}), _plan())
    output = _check(result, "unittest").output
    assert result.passed
    assert len(output.encode()) <= OUTPUT_LIMIT + 100
    assert "earlier characters left out" in output and "THE END" in output and output.rstrip().endswith("OK")

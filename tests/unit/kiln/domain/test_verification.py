"""Verification of a merged build tree: expected outputs, compilation and the unittest run."""

from __future__ import annotations

import os
import tempfile
import time

import pytest

from kiln.domain.builds import TaskDefinition, TaskPlan
from kiln.domain.verification import OUTPUT_LIMIT, verify

PASSING_TEST = b"""import unittest

from app.calc import add


class AddTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)
"""


def _plan(*expected: str) -> TaskPlan:
    return TaskPlan(tasks=[TaskDefinition(id="task-001", slug="all", description="Everything.", instructions="Write it.",
                                          pathScope=["**"], expectedOutputs=list(expected))],
                    mergeOrder=["task-001"])


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
    result = verify(_tree({"app/broken.py": broken, "app/bad_indent.py": b"if True:\nreturn 1\n",
                           "app/nul.py": b"x = 1\0\n"}), _plan())
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
    sleeping = b"import time\nimport unittest\n\n\nclass Slow(unittest.TestCase):\n" \
               b"    def test_sleeps(self):\n        print('started', flush=True)\n        time.sleep(60)\n"
    started = time.monotonic()
    result = verify(_tree({"tests/test_slow.py": sleeping}), _plan(), timeout_seconds=1.5)
    assert time.monotonic() - started < 20
    check = _check(result, "unittest")
    assert not result.passed and not check.passed
    assert check.output.startswith("timed out after 1.5 s")
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("path", ["../escaped.py", "tests/../../escaped.py", "/tmp/escaped.py", "tests//x.py",
                                  "./tests/x.py", "tests\\..\\escaped.py", "C:/escaped.py", ""])
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
    monkeypatch.setenv("KILN_TABLE_NAME", "not-for-generated-code")
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    probe = b"""import os
import unittest


class EnvironmentTest(unittest.TestCase):
    def test_scrubbed(self):
        leaked = sorted(name for name in os.environ if name.startswith(("AWS_", "KILN_")))
        self.assertEqual(leaked, [])
        self.assertNotIn("PYTHONPATH", os.environ)
        self.assertEqual(os.environ["PYTHONDONTWRITEBYTECODE"], "1")
        self.assertTrue(os.path.isfile(os.path.join(os.getcwd(), "tests", "test_env.py")))
        self.assertTrue(os.path.basename(os.getcwd()).startswith("kiln-verify-"))
"""
    result = verify(_tree({"tests/test_env.py": probe}), _plan())
    assert result.passed, _check(result, "unittest").output


def test_long_output_keeps_only_its_end():
    noisy = b"import unittest\n\n\nclass Noisy(unittest.TestCase):\n    def test_noise(self):\n" \
            b"        print('x' * 100_000, flush=True)\n        print('THE END', flush=True)\n"
    result = verify(_tree({"tests/test_noisy.py": noisy}), _plan())
    output = _check(result, "unittest").output
    assert result.passed
    assert len(output.encode()) <= OUTPUT_LIMIT + 100
    assert "earlier characters left out" in output and "THE END" in output and output.rstrip().endswith("OK")

"""Which task a verification failure belongs to (kiln.domain.repairs), from the checks'
real output: verification runs on real trees here, so the texts parsed are the ones a build
produces, not hand-written look-alikes."""

from __future__ import annotations

import pytest

from kiln.domain import repairs
from kiln.domain.builds import (
    RepairRequest,
    SuiteCounts,
    TaskDefinition,
    TaskPlan,
    TaskResult,
    VerificationCheck,
    VerificationResult,
)
from kiln.domain.generation import GenerationFailed, can_repair, repair
from kiln.domain.generators.builtin import BuiltinGenerator
from kiln.domain.verification import verify

PLAN = TaskPlan(
    tasks=[
        TaskDefinition(
            id="task-001",
            slug="scaffold",
            description="Skeleton",
            instructions="Write the package",
            pathScope=["app/__init__.py", "tests/__init__.py"],
            expectedOutputs=["app/__init__.py"],
        ),
        TaskDefinition(
            id="task-002",
            slug="links",
            description="Links",
            instructions="Write links",
            dependencies=["task-001"],
            pathScope=["app/links.py", "tests/test_links.py"],
            expectedOutputs=["app/links.py", "tests/test_links.py"],
        ),
        TaskDefinition(
            id="task-003",
            slug="clicks",
            description="Clicks",
            instructions="Write clicks",
            dependencies=["task-001"],
            pathScope=["app/clicks.py", "tests/test_clicks.py"],
            expectedOutputs=["app/clicks.py"],
        ),
    ],
    mergeOrder=["task-001", "task-002", "task-003"],
)

RESULTS = {
    "task-001": TaskResult(filesCreated=["app/__init__.py", "tests/__init__.py"], commitSha="1" * 40),
    "task-002": TaskResult(filesCreated=["app/links.py", "tests/test_links.py"], commitSha="2" * 40),
    "task-003": TaskResult(filesCreated=["app/clicks.py", "tests/test_clicks.py"], commitSha="3" * 40),
}

GOOD = {
    "app/__init__.py": b"",
    "tests/__init__.py": b"",
    "app/links.py": b"def shorten(url):\n    return url[-6:]\n",
    "tests/test_links.py": b"import unittest\nfrom app.links import shorten\n\n\nclass LinkTest(unittest.TestCase):\n"
    b"    def test_shorten(self):\n        self.assertEqual(shorten('https://x.io/abcdef'), "
    b"'abcdef')\n",
    "app/clicks.py": b"def count(clicks):\n    return len(clicks)\n",
    "tests/test_clicks.py": b"import unittest\nfrom app.clicks import count\n\n\nclass ClickTest(unittest.TestCase):\n"
    b"    def test_count(self):\n        self.assertEqual(count([1, 2]), 2)\n",
}


def blame(files: dict[str, bytes]) -> dict[str, list[str]]:
    result = verify(files, PLAN, timeout_seconds=60)
    return repairs.blame(result, PLAN, repairs.owners(PLAN, RESULTS))


def test_a_passing_build_blames_nobody() -> None:
    assert blame(GOOD) == {}


def test_a_failing_test_goes_to_the_owner_of_the_test() -> None:
    # task-002's code is wrong and its own test catches it: the traceback names the test module.
    broken = {**GOOD, "app/links.py": b"def shorten(url):\n    return url[:6]\n"}

    found = blame(broken)

    assert list(found) == ["task-002"]
    [text] = found["task-002"]
    assert "It names these files of this task: tests/test_links.py." in text
    assert "FAIL: test_shorten" in text and "'https:' != 'abcdef'" in text
    assert "(2 tests ran: 1 failures, 0 errors)" in text


def test_an_error_goes_to_the_owners_of_every_file_its_traceback_names() -> None:
    # task-003's test calls task-002's code, which raises: both tasks are told, each of its own files.
    broken = {
        **GOOD,
        "app/links.py": b"def shorten(url):\n    return url.split('/')[9]\n",
        "tests/test_clicks.py": GOOD["tests/test_clicks.py"].replace(
            b"from app.clicks import count", b"from app.clicks import count\nfrom app.links import shorten"
        )
        + b"\n    def test_link(self):\n        shorten('https://x.io/a')\n",
    }

    found = blame(broken)

    assert list(found) == ["task-002", "task-003"]
    # In order of first mention: unittest runs tests/test_clicks.py first, whose traceback ends in app/links.py.
    assert "It names these files of this task: app/links.py, tests/test_links.py." in found["task-002"][0]
    assert "It names these files of this task: tests/test_clicks.py." in found["task-003"][0]
    assert "IndexError" in found["task-003"][0]


def test_an_error_in_a_dependency_reaches_the_task_whose_code_raised_it() -> None:
    # task-003's test fails because task-001's package raises on import: both are told.
    broken = {**GOOD, "app/__init__.py": b"raise RuntimeError('boom')\n"}

    found = blame(broken)

    assert set(found) == {"task-001", "task-002", "task-003"}
    assert "app/__init__.py" in found["task-001"][0].split("The output:")[0]


def test_compile_errors_and_missing_outputs_go_to_their_tasks() -> None:
    broken = {**GOOD, "app/clicks.py": b"def count(clicks:\n"}
    del broken["tests/test_links.py"]

    found = blame(broken)

    [missing] = found["task-002"][:1]
    assert "no file tests/test_links.py" in missing
    compile_text = next(text for text in found["task-003"] if "do not compile" in text)
    assert compile_text.splitlines()[1].startswith("app/clicks.py:1: ")


def test_output_that_names_no_file_goes_to_the_tasks_that_wrote_tests() -> None:
    result = VerificationResult(
        passed=False,
        checks=[
            VerificationCheck(
                name="unittest", passed=False, output="timed out after 240 s; the tests were stopped\n", tests=None
            )
        ],
    )

    found = repairs.blame(result, PLAN, repairs.owners(PLAN, RESULTS))

    assert list(found) == ["task-001", "task-002", "task-003"]
    assert "names no file of this task" in found["task-002"][0]


def test_checks_no_task_can_fix_blame_nobody() -> None:
    result = VerificationResult(
        passed=False,
        checks=[
            VerificationCheck(name="sandbox", passed=False, output="the tree is 7.0 MB once compressed"),
            VerificationCheck(name="expected-outputs", passed=True, output="all present"),
        ],
    )

    assert repairs.blame(result, PLAN, repairs.owners(PLAN, RESULTS)) == {}


def test_a_path_written_by_two_ordered_tasks_belongs_to_the_later_one() -> None:
    results = {**RESULTS, "task-003": TaskResult(filesCreated=["app/clicks.py"], filesModified=["app/__init__.py"])}

    assert repairs.owners(PLAN, results)["app/__init__.py"] == "task-003"


def test_test_ids_name_modules_even_for_import_failures() -> None:
    owned = repairs.owners(PLAN, RESULTS)
    output = (
        "ERROR: tests.test_clicks (unittest.loader._FailedTest.tests.test_clicks)\n"
        "FAIL: test_shorten (tests.test_links.LinkTest.test_shorten)\n"
        '  File "/tmp/kiln-verify-1a2b/app/links.py", line 2, in shorten\n'
        '  File "/usr/lib/python3.13/unittest/case.py", line 58, in testPartExecutor\n'
    )

    assert repairs.files_named(output, owned) == ["app/links.py", "tests/test_clicks.py", "tests/test_links.py"]
    counts = VerificationCheck(name="unittest", passed=False, output=output, tests=SuiteCounts(run=2, failures=1))
    found = repairs.blame(VerificationResult(passed=False, checks=[counts]), PLAN, owned)
    assert list(found) == ["task-002", "task-003"]


def test_the_builtin_generator_declines_to_repair() -> None:
    generator = BuiltinGenerator()
    assert not can_repair(generator)

    with pytest.raises(GenerationFailed) as declined:
        repair(generator, RepairRequest(task=PLAN.tasks[1], documents={}, failures=["x"], attempt=1))

    assert declined.value.reason == "unsupported"

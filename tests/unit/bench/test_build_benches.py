"""The build benches' own arithmetic and inputs, without timing anything.

What the bench prints is only as good as what it feeds the builds and how it reads their
events: the synthetic spec must plan to exactly the number of tasks a row claims, the step
latencies must be the differences the events say, and a failed build must show as FAILED.
"""

from __future__ import annotations

import math

import pytest

from kiln.domain.builds import MAX_TASKS
from kiln.domain.generation import GenerationFailed
from kiln.domain.generators.builtin import BuiltinGenerator
from tests.bench.builds import (
    STEPS,
    BuildFailed,
    ScalePoint,
    ScaleResult,
    percentile,
    step_durations,
    synthetic_documents,
)
from tests.bench.concurrent_builds import Build, report


@pytest.mark.parametrize("entities", [1, 18, MAX_TASKS - 2])
def test_a_synthetic_spec_plans_to_one_task_per_entity_plus_scaffold_and_server(entities):
    plan = BuiltinGenerator().plan(synthetic_documents(entities))

    assert len(plan.tasks) == entities + 2
    assert plan.tasks[0].slug == "scaffold" and plan.tasks[-1].slug == "server"
    # Every entity task does the same work, so time per task compares across sizes.
    descriptions = {t.description.split(":", 1)[1] for t in plan.tasks[1:-1]}
    assert descriptions == {" dataclass model with validation, handlers for its 5 routes and their unittest cases."}


def test_a_spec_over_the_plan_limit_is_refused():
    with pytest.raises(GenerationFailed, match=f"at most {MAX_TASKS - 2} entities"):
        BuiltinGenerator().plan(synthetic_documents(MAX_TASKS - 1))


def test_growth_and_marginal_cost_compare_the_smallest_and_largest_built_sizes():
    result = ScaleResult(
        [
            ScalePoint(asked=20, tasks=20, workflow_s=30.0, sequential_s=20.0),
            ScalePoint(asked=60, tasks=60, workflow_s=84.0, sequential_s=66.0),
            ScalePoint(asked=200, failed="failed: planning_failed: at most 58 entities"),
        ]
    )

    assert result.growth("workflow") == pytest.approx((84 / 60) / (30 / 20))
    assert result.growth("sequential") == pytest.approx((66 / 60) / (20 / 20))
    assert result.marginal("workflow") == pytest.approx((84 - 30) / 40)
    assert result.points[0].ratio == pytest.approx(1.5)
    assert math.isnan(result.points[2].workflow_per_task)


def test_growth_is_not_a_number_with_fewer_than_two_built_sizes():
    built = ScalePoint(asked=20, tasks=20, workflow_s=30.0, sequential_s=20.0)
    result = ScaleResult([built, ScalePoint(asked=60, failed="failed: task_failed")])

    assert math.isnan(result.growth("workflow")) and math.isnan(result.marginal("sequential"))


def _event(kind: str, at: str, task: str | None = None) -> dict:
    return {"eventType": kind, "createdAt": f"2026-12-04T10:00:{at}Z", "taskId": task}


EVENTS = [
    _event("RUN_STARTED", "00.000"),
    _event("TASK_STARTED", "01.500", "task-001"),
    _event("TASK_COMPLETED", "02.000", "task-001"),
    _event("TASK_STARTED", "02.100", "task-002"),
    _event("TASK_STARTED", "02.200", "task-003"),
    _event("TASK_COMPLETED", "03.100", "task-003"),
    _event("TASK_COMPLETED", "04.100", "task-002"),
    _event("VERIFICATION_COMPLETED", "07.100"),
    _event("RUN_COMPLETED", "08.000"),
]


def test_step_durations_are_the_differences_between_a_runs_events():
    steps = step_durations(EVENTS)

    assert steps["plan"] == [pytest.approx(1.5)]
    assert sorted(steps["task"]) == [pytest.approx(0.5), pytest.approx(0.9), pytest.approx(2.0)]
    assert steps["verify"] == [pytest.approx(3.0)]  # from the last task to finish
    assert steps["merge"] == [pytest.approx(0.9)]
    assert steps["run"] == [pytest.approx(8.0)]


def test_a_run_without_its_completion_event_is_a_failure_not_a_zero():
    with pytest.raises(BuildFailed, match="RUN_COMPLETED"):
        step_durations(EVENTS[:-1])


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0 and percentile(values, 100) == 100.0
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))


def test_the_report_counts_failed_builds_and_measures_only_the_others():
    ok = Build("ws_a", session=None, started_at=1_000.0, finished_at=1_010.0, tasks=4)  # type: ignore[arg-type]
    ok.steps = step_durations(EVENTS)
    failed = Build("ws_b", session=None, started_at=1_000.5, failed="timeout: unfinished after 500 s")  # type: ignore[arg-type]

    text, result = report(2, [ok, failed])

    assert result.succeeded == 1 and result.failed == ["ws_b: timeout: unfinished after 500 s"]
    assert result.wall_s == pytest.approx(10.0)
    assert result.per_minute == pytest.approx(6.0)
    counts = {step: len(result.steps[step]) for step in STEPS}
    assert counts == {"plan": 1, "task": 3, "verify": 1, "merge": 1, "run": 1}
    assert "1 succeeded, 1 FAILED" in text and "FAILED x1: timeout: unfinished after 500 s" in text

"""The rules every plan obeys before anything runs (kiln.domain.builds)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiln.domain.builds import MAX_PLAN_BYTES, MAX_TASKS, TaskDefinition, TaskPlan, plan_problems


def task(number: int, *dependencies: int, scope: str | None = None, instructions: str = "Write it.") -> TaskDefinition:
    return TaskDefinition(
        id=f"task-{number:03d}",
        slug=f"part-{number}",
        description=f"Part {number}",
        instructions=instructions,
        dependencies=[f"task-{d:03d}" for d in dependencies],
        pathScope=[scope or f"part_{number}.py"],
    )


def plan_of(*tasks: TaskDefinition, order: list[str] | None = None) -> TaskPlan:
    return TaskPlan.model_construct(tasks=list(tasks), mergeOrder=order or [t.id for t in tasks])


def test_a_plan_of_independent_and_ordered_tasks_has_no_problem():
    assert plan_problems(plan_of(task(1), task(2, 1), task(3, 1), task(4, 2, 3))) == []


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        (plan_of(task(1, 2), task(2, 1)), "dependency cycle: task-001 -> task-002 -> task-001"),
        (plan_of(task(1, 9)), "task-001 depends on unknown task(s) task-009"),
        (plan_of(task(1, 1)), "task-001 depends on itself"),
        (
            plan_of(task(1), task(2, 1), order=["task-002", "task-001"]),
            "mergeOrder puts task-002 before its dependency",
        ),
        (plan_of(task(1), task(2), order=["task-001"]), "mergeOrder must list every task exactly once"),
        (
            plan_of(task(1, scope="app/**"), task(2, scope="app/models.py")),
            "path scopes of task-001 (app/**) and task-002 (app/models.py) overlap",
        ),
    ],
)
def test_each_rule_names_what_breaks_it(plan, problem):
    assert any(problem in found for found in plan_problems(plan))


def test_overlapping_scopes_are_allowed_when_a_dependency_orders_the_tasks():
    assert plan_problems(plan_of(task(1, scope="app/**"), task(2, 1, scope="app/models.py"))) == []


def test_a_plan_holds_up_to_max_tasks():
    tasks = [task(n) for n in range(1, MAX_TASKS + 1)]
    assert len(TaskPlan(tasks=tasks, mergeOrder=[t.id for t in tasks]).tasks) == MAX_TASKS
    more = [*tasks, task(MAX_TASKS + 1)]
    with pytest.raises(ValidationError, match=f"at most {MAX_TASKS} items"):
        TaskPlan(tasks=more, mergeOrder=[t.id for t in more])


def test_a_plan_over_its_size_limit_is_refused_with_its_size():
    # 60 tasks of 20,000 characters of instructions each: about 1.2 MB of JSON.
    tasks = [task(n, instructions="x" * 20_000) for n in range(1, 61)]
    with pytest.raises(ValidationError, match=f"over the {MAX_PLAN_BYTES} bytes a plan may hold"):
        TaskPlan(tasks=tasks, mergeOrder=[t.id for t in tasks])
    fits = tasks[:40]
    assert TaskPlan(tasks=fits, mergeOrder=[t.id for t in fits]).tasks == fits


def test_a_stored_plan_reads_back_without_checking_again():
    tasks = [task(1), task(2, 1)]
    stored = TaskPlan.stored(tasks, ["task-001", "task-002"])
    assert stored.task("task-002").dependencies == ["task-001"]
    assert stored.waves() == [["task-001"], ["task-002"]]

"""A build task whose generator writes a file git refuses (a `.git` alias, a hostile
`.gitmodules`) fails with reason `git_path` and writes nothing: the build steps with moto
behind the adapters, driven in-process as in tests/unit/kiln/handlers/test_runs.py."""

from __future__ import annotations

import pytest

from kiln import services
from kiln.domain.build_steps import BuildSteps, RunRef, run_sequentially
from kiln.domain.builds import Implementation, TaskDefinition, TaskPlan
from kiln.handlers import runs_get
from tests.fakes import FakeWorkflow
from tests.unit.kiln.handlers.test_runs import (
    WORKSPACE,
    TwoTasks,
    approved_project,
    events,
    passing,
    project_status,
    run_call,
    start,
)

pytestmark = pytest.mark.usefixtures("cloud")

HOSTILE_GITMODULES = '[submodule "lib"]\n\tpath = lib\n\turl = --upload-pack=touch /tmp/pwned\n'


class WritesWhatGitRefuses(TwoTasks):
    """task-002 may write .gitmodules, and also writes `extra`."""

    def __init__(self, extra: dict[str, str]) -> None:
        super().__init__()
        self.extra = extra

    def plan(self, documents: dict[str, str]) -> TaskPlan:
        plan = super().plan(documents)
        second = plan.tasks[1].model_copy(update={"pathScope": ["b.txt", ".gitmodules"]})
        return TaskPlan(
            tasks=[plan.tasks[0], TaskDefinition.model_validate(second.model_dump())], mergeOrder=plan.mergeOrder
        )

    def implement(self, request):  # type: ignore[no-untyped-def]
        result = super().implement(request)
        if request.task.id == "task-002":
            return Implementation(files={**result.files, **self.extra})
        return result


def drive(generator: TwoTasks, outcome: str) -> tuple[str, str]:
    root = services.use(services.build(build_workflow=FakeWorkflow()))
    steps = BuildSteps(root.run_store, root.event_store, root.repository, lambda: generator, passing)
    project_id = approved_project()
    run_id = start(project_id)[1]["data"]["id"]
    assert run_sequentially(steps, RunRef(WORKSPACE, project_id, run_id), transient_attempts=1) == {"status": outcome}
    return project_id, run_id


@pytest.mark.parametrize(
    "path, content, shown",
    [
        (".git/config", "[core]\n\thooksPath = /tmp\n", "'.git'"),
        (".GIT./hooks/post-checkout", "#!/bin/sh\n", "'.GIT.'"),
        ("git~1/hooks/post-checkout", "#!/bin/sh\n", "8.3"),
        (".gitmodules", HOSTILE_GITMODULES, "--upload-pack"),
    ],
)
def test_a_task_writing_what_git_refuses_fails_with_git_path_and_writes_nothing(path, content, shown):
    project_id, run_id = drive(WritesWhatGitRefuses({path: content}), "failed")
    run = run_call(runs_get, "GET", "", project_id, run_id)[1]["data"]
    assert run["status"] == "failed" and run["error"]["taskId"] == "task-002"
    assert "files git refuses" in run["error"]["message"] and shown in run["error"]["message"]
    [failed] = events(project_id, run_id, type="TASK_FAILED")
    assert (failed["taskId"], failed["payload"]["reason"]) == ("task-002", "git_path")
    assert project_status(project_id) == "failed"
    # task-002 never got its branch (only the scratch base of its dependencies), nothing reached main.
    branches = services.current().repository(WORKSPACE, project_id).branches()
    assert sorted(branches) == ["feat/task-001-first", "kiln/base/task-002"]


def test_a_legitimate_gitmodules_and_look_alikes_are_written():
    files = {".gitmodules": '[submodule "lib"]\n\tpath = lib\n\turl = https://example.com/lib.git\n'}
    project_id, _ = drive(WritesWhatGitRefuses(files), "succeeded")
    repository = services.current().repository(WORKSPACE, project_id)
    assert repository.read_file("main", ".gitmodules") == files[".gitmodules"].encode()

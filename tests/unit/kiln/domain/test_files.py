"""FileService: a project's repository at a ref, for the files endpoints, on shared fakes."""

from __future__ import annotations

import pytest

from kiln.domain.files import FileService
from kiln.domain.projects import ProjectCreate, ProjectService
from kiln.domain.repository import Author
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import FakeClock, FakeProjects, FakeRepositories

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxzzz"
AUTHOR = Author("Kiln Builder", "builder@kiln.dev")


@pytest.fixture
def world() -> tuple[FileService, FakeRepositories, str]:
    clock = FakeClock()
    projects = ProjectService(FakeProjects(), clock)
    repositories = FakeRepositories(clock=clock)
    project_id = projects.create(WORKSPACE, ProjectCreate(name="App", description="An app.")).id
    return FileService(projects, repositories), repositories, project_id


def test_a_branch_resolves_to_its_head_and_a_commit_to_itself(world):
    files, repositories, project_id = world
    first = repositories(WORKSPACE, project_id).commit("main", {"a.txt": b"1"}, "one", AUTHOR)
    second = repositories(WORKSPACE, project_id).commit("main", {"a.txt": b"2"}, "two", AUTHOR)

    at_main = files.at(WORKSPACE, project_id, "main")
    at_first = files.at(WORKSPACE, project_id, first.id)

    assert at_main.commit == second.id and at_main.repository.read_file(at_main.commit, "a.txt") == b"2"
    assert at_first.commit == first.id and at_first.repository.read_file(at_first.commit, "a.txt") == b"1"


def test_an_unknown_ref_is_a_404_naming_it(world):
    files, repositories, project_id = world
    repositories(WORKSPACE, project_id).commit("main", {"a.txt": b"1"}, "one", AUTHOR)

    with pytest.raises(KilnError) as raised:
        files.at(WORKSPACE, project_id, "feat/nothing")

    assert raised.value.code is ErrorCode.NOT_FOUND
    assert raised.value.details == {"resource": "ref", "id": "feat/nothing"}


def test_another_workspaces_project_is_a_404_and_its_repository_is_never_opened(world):
    files, repositories, project_id = world
    repositories(WORKSPACE, project_id).commit("main", {"a.txt": b"1"}, "one", AUTHOR)
    opened = dict(repositories.refs)

    with pytest.raises(KilnError) as raised:
        files.at(OTHER_WORKSPACE, project_id, "main")

    assert raised.value.code is ErrorCode.NOT_FOUND
    assert raised.value.details == {"resource": "project", "id": project_id}
    assert repositories.refs == opened  # nothing of OTHER_WORKSPACE was read or created

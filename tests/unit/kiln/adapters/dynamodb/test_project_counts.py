"""Page mode's totals: counts kept in the transactions that create, import and archive projects,
complete from a workspace's creation, or completed by the first listing of an older workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from kiln.adapters.dynamodb.access import AccessStore
from kiln.adapters.dynamodb.catalog import ProjectCatalog
from kiln.adapters.dynamodb.projects import COUNTS_SK, ProjectStore
from kiln.clock import iso, utc_now
from kiln.domain.access import Workspace
from kiln.domain.projects import (
    PageRequest,
    Project,
    ProjectCreate,
    ProjectListFilter,
    ProjectService,
    ProjectStatus,
)
from kiln.ids import new_id
from tests.unit.conftest import TABLE

pytestmark = pytest.mark.usefixtures("cloud", "created")

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
ALL = ProjectListFilter()
ARCHIVED = ProjectListFilter(status=ProjectStatus.ARCHIVED)


def new_workspace(workspace_id: str | None = None) -> str:
    """A workspace created as the service creates one (kiln.domain.access)."""
    workspace_id = workspace_id or new_id("workspace")
    AccessStore().insert_workspace(Workspace(workspace_id, "W", "pro", "u", "v", "2026-01-01T00:00:00.000Z"))
    return workspace_id


@pytest.fixture
def created() -> None:
    new_workspace(WORKSPACE)


@contextmanager
def recording() -> Iterator[list[str]]:
    """The DynamoDB operations made inside the block."""
    calls: list[str] = []
    original = BaseClient._make_api_call

    def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return original(self, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def service() -> ProjectService:
    return ProjectService(ProjectStore())


def create(count: int, workspace_id: str = WORKSPACE) -> list[Project]:
    return [
        service().create(workspace_id, ProjectCreate(name=f"Project {i}", description=f"Number {i}."))
        for i in range(count)
    ]


def counts(workspace_id: str = WORKSPACE) -> dict[str, int]:
    item = (
        boto3.client("dynamodb")
        .get_item(TableName=TABLE, Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": COUNTS_SK}})
        .get("Item")
        or {}
    )
    return {k: int(v["N"]) for k, v in item.items() if "N" in v}


def complete(workspace_id: str = WORKSPACE) -> bool:
    key = {"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": COUNTS_SK}}
    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item") or {}
    return item.get("complete") == {"BOOL": True}


def page(filters: ProjectListFilter = ALL, number: int = 1, size: int = 5, workspace_id: str = WORKSPACE):
    return ProjectStore().list_page(workspace_id, filters, PageRequest(number, size))


def test_a_new_workspace_starts_with_complete_counts():
    assert counts() == {"live": 0, "archived": 0} and complete()
    assert page().total == 0 and page(ARCHIVED).total == 0


def test_creating_and_archiving_keep_the_totals():
    projects = create(7)
    assert counts() == {"live": 7, "archived": 0}
    service().archive(WORKSPACE, projects[0].id)
    service().archive(WORKSPACE, projects[0].id)  # archiving again changes nothing
    assert counts() == {"live": 6, "archived": 1}
    listed = page()
    assert listed.total == 6 and [p.id for p in listed.items] == [p.id for p in reversed(projects[1:])][:5]
    assert page(number=2).total == 6 and len(page(number=2).items) == 1
    archived = page(ARCHIVED)
    assert archived.total == 1 and archived.items[0].status is ProjectStatus.ARCHIVED


def test_archiving_answers_the_project_as_stored():
    (project,) = create(1)
    archived = service().archive(WORKSPACE, project.id)
    assert archived == service().get(WORKSPACE, project.id)
    assert archived.status is ProjectStatus.ARCHIVED and archived.archivedAt is not None


def test_a_failed_creation_counts_nothing():
    (project,) = create(1)
    with pytest.raises(ClientError):  # the same id again: the transaction's condition refuses it
        ProjectStore().insert(WORKSPACE, project)
    assert counts() == {"live": 1, "archived": 0}


def test_an_archive_racing_an_edit_reads_again_and_counts_once(monkeypatch: pytest.MonkeyPatch):
    (project,) = create(1)
    store = ProjectStore()
    original = store.update
    renamed = []

    def edit_between_read_and_write(operation: Any) -> None:
        # Another request renames the project after the archive read it, once.
        if not renamed:
            renamed.append(True)
            original(WORKSPACE, project.id, {"name": "Renamed meanwhile"}, frozenset(ProjectStatus))

    real_call = BaseClient._make_api_call

    def spy(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "TransactWriteItems":
            edit_between_read_and_write(operation)
        return real_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", spy)
    archived = ProjectService(store).archive(WORKSPACE, project.id)
    assert archived.name == "Renamed meanwhile" and archived.status is ProjectStatus.ARCHIVED
    assert counts() == {"live": 0, "archived": 1}


def test_an_import_counts_its_project():
    create(2)
    now = iso(utc_now())
    imported = Project(
        id=new_id("project"),
        name="Imported",
        description="From an archive.",
        status=ProjectStatus.DRAFT,
        createdAt=now,
        updatedAt=now,
    )
    ProjectCatalog().create_imported(WORKSPACE, imported, [], "a" * 40)
    assert counts() == {"live": 3, "archived": 0}
    assert page().total == 3


def test_a_page_costs_the_same_at_any_workspace_size():
    small, large = new_workspace(), new_workspace()
    create(3, small)
    create(60, large)
    with recording() as calls_small:
        assert page(workspace_id=small).total == 3
    with recording() as calls_large:
        assert page(workspace_id=large).total == 60
    # One Query for the page and one GetItem for the total, whatever the workspace holds.
    assert sorted(calls_small) == sorted(calls_large) == ["GetItem", "Query"]


def test_filters_the_counts_do_not_cover_are_counted_by_reading():
    projects = create(4)
    service().archive(WORKSPACE, projects[0].id)
    assert page(ProjectListFilter(search="project 2")).total == 1
    assert page(ProjectListFilter(status=ProjectStatus.DRAFT), size=2).total == 3


def older_workspace(live: int, archived: int = 0) -> str:
    """A workspace from before the counts: projects, and no counts item."""
    workspace_id = new_id("workspace")
    projects = create(live + archived, workspace_id)
    for project in projects[:archived]:
        service().archive(workspace_id, project.id)
    key = {"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": COUNTS_SK}}
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key=key)
    return workspace_id


def test_a_workspace_without_counts_is_counted_once_by_reading():
    """Projects written before the counts existed: the first listing counts them and completes
    the counts, so the next listings cost the same as anywhere else."""
    old = older_workspace(6)
    assert page(size=4, workspace_id=old).total == 6
    assert counts(old) == {"live": 6, "archived": 0} and complete(old)
    with recording() as calls:
        listed = page(number=2, size=4, workspace_id=old)
    assert listed.total == 6 and len(listed.items) == 2
    assert sorted(calls) == ["GetItem", "Query"]
    assert page(ARCHIVED, workspace_id=old).total == 0


def test_an_older_workspace_creating_a_project_still_gets_its_whole_total():
    # The creation's ADD makes a counts item holding only the new project: not a total.
    old = older_workspace(4, archived=2)
    create(1, old)
    assert counts(old) == {"live": 1} and not complete(old)
    assert page(workspace_id=old).total == 5
    assert counts(old) == {"live": 5, "archived": 2} and complete(old)
    assert page(ARCHIVED, workspace_id=old).total == 2
    (project,) = create(1, old)
    service().archive(old, project.id)
    assert page(workspace_id=old).total == 5 and page(ARCHIVED, workspace_id=old).total == 3


def test_a_creation_racing_the_count_leaves_the_counts_to_the_next_listing(monkeypatch: pytest.MonkeyPatch):
    old = older_workspace(3)
    create(1, old)  # counts item: live 1, not complete
    real_call = BaseClient._make_api_call
    raced: list[Project] = []

    def create_before_the_write(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        # Another request creates a project after the listing counted, before it writes.
        if operation == "UpdateItem" and params["Key"]["sk"] == {"S": COUNTS_SK} and not raced:
            raced.extend(create(1, old))
        return real_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", create_before_the_write)
    assert page(workspace_id=old).total == 4  # what it counted: the creation came after
    assert raced and counts(old) == {"live": 2} and not complete(old)  # the write was refused
    monkeypatch.setattr(BaseClient, "_make_api_call", real_call)
    assert page(workspace_id=old).total == 5
    assert counts(old) == {"live": 5, "archived": 0} and complete(old)

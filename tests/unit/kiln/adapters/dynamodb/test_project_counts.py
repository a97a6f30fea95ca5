"""Page mode's totals: counts kept in the transactions that create, import and archive projects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from kiln.adapters.dynamodb.catalog import ProjectCatalog
from kiln.adapters.dynamodb.projects import COUNTS_SK, ProjectStore
from kiln.clock import iso, utc_now
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

pytestmark = pytest.mark.usefixtures("cloud")

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
ALL = ProjectListFilter()
ARCHIVED = ProjectListFilter(status=ProjectStatus.ARCHIVED)


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


def page(filters: ProjectListFilter = ALL, number: int = 1, size: int = 5, workspace_id: str = WORKSPACE):
    return ProjectStore().list_page(workspace_id, filters, PageRequest(number, size))


def test_creating_and_archiving_keep_the_totals():
    projects = create(7)
    assert counts() == {"live": 7}
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
    assert counts() == {"live": 1}


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
    assert counts() == {"live": 3}
    assert page().total == 3


def test_a_page_costs_the_same_at_any_workspace_size():
    small, large = new_id("workspace"), new_id("workspace")
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


def test_a_workspace_without_counts_is_counted_by_reading():
    """Projects written before the counts existed: the total is still right, read the old way."""
    create(6)
    boto3.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": f"WS#{WORKSPACE}"}, "sk": {"S": COUNTS_SK}})
    assert page(size=4).total == 6
    assert page(number=2, size=4).total == 6 and len(page(number=2, size=4).items) == 2
    assert page(ARCHIVED).total == 0

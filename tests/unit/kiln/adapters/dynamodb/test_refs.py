"""Branches in DynamoDB: conditional writes only, one project's refs per key prefix."""

from __future__ import annotations

import threading

import boto3
import pytest

from kiln.adapters.dynamodb.refs import RefItems
from tests.unit.conftest import TABLE

pytestmark = pytest.mark.usefixtures("cloud")

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
OTHER_WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxzzz"
PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
OTHER_PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1q"
A, B, C = "a" * 40, "b" * 40, "c" * 40


def test_create_move_and_read():
    refs = RefItems(WORKSPACE, PROJECT)
    assert refs.get("main") is None
    assert refs.compare_and_swap("main", None, A) is True
    assert refs.get("main") == A
    assert refs.compare_and_swap("main", A, B) is True
    assert refs.get("main") == B


def test_writes_are_refused_unless_the_branch_is_where_the_writer_thinks():
    refs = RefItems(WORKSPACE, PROJECT)
    assert refs.compare_and_swap("main", A, B) is False  # does not exist yet
    assert refs.get("main") is None
    refs.compare_and_swap("main", None, A)
    assert refs.compare_and_swap("main", None, B) is False  # exists already
    assert refs.compare_and_swap("main", C, B) is False  # moved elsewhere
    assert refs.get("main") == A


def test_a_write_retried_after_its_answer_was_lost_has_succeeded():
    # botocore sends a conditional write again after a read timeout; the first attempt may have
    # applied, and the retry's failed condition must not read as another writer's move.
    refs = RefItems(WORKSPACE, PROJECT)
    assert refs.compare_and_swap("feat/task-001-x", None, A) is True
    assert refs.compare_and_swap("feat/task-001-x", None, A) is True
    assert refs.compare_and_swap("feat/task-001-x", A, B) is True
    assert refs.compare_and_swap("feat/task-001-x", A, B) is True
    assert refs.compare_and_swap("feat/task-001-x", A, C) is False  # another writer's move: refused
    assert refs.get("feat/task-001-x") == B


def test_item_layout():
    RefItems(WORKSPACE, PROJECT).compare_and_swap("feat/task-001-some-slug", None, A)
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE,
        Key={"pk": {"S": f"WS#{WORKSPACE}"}, "sk": {"S": f"REF#{PROJECT}#feat/task-001-some-slug"}},
    )["Item"]
    assert item["commit"] == {"S": A}
    assert item["type"] == {"S": "ref"}
    assert item["ref"] == {"S": "feat/task-001-some-slug"}


def test_listing_is_per_project_and_per_workspace():
    mine = RefItems(WORKSPACE, PROJECT)
    mine.compare_and_swap("main", None, A)
    mine.compare_and_swap("feat/task-001-x", None, B)
    RefItems(WORKSPACE, OTHER_PROJECT).compare_and_swap("main", None, C)
    RefItems(OTHER_WORKSPACE, PROJECT).compare_and_swap("main", None, C)
    assert mine.list_refs() == {"main": A, "feat/task-001-x": B}
    assert RefItems(OTHER_WORKSPACE, PROJECT).get("feat/task-001-x") is None


def test_many_branches_list_across_pages():
    refs = RefItems(WORKSPACE, PROJECT)
    expected = {f"feat/task-{n:03d}-{'x' * 180}": f"{n:040x}" for n in range(40)}
    for name, commit in expected.items():
        refs.compare_and_swap(name, None, commit)
    assert refs.list_refs() == expected


def test_of_two_racing_writers_exactly_one_moves_the_branch():
    RefItems(WORKSPACE, PROJECT).compare_and_swap("main", None, A)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait()
        results.append(RefItems(WORKSPACE, PROJECT).compare_and_swap("main", A, f"{n:040x}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


@pytest.mark.parametrize("workspace, project", [("WS#x", PROJECT), (WORKSPACE, "proj_x#REF")])
def test_ids_are_checked(workspace, project):
    with pytest.raises(ValueError):
        RefItems(workspace, project)

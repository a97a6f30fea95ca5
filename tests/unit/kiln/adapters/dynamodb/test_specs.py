"""Spec versions in DynamoDB, with large documents moved to S3 transparently and never orphaned."""

from __future__ import annotations

import boto3
import pytest

from kiln.adapters.dynamodb import specs as spec_store
from kiln.adapters.dynamodb.projects import ProjectStore
from kiln.adapters.dynamodb.specs import INLINE_LIMIT_BYTES, SpecStore
from kiln.domain.projects import Project, ProjectStatus
from kiln.domain.specs import ChangedConcurrently, SpecVersion
from tests.unit.conftest import BUCKET, TABLE

pytestmark = pytest.mark.usefixtures("cloud")

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
STAMP = "2026-11-25T10:00:00.000Z"


def _project(status: ProjectStatus = ProjectStatus.CLARIFYING) -> None:
    ProjectStore().insert(
        WORKSPACE, Project(id=PROJECT, name="P", description="D", status=status, createdAt=STAMP, updatedAt=STAMP)
    )


def _spec(version: int, size: int) -> SpecVersion:
    # Non-ASCII text: the limit is on UTF-8 bytes, not characters.
    body = "é" * (size // 2)
    return SpecVersion(
        version=version,
        createdAt=STAMP,
        generator="builtin",
        documents={"SPEC.md": body, "ACCEPTANCE.md": "a", "ROUTES.md": "r", "DATA.md": "d"},
    )


def _objects() -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=BUCKET)
    return [o["Key"] for o in listing.get("Contents", [])]


def _raw_spec_item(version: int) -> dict:
    key = {"pk": {"S": f"WS#{WORKSPACE}"}, "sk": {"S": f"SPEC#{PROJECT}#{version:06d}"}}
    return boto3.client("dynamodb").get_item(TableName=TABLE, Key=key)["Item"]


def _write(spec: SpecVersion) -> None:
    store = SpecStore()
    state = store.load(WORKSPACE, PROJECT)
    store.save_version(
        WORKSPACE, state, spec, {"status": ProjectStatus.SPEC_REVIEW, "specVersion": spec.version, "updatedAt": STAMP}
    )


def test_small_documents_stay_inline():
    _project()
    _write(_spec(1, 10_000))
    item = _raw_spec_item(1)
    assert "documents" in item and "documentsKey" not in item
    assert _objects() == []
    assert SpecStore().get_version(WORKSPACE, PROJECT, 1) == _spec(1, 10_000)


def test_documents_over_the_limit_go_to_s3_and_read_back_transparently():
    _project()
    big = _spec(1, INLINE_LIMIT_BYTES)  # ~300 KiB of two-byte characters: ~600 KB of UTF-8
    _write(big)
    item = _raw_spec_item(1)
    assert "documents" not in item
    assert int(item["documentsBytes"]["N"]) > INLINE_LIMIT_BYTES
    assert _objects() == [item["documentsKey"]["S"]]
    assert item["documentsKey"]["S"].startswith(f"specs/{WORKSPACE}/{PROJECT}/000001-")
    assert SpecStore().get_version(WORKSPACE, PROJECT, 1) == big
    project = ProjectStore().get(WORKSPACE, PROJECT)
    assert project.specVersion == 1 and project.status is ProjectStatus.SPEC_REVIEW


def test_a_lost_write_deletes_its_s3_object_and_stores_no_version():
    _project()
    store = SpecStore()
    stale = store.load(WORKSPACE, PROJECT)
    ProjectStore().update(WORKSPACE, PROJECT, {"name": "Renamed"}, frozenset(ProjectStatus))  # bumps revision
    with pytest.raises(ChangedConcurrently) as lost:
        store.save_version(WORKSPACE, stale, _spec(1, INLINE_LIMIT_BYTES), {"specVersion": 1})
    assert lost.value.current.name == "Renamed"
    assert _objects() == []
    assert store.get_version(WORKSPACE, PROJECT, 1) is None
    assert store.list_versions(WORKSPACE, PROJECT) == []


def test_a_failing_dynamodb_call_also_cleans_up(monkeypatch):
    _project()

    class Broken(Exception):
        pass

    real_client = spec_store.client

    class Proxy:
        def __init__(self, inner):
            self._inner = inner

        def transact_write_items(self, **kwargs):
            raise Broken()

        def __getattr__(self, name):
            return getattr(self._inner, name)

    monkeypatch.setattr(
        spec_store, "client", lambda name: Proxy(real_client(name)) if name == "dynamodb" else real_client(name)
    )
    store = SpecStore()
    state = store.load(WORKSPACE, PROJECT)
    with pytest.raises(Broken):
        store.save_version(WORKSPACE, state, _spec(1, INLINE_LIMIT_BYTES), {"specVersion": 1})
    assert _objects() == []


def test_versions_list_in_order_without_documents():
    _project()
    _write(_spec(1, 100))
    store = SpecStore()
    state = store.load(WORKSPACE, PROJECT)
    store.save_version(
        WORKSPACE, state, _spec(2, 100).model_copy(update={"feedback": "More."}), {"specVersion": 2, "updatedAt": STAMP}
    )
    summaries = store.list_versions(WORKSPACE, PROJECT)
    assert [(s.version, s.feedback) for s in summaries] == [(1, None), (2, "More.")]
    assert not hasattr(summaries[0], "documents")
    # Another workspace's view of the same project id is empty.
    assert store.list_versions("ws_01m885m8rskqxxjknrtpgbxzzz", PROJECT) == []
    assert store.load("ws_01m885m8rskqxxjknrtpgbxzzz", PROJECT) is None

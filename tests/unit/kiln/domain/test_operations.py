"""The operation service with in-memory ports: the v1 and strict vocabularies, single-use
uploads, and what an export of a project with no main means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kiln.domain.operations import (
    ConversionCreate,
    ExportCreate,
    ImportFromUpload,
    OperationStatus,
    Upload,
)
from kiln.domain.projects import Project
from kiln.envelope import ErrorCode, KilnError
from tests.fakes import FakeClock, FakeWorld
from tests.unit.kiln.domain.test_repository import AUTHOR

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
UPLOAD = "upl_01m885m8rskqxxjknrtpgbxm1p"
STAMP = "2026-11-25T10:00:00.000Z"


class World:
    """The operation service on the shared fakes, its clock stopped at STAMP."""

    def __init__(self) -> None:
        self.fakes = FakeWorld(clock=FakeClock(datetime(2026, 11, 25, 10, tzinfo=UTC), step=timedelta(0)))
        self.store, self.workflow = self.fakes.operations, self.fakes.archive_workflow
        self.service = self.fakes.operation_service()

    def build_main(self) -> str:
        return self.fakes.repositories(WORKSPACE, PROJECT).commit("main", {"a.txt": b"a"}, "one", AUTHOR).id

    def upload(self) -> str:
        self.store.put_upload(WORKSPACE, Upload(id=UPLOAD, filename="tree.zip", contentType="application/zip",
                                                sizeBytes=10, objectKey=f"uploads/{WORKSPACE}/{UPLOAD}",
                                                createdAt=STAMP, expiresAt=STAMP))
        return UPLOAD

    def operation_ids(self) -> list[str]:
        return [operation_id for _, operation_id in self.store.operations]


def project(updated_at: str = STAMP) -> Project:
    return Project(id=PROJECT, name="Fresh", description="d", status="draft", createdAt=STAMP, updatedAt=updated_at)


def refused(call: Any) -> KilnError:
    with pytest.raises(KilnError) as error:
        call()
    return error.value


# --- vocabularies -------------------------------------------------------------------------------

def test_v1_views_say_completed_and_the_strict_status_keeps_the_precise_state():
    world = World()
    world.build_main()
    operation = world.service.export(WORKSPACE, PROJECT, ExportCreate(format="zip"), "fresh")
    assert world.service.view(operation)["status"] == "processing"
    done = operation.model_copy(update={"status": OperationStatus.SUCCEEDED, "objectKey": "exports/x.zip"})
    world.store.put(WORKSPACE, done)
    assert world.service.get_export(WORKSPACE, PROJECT, done.id)["status"] == "completed"
    strict = world.service.strict_status(WORKSPACE, done.id)
    assert strict.status == 200 and strict.body is not None and strict.body["status"] == "succeeded"
    failed = done.model_copy(update={"status": OperationStatus.FAILED})
    world.store.put(WORKSPACE, failed)
    assert world.service.get_export(WORKSPACE, PROJECT, done.id)["status"] == "failed"


# --- single-use uploads -------------------------------------------------------------------------

def test_an_upload_feeds_one_operation_and_a_second_start_is_refused_at_once():
    world = World()
    upload_id = world.upload()
    first = world.service.convert(WORKSPACE, ConversionCreate(uploadId=upload_id, to="tar.gz"))
    for again in (lambda: world.service.convert(WORKSPACE, ConversionCreate(uploadId=upload_id, to="zip")),
                  lambda: world.service.import_upload(WORKSPACE, ImportFromUpload(uploadId=upload_id))):
        error = refused(again)
        assert error.code is ErrorCode.CONFLICT and error.status == 409
        assert error.details == {"reason": "upload_consumed", "uploadId": upload_id, "consumedBy": first.id}
        assert "already used" in error.message
    assert world.workflow.names == [first.id] and world.operation_ids() == [first.id]


def test_of_two_requests_racing_for_one_upload_the_loser_starts_nothing():
    world = World()
    upload_id = world.upload()
    # Another request claims the upload between this one's read and its write.
    world.store.before("put_consuming",
                       lambda: world.store.claim(WORKSPACE, upload_id, "imp_01m885m8rskqxxjknrtpgbxm1p"))
    error = refused(lambda: world.service.import_upload(WORKSPACE, ImportFromUpload(uploadId=upload_id)))
    assert error.code is ErrorCode.CONFLICT and error.details["consumedBy"] == "imp_01m885m8rskqxxjknrtpgbxm1p"
    assert world.workflow.names == [] and world.operation_ids() == []


# --- a project with no main yet -------------------------------------------------------------------

def test_without_main_only_a_kiln_export_is_possible():
    world = World()
    kiln = world.service.export(WORKSPACE, PROJECT, ExportCreate(format="kiln"), "fresh")
    assert kiln.source == {"ref": "main", "commit": None} and kiln.filename == "fresh.kiln"
    for format in ("zip", "tar.gz"):
        with pytest.raises(KilnError) as raised:
            world.service.export(WORKSPACE, PROJECT, ExportCreate(format=format), "fresh")
        error = raised.value
        assert error.code is ErrorCode.CONFLICT
        assert error.details == {"reason": "no_main", "ref": "main", "format": format, "formatsWithoutMain": ["kiln"]}
        assert "no 'main' branch yet" in error.message
    error = refused(lambda: world.service.export(WORKSPACE, PROJECT, ExportCreate(ref="feature"), "fresh"))
    assert error.code is ErrorCode.NOT_FOUND and error.details == {"resource": "ref", "id": "feature"}
    assert world.workflow.names == [kiln.id]


def test_the_current_kiln_of_a_project_without_main_lasts_until_the_project_changes():
    world = World()
    first, created = world.service.current_kiln(WORKSPACE, project(), "fresh")
    assert created and first.source == {"ref": "main", "commit": None}
    again, created = world.service.current_kiln(WORKSPACE, project(), "fresh")
    assert (again.id, created) == (first.id, False)
    changed, created = world.service.current_kiln(WORKSPACE, project("2026-11-26T10:00:00.000Z"), "fresh")
    assert created and changed.id != first.id
    commit = world.build_main()
    built, created = world.service.current_kiln(WORKSPACE, project("2026-11-26T10:00:00.000Z"), "fresh")
    assert created and built.source == {"ref": "main", "commit": commit}

"""The operation service with in-memory ports: the v1 and strict vocabularies, single-use
uploads, and what an export of a project with no main means."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kiln.domain.operations import (
    ConversionCreate,
    ExportCreate,
    ExportSources,
    ImportFromUpload,
    Operation,
    OperationService,
    OperationStatus,
    Upload,
)
from kiln.domain.projects import Project
from kiln.domain.repository import Repository
from kiln.envelope import ErrorCode, KilnError
from tests.unit.kiln.domain.test_repository import AUTHOR, MemoryObjects, MemoryRefs

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
UPLOAD = "upl_01m885m8rskqxxjknrtpgbxm1p"
STAMP = "2026-11-25T10:00:00.000Z"


class Store:
    """kiln.domain.operations.OperationStore in memory, uploads claimed like the DynamoDB one."""

    def __init__(self) -> None:
        self.operations: dict[str, Operation] = {}
        self.uploads: dict[str, Upload] = {}
        self.kiln_exports: dict[tuple[str, str], str] = {}
        self.lose_race_to: str | None = None  # another request claims the upload first

    def put(self, workspace_id: str, operation: Operation) -> None:
        self.operations[operation.id] = operation

    def get(self, workspace_id: str, operation_id: str) -> Operation | None:
        return self.operations.get(operation_id)

    def kind_of(self, workspace_id: str, callback_id: str) -> Any:
        operation = self.operations.get(callback_id)
        return (operation.kind, operation.projectId) if operation else None

    def current_kiln_export(self, workspace_id: str, project_id: str, commit: str) -> str | None:
        return self.kiln_exports.get((project_id, commit))

    def remember_kiln_export(self, workspace_id: str, project_id: str, commit: str, export_id: str) -> str:
        self.kiln_exports[(project_id, commit)] = export_id
        return export_id

    def put_upload(self, workspace_id: str, upload: Upload) -> None:
        self.uploads[upload.id] = upload

    def get_upload(self, workspace_id: str, upload_id: str) -> Upload | None:
        return self.uploads.get(upload_id)

    def put_consuming(self, workspace_id: str, operation: Operation, upload_id: str) -> str | None:
        if self.lose_race_to is not None:
            self.uploads[upload_id] = self.uploads[upload_id].model_copy(update={"consumedBy": self.lose_race_to})
        consumed = self.uploads[upload_id].consumedBy
        if consumed is not None:
            return consumed
        self.uploads[upload_id] = self.uploads[upload_id].model_copy(update={"consumedBy": operation.id})
        self.operations[operation.id] = operation
        return None


class Workflow:
    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, execution_name: str, payload: dict[str, Any]) -> None:
        self.started.append(execution_name)


class Presigner:
    def download(self, key: str, filename: str, expires_seconds: int) -> tuple[str, str]:
        return f"https://s3.example/{key}", STAMP

    def upload(self, key: str, content_type: str, size_bytes: int, expires_seconds: int) -> dict[str, Any]:
        return {"url": "https://s3.example/", "method": "POST", "fields": {}, "expiresAt": STAMP}


class Runs:
    def raw(self, workspace_id: str, project_id: str, run_id: str) -> dict[str, Any] | None:
        return None

    def run_state(self, workspace_id: str, project_id: str, run_id: str) -> Any:
        return None


class World:
    def __init__(self) -> None:
        self.objects, self.refs = MemoryObjects(), MemoryRefs()
        self.store, self.workflow = Store(), Workflow()
        sources = ExportSources(lambda ws, pid: Repository(self.objects, self.refs), Runs())
        self.service = OperationService(self.store, self.workflow, Presigner(), sources, Runs(),
                                        clock=lambda: datetime(2026, 11, 25, 10, tzinfo=UTC))

    def build_main(self) -> str:
        return Repository(self.objects, self.refs).commit("main", {"a.txt": b"a"}, "one", AUTHOR).id

    def upload(self) -> str:
        self.store.put_upload(WORKSPACE, Upload(id=UPLOAD, filename="tree.zip", contentType="application/zip",
                                                sizeBytes=10, objectKey=f"uploads/{WORKSPACE}/{UPLOAD}",
                                                createdAt=STAMP, expiresAt=STAMP))
        return UPLOAD


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
    assert world.workflow.started == [first.id] and list(world.store.operations) == [first.id]


def test_of_two_requests_racing_for_one_upload_the_loser_starts_nothing():
    world = World()
    upload_id = world.upload()
    world.store.lose_race_to = "imp_01m885m8rskqxxjknrtpgbxm1p"
    error = refused(lambda: world.service.import_upload(WORKSPACE, ImportFromUpload(uploadId=upload_id)))
    assert error.code is ErrorCode.CONFLICT and error.details["consumedBy"] == "imp_01m885m8rskqxxjknrtpgbxm1p"
    assert world.workflow.started == [] and world.store.operations == {}


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
    assert world.workflow.started == [kiln.id]


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

"""The operation service with in-memory ports: the v1 and strict vocabularies, single-use
uploads, and what an export of a project with no main means."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.build_steps import RunRef, run_sequentially
from kiln.domain.generation import GenerationFailed
from kiln.domain.operations import (
    ConversionCreate,
    ExportCreate,
    ImportFromUpload,
    OperationStatus,
    Upload,
    UploadCreate,
)
from kiln.domain.projects import Project, ProjectStatus
from kiln.domain.runs import RunCreate
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
        self.store.put_upload(
            WORKSPACE,
            Upload(
                id=UPLOAD,
                filename="tree.zip",
                contentType="application/zip",
                sizeBytes=10,
                objectKey=f"uploads/{WORKSPACE}/{UPLOAD}",
                createdAt=STAMP,
                expiresAt=STAMP,
            ),
        )
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
    for again in (
        lambda: world.service.convert(WORKSPACE, ConversionCreate(uploadId=upload_id, to="zip")),
        lambda: world.service.import_upload(WORKSPACE, ImportFromUpload(uploadId=upload_id)),
    ):
        error = refused(again)
        assert error.code is ErrorCode.CONFLICT and error.status == 409
        assert error.details == {"reason": "upload_consumed", "uploadId": upload_id, "consumedBy": first.id}
        assert "already used" in error.message
    assert world.workflow.names == [first.id] and world.operation_ids() == [first.id]


def test_of_two_requests_racing_for_one_upload_the_loser_starts_nothing():
    world = World()
    upload_id = world.upload()
    # Another request claims the upload between this one's read and its write.
    world.store.before(
        "put_consuming", lambda: world.store.claim(WORKSPACE, upload_id, "imp_01m885m8rskqxxjknrtpgbxm1p")
    )
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


# --- exports, imports and conversions through their steps -------------------------------------------


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def uploaded(fakes: FakeWorld, body: bytes, filename: str = "tree.zip", declared: int | None = None) -> str:
    """An upload created through the service, and its bytes sent to the presigned URL."""
    created = fakes.operation_service().create_upload(
        WORKSPACE, UploadCreate(filename=filename, contentType="application/zip", sizeBytes=declared or len(body))
    )
    fakes.storage.put(created["fields"]["key"], body)
    return str(created["uploadId"])


def test_an_export_is_made_by_its_step_then_downloadable_until_it_expires():
    fakes = FakeWorld()
    service, steps = fakes.operation_service(), fakes.archive_steps()
    commit = fakes.repositories(WORKSPACE, PROJECT).commit("main", {"app/a.py": b"a = 1\n"}, "one", AUTHOR).id
    operation = service.export(WORKSPACE, PROJECT, ExportCreate(format="zip"), "planner")
    assert operation.source == {"ref": "main", "commit": commit} and operation.filename == f"planner-{commit[:12]}.zip"
    assert fakes.archive_workflow.started == [
        (operation.id, {"workspaceId": WORKSPACE, "operationId": operation.id, "kind": "export"})
    ]
    assert service.strict_status(WORKSPACE, operation.id).status == 202
    assert refused(lambda: service.download(WORKSPACE, PROJECT, operation.id)).details["currentStatus"] == "processing"
    assert steps.run_export(WORKSPACE, operation.id)["status"] == "succeeded"
    strict = service.strict_status(WORKSPACE, operation.id)
    assert strict.status == 200 and strict.body is not None
    body = fakes.storage.objects[f"exports/{WORKSPACE}/{PROJECT}/{operation.id}.zip"]
    assert (strict.body["sizeBytes"], strict.body["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    assert zipfile.ZipFile(io.BytesIO(body)).read("app/a.py") == b"a = 1\n"
    assert service.download(WORKSPACE, PROJECT, operation.id) == strict.body["downloadUrl"]
    assert (
        refused(lambda: service.download(WORKSPACE, "proj_01m885m8rskqxxjknrtpgbxzzz", operation.id)).code
        is ErrorCode.NOT_FOUND
    )
    fakes.clock.advance(days=8)  # past the bucket's lifecycle for exports
    assert service.get_export(WORKSPACE, PROJECT, operation.id)["downloadUrl"] is None
    assert refused(lambda: service.download(WORKSPACE, PROJECT, operation.id)).details["resource"] == "archive"


def test_an_upload_imports_once_and_is_deleted_after_serving():
    fakes = FakeWorld()
    service, steps = fakes.operation_service(), fakes.archive_steps()
    upload_id = uploaded(fakes, zipped({"src/app.py": b"print(1)\n", "README.md": b"# Hi\n"}))
    operation = service.import_upload(WORKSPACE, ImportFromUpload(uploadId=upload_id, name="Imported"))
    assert steps.run_import(WORKSPACE, operation.id)["status"] == "succeeded"
    view = service.strict_status(WORKSPACE, operation.id)
    assert view.status == 200 and view.body is not None and view.body["name"] == "Imported"
    project = fakes.projects.project(WORKSPACE, view.body["projectId"])
    assert project is not None and project.status is ProjectStatus.DRAFT
    repository = fakes.repositories(WORKSPACE, project.id)
    assert repository.read_file("main", "src/app.py") == b"print(1)\n"
    assert fakes.storage.keys("uploads/") == []
    again = refused(lambda: service.convert(WORKSPACE, ConversionCreate(uploadId=upload_id, to="zip")))
    assert again.details == {"reason": "upload_consumed", "uploadId": upload_id, "consumedBy": operation.id}
    assert steps.run_import(WORKSPACE, operation.id) == {"status": "already_finished"}


def test_a_conversion_writes_the_same_tree_in_the_other_format():
    fakes = FakeWorld()
    service, steps = fakes.operation_service(), fakes.archive_steps()
    upload_id = uploaded(fakes, zipped({"a.txt": b"a\n", "dir/b.txt": b"b\n"}), filename="tree.zip")
    operation = service.convert(WORKSPACE, ConversionCreate(uploadId=upload_id, to="tar.gz"))
    assert operation.filename == "tree.tar.gz"
    assert steps.run_conversion(WORKSPACE, operation.id)["status"] == "succeeded"
    body = fakes.storage.objects[f"conversions/{WORKSPACE}/{operation.id}.tar.gz"]
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        assert {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()} == {
            "a.txt": b"a\n",
            "dir/b.txt": b"b\n",
        }
    assert service.get_conversion(WORKSPACE, operation.id)["status"] == "completed"


def test_an_upload_smaller_than_declared_fails_the_import_with_the_reason_and_creates_nothing():
    fakes = FakeWorld()
    service, steps = fakes.operation_service(), fakes.archive_steps()
    body = zipped({"a.txt": b"a\n"})
    upload_id = uploaded(fakes, body, declared=len(body) + 10)
    operation = service.import_upload(WORKSPACE, ImportFromUpload(uploadId=upload_id))
    assert steps.run_import(WORKSPACE, operation.id) == {"status": "failed", "code": "INVALID_ARCHIVE"}
    strict = service.strict_status(WORKSPACE, operation.id)
    assert strict.error is not None and strict.status == strict.error.status == 422
    assert strict.error.details["reason"] == "truncated"
    assert fakes.projects.items == {} and fakes.storage.keys() == []


def test_an_unexpected_failure_is_recorded_once_as_a_500_and_frees_the_upload_object():
    fakes = FakeWorld()
    service, steps = fakes.operation_service(), fakes.archive_steps()
    upload_id = uploaded(fakes, zipped({"a.txt": b"a\n"}))
    operation = service.convert(WORKSPACE, ConversionCreate(uploadId=upload_id, to="kiln"))
    assert steps.record_failure(WORKSPACE, operation.id, {"Error": "Lambda.Unknown"}) == {"status": "failed"}
    assert steps.record_failure(WORKSPACE, operation.id, {"Error": "again"}) == {"status": "already_finished"}
    strict = service.strict_status(WORKSPACE, operation.id)
    assert strict.status == 500 and strict.error is not None and strict.error.details["error"] == "Lambda.Unknown"
    assert fakes.storage.keys("uploads/") == [] and len(fakes.operations.finished) == 1


def test_a_run_answers_the_strict_status_by_its_callback_id():
    fakes = FakeWorld()
    service = fakes.operation_service()
    project = fakes.approved_project(WORKSPACE)
    run = fakes.run_service().create(WORKSPACE, project.id, RunCreate(), None)
    assert service.strict_status(WORKSPACE, run.callbackId).status == 202
    fakes.run_service().cancel(WORKSPACE, project.id, run.id)
    cancelled = service.strict_status(WORKSPACE, run.callbackId)
    assert cancelled.status == 409 and cancelled.body is not None and cancelled.body["status"] == "cancelled"
    again = fakes.run_service().retry(WORKSPACE, project.id, run.id, None)
    fakes.generator.fail_next("plan", GenerationFailed("throttled", "unavailable"), times=3)
    run_sequentially(fakes.build_steps(), RunRef(WORKSPACE, project.id, again.id))
    failed = service.strict_status(WORKSPACE, again.callbackId)
    assert failed.status == 503 and failed.error is not None
    assert failed.error.details["reason"] == "dependency_unavailable"
    missing = "run_01m885m8rskqxxjknrtpgbxzzz"
    assert refused(lambda: service.strict_status(WORKSPACE, missing)).code is ErrorCode.NOT_FOUND


# --- any sequence of starts, steps and failures --------------------------------------------------------

ACTIONS = st.lists(
    st.tuples(st.sampled_from(["import", "convert", "run", "fail", "expire"]), st.integers(0, 2)), max_size=14
)


@settings(max_examples=80, deadline=None)
@given(actions=ACTIONS)
def test_uploads_feed_one_operation_and_operations_finish_once(actions):
    fakes = FakeWorld()
    service, steps = fakes.operation_service(), fakes.archive_steps()
    uploads = [uploaded(fakes, zipped({f"f{i}.txt": b"x" * i})) for i in range(3)]
    operations: list[str] = []
    settled: dict[str, OperationStatus] = {}
    for action, index in actions:
        if action in ("import", "convert"):
            upload = fakes.operations.get_upload(WORKSPACE, uploads[index])
            assert upload is not None
            try:
                operation = (
                    service.import_upload(WORKSPACE, ImportFromUpload(uploadId=upload.id))
                    if action == "import"
                    else service.convert(WORKSPACE, ConversionCreate(uploadId=upload.id, to="tar.gz"))
                )
            except KilnError as error:
                assert upload.consumedBy is not None and error.details["consumedBy"] == upload.consumedBy
            else:
                assert upload.consumedBy is None
                operations.append(operation.id)
        elif action == "expire":
            fakes.storage.expire(f"uploads/{WORKSPACE}/{uploads[index]}")
        elif operations:
            operation_id = operations[index % len(operations)]
            kind = fakes.operations.get(WORKSPACE, operation_id).kind.value
            if action == "fail":
                steps.record_failure(WORKSPACE, operation_id, {"Error": "States.Timeout"})
            elif kind == "import":
                steps.run_import(WORKSPACE, operation_id)
            else:
                steps.run_conversion(WORKSPACE, operation_id)
        for operation_id in operations:  # a finished operation never changes again
            current = fakes.operations.get(WORKSPACE, operation_id)
            if operation_id in settled:
                assert current.status is settled[operation_id]
            elif current.status is not OperationStatus.PROCESSING:
                settled[operation_id] = current.status
            expected = {OperationStatus.PROCESSING: 202, OperationStatus.SUCCEEDED: 200}.get(
                current.status, current.error.status if current.error else 500
            )
            assert service.strict_status(WORKSPACE, operation_id).status == expected
    consumers = [fakes.operations.get_upload(WORKSPACE, u).consumedBy for u in uploads]
    assert sorted(c for c in consumers if c) == sorted(operations), "each operation consumed exactly one upload"
    assert fakes.archive_workflow.names == operations, "each started once"
    finished = [o.id for o in fakes.operations.finished]
    assert len(finished) == len(set(finished)) == len(settled)

"""The archive steps with in-memory stores: exports stream in bounded memory, imports leave
nothing behind when they fail, and finished operations are never finished twice."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile

import pytest

from kiln.domain.archives import InvalidArchive
from kiln.domain.operations import Operation, OperationKind, OperationStatus, Upload
from kiln.domain.projects import Project
from tests.fakes import FakeWorld
from tests.unit.kiln.domain.test_repository import AUTHOR

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
STAMP = "2026-11-25T10:00:00.000Z"


def world(*operations: Operation, uploads: tuple[Upload, ...] = (), keep_bodies: bool = True) -> FakeWorld:
    """The shared fakes holding the project "Big" (built), `operations` and `uploads`."""
    fakes = FakeWorld()
    fakes.storage.keep_bodies = keep_bodies
    fakes.projects.insert(
        WORKSPACE, Project(id=PROJECT, name="Big", description="d", status="built", createdAt=STAMP, updatedAt=STAMP)
    )
    for operation in operations:
        fakes.operations.put(WORKSPACE, operation)
    for upload in uploads:
        fakes.operations.put_upload(WORKSPACE, upload)
    return fakes


def main_of(fakes: FakeWorld, files: dict[str, bytes]) -> str:
    return fakes.repositories(WORKSPACE, PROJECT).commit("main", files, "one", AUTHOR).id


def export_operation(format: str, commit: str) -> Operation:
    return Operation(
        id="exp_01m885m8rskqxxjknrtpgbxm1p",
        kind=OperationKind.EXPORT,
        status=OperationStatus.PROCESSING,
        projectId=PROJECT,
        format=format,
        source={"ref": "main", "commit": commit},
        filename="big.zip",
        createdAt=STAMP,
        updatedAt=STAMP,
    )


def test_export_memory_stays_bounded_by_one_file_not_the_tree():
    fakes = world(keep_bodies=False)  # the archive is counted as it streams, not kept
    file_size, count = 4 * 1024 * 1024, 16  # a 64 MiB tree
    commit = main_of(fakes, {f"data/part-{i:02d}.bin": os.urandom(file_size) for i in range(count)})
    fakes.operations.put(WORKSPACE, export_operation("zip", commit))
    storage, steps = fakes.storage, fakes.archive_steps()
    tracemalloc.start()
    try:
        result = steps.run_export(WORKSPACE, "exp_01m885m8rskqxxjknrtpgbxm1p")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result["status"] == "succeeded"
    tree = file_size * count
    assert storage.sinks[0].size > tree  # random data does not compress: everything went through
    assert peak < tree / 4, f"peak {peak / 2**20:.1f} MiB for a {tree / 2**20:.0f} MiB tree"


def test_kiln_export_is_stamped_with_the_commit_not_the_clock():
    fakes = world()
    commit = main_of(fakes, {"a.txt": b"a"})
    outputs = []
    for _ in range(2):
        fakes.operations.put(WORKSPACE, export_operation("kiln", commit))  # processing again
        fakes.clock.advance(hours=1)
        fakes.archive_steps().run_export(WORKSPACE, "exp_01m885m8rskqxxjknrtpgbxm1p")
        outputs.append(fakes.storage.sinks[-1].getvalue())
    assert outputs[0] == outputs[1]


def test_a_failed_import_deletes_every_blob_it_stored_and_creates_nothing():
    fakes = world()
    fakes.catalog.fail_next("create_imported", RuntimeError("the transaction was cancelled"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "a")
    with pytest.raises(RuntimeError):
        fakes.archive_steps().import_archive(WORKSPACE, io.BytesIO(buffer.getvalue()), "a.zip", None)
    [prefix] = fakes.storage.deleted_prefixes
    assert prefix.startswith(f"repos/{WORKSPACE}/proj_")
    [(_, project_id)] = fakes.repositories.objects
    assert fakes.repositories.objects_of(WORKSPACE, project_id).puts, "the blobs were stored before the failure"
    assert fakes.storage.keys("repos/") == [], "and are all gone"
    assert fakes.catalog.created == [] and list(fakes.projects.items) == [(WORKSPACE, PROJECT)]
    assert fakes.repositories.refs_of(WORKSPACE, project_id).refs == {}


def test_an_invalid_archive_is_refused_before_anything_is_stored():
    fakes = world()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.txt", "fine")
        archive.writestr("../evil.txt", "x")
    with pytest.raises(InvalidArchive) as refused:
        fakes.archive_steps().import_archive(WORKSPACE, io.BytesIO(buffer.getvalue()), "evil.zip", None)
    assert refused.value.reason == "path_traversal"
    assert fakes.repositories.objects == {} and fakes.storage.keys() == [] and fakes.storage.deleted_prefixes == []


def test_a_finished_operation_is_not_run_again():
    fakes = world()
    done = export_operation("zip", main_of(fakes, {"a.txt": b"a"})).model_copy(
        update={"status": OperationStatus.SUCCEEDED}
    )
    fakes.operations.put(WORKSPACE, done)
    assert fakes.archive_steps().run_export(WORKSPACE, done.id) == {"status": "already_finished"}
    assert fakes.storage.sinks == []


# --- a project with no main, uploads that are gone ---------------------------------------------


def test_a_kiln_export_of_a_project_without_main_holds_its_spec_and_no_files():
    operation = export_operation("kiln", "0" * 40).model_copy(update={"source": {"ref": "main", "commit": None}})
    fakes = world(operation)
    assert fakes.archive_steps().run_export(WORKSPACE, operation.id)["status"] == "succeeded"
    exported = fakes.storage.objects[fakes.storage.sinks[0].key]
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        assert archive.namelist() == ["kiln.json"]
        document = json.loads(archive.read("kiln.json"))
    assert document["project"] == {"name": "Big", "description": "d"} and document["files"] == []
    assert document["createdAt"] == STAMP  # the project's last change: the same project gives the same bytes
    assert document["source"] == {"ref": "main"}
    # ... and it imports again: a project with nothing built yet round-trips.
    result = fakes.archive_steps().import_archive(WORKSPACE, io.BytesIO(exported), "big.kiln", None)
    assert result.files == 0 and fakes.catalog.created[0].name == "Big"
    assert fakes.projects.project(WORKSPACE, result.project.id) == result.project


def conversion_operation(upload_id: str) -> Operation:
    return Operation(
        id="conv_01m885m8rskqxxjknrtpgbxm1p",
        kind=OperationKind.CONVERSION,
        status=OperationStatus.PROCESSING,
        uploadId=upload_id,
        format="zip",
        filename="a.zip",
        createdAt=STAMP,
        updatedAt=STAMP,
    )


UPLOAD_ID = "upl_01m885m8rskqxxjknrtpgbxm1p"


def test_a_conversion_whose_upload_record_is_gone_fails_cleanly():
    # The record expired by TTL: the operation fails with a clear error instead of raising
    # AttributeError from the cleanup (which the workflow turned into an opaque 500).
    fakes = world(conversion_operation(UPLOAD_ID))
    assert fakes.archive_steps().run_conversion(WORKSPACE, "conv_01m885m8rskqxxjknrtpgbxm1p") == {
        "status": "failed",
        "code": "VALIDATION_ERROR",
    }
    [failed] = fakes.operations.finished
    assert failed.error is not None and failed.error.message == "The upload no longer exists."
    assert fakes.storage.deleted == [] and fakes.storage.sinks == []


def test_an_upload_deleted_while_it_is_read_fails_the_conversion_as_never_uploaded():
    upload = Upload(
        id=UPLOAD_ID,
        filename="a.zip",
        contentType="application/zip",
        sizeBytes=3,
        objectKey=f"uploads/{WORKSPACE}/{UPLOAD_ID}",
        createdAt=STAMP,
        expiresAt=STAMP,
    )
    fakes = world(conversion_operation(UPLOAD_ID), uploads=(upload,))
    fakes.storage.put(upload.objectKey, b"zip")
    # There when checked, gone when read: its lifecycle ran out in between.
    fakes.storage.before("download_to", lambda: fakes.storage.expire(upload.objectKey))
    assert fakes.archive_steps().run_conversion(WORKSPACE, "conv_01m885m8rskqxxjknrtpgbxm1p") == {
        "status": "failed",
        "code": "INVALID_ARCHIVE",
    }
    assert fakes.operations.finished[0].error.details == {"reason": "empty"}
    assert fakes.storage.deleted == [upload.objectKey]

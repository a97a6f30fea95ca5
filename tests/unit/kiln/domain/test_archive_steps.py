"""The archive steps with in-memory stores: exports stream in bounded memory, imports leave
nothing behind when they fail, and finished operations are never finished twice."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from typing import Any

import pytest

from kiln.domain.archive_steps import ArchiveSteps
from kiln.domain.archives import InvalidArchive
from kiln.domain.operations import Operation, OperationKind, OperationStatus, Upload
from kiln.domain.projects import Project
from kiln.domain.repository import Repository
from tests.unit.kiln.domain.test_repository import AUTHOR, MemoryObjects, MemoryRefs

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"
PROJECT = "proj_01m885m8rskqxxjknrtpgbxm1p"
STAMP = "2026-11-25T10:00:00.000Z"


class CountingSink:
    """Discards what it is given, keeping the size and hash (the S3 multipart sink's contract)."""

    def __init__(self) -> None:
        self.size, self._hash, self.largest_write = 0, hashlib.sha256(), 0
        self.sha256 = ""

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self._hash.update(data)
        self.largest_write = max(self.largest_write, len(data))
        return len(data)

    def __enter__(self) -> CountingSink:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.sha256 = self._hash.hexdigest()


class KeepingSink(CountingSink):
    def __init__(self) -> None:
        super().__init__()
        self.buffer = io.BytesIO()

    def write(self, data: bytes) -> int:
        self.buffer.write(data)
        return super().write(data)


class Storage:
    def __init__(self, sink_type=CountingSink) -> None:
        self.sinks: list[CountingSink] = []
        self.deleted_prefixes: list[str] = []
        self.deleted: list[str] = []
        self.sink_type = sink_type

    def sink(self, key, content_type, filename):
        sink = self.sink_type()
        self.sinks.append(sink)
        return sink

    def delete_prefix(self, prefix):
        self.deleted_prefixes.append(prefix)
        return 0

    def delete(self, key):
        self.deleted.append(key)


class Ledger:
    def __init__(self, *operations: Operation, uploads: dict[str, Upload] | None = None) -> None:
        self.operations = {o.id: o for o in operations}
        self.finished: list[Operation] = []
        self.uploads = uploads or {}

    def get(self, workspace_id, operation_id):
        return self.operations.get(operation_id)

    def finish(self, workspace_id, operation):
        if self.operations[operation.id].status is not OperationStatus.PROCESSING:
            return False
        self.operations[operation.id] = operation
        self.finished.append(operation)
        return True

    def get_upload(self, workspace_id, upload_id):
        return self.uploads.get(upload_id)


class Catalog:
    def __init__(self, fail: bool = False) -> None:
        self.created: list[Project] = []
        self.fail = fail

    def project(self, workspace_id, project_id):
        return Project(id=project_id, name="Big", description="d", status="built", createdAt=STAMP, updatedAt=STAMP)

    def spec_versions(self, workspace_id, project_id):
        return []

    def create_imported(self, workspace_id, project, versions, main_commit):
        if self.fail:
            raise RuntimeError("the transaction was cancelled")
        self.created.append(project)


def export_operation(format: str, commit: str) -> Operation:
    return Operation(id="exp_01m885m8rskqxxjknrtpgbxm1p", kind=OperationKind.EXPORT,
                     status=OperationStatus.PROCESSING, projectId=PROJECT, format=format,
                     source={"ref": "main", "commit": commit}, filename="big.zip", createdAt=STAMP, updatedAt=STAMP)


def test_export_memory_stays_bounded_by_one_file_not_the_tree():
    objects, refs = MemoryObjects(), MemoryRefs()
    repository = Repository(objects, refs)
    file_size, count = 4 * 1024 * 1024, 16  # a 64 MiB tree
    commit = repository.commit("main", {f"data/part-{i:02d}.bin": os.urandom(file_size) for i in range(count)},
                               "big", AUTHOR)
    storage = Storage()
    steps = ArchiveSteps(Ledger(export_operation("zip", commit.id)), storage, Catalog(),
                         lambda ws, pid: Repository(objects, refs))
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
    objects, refs = MemoryObjects(), MemoryRefs()
    commit = Repository(objects, refs).commit("main", {"a.txt": b"a"}, "one", AUTHOR)
    outputs = []
    for _ in range(2):
        storage = Storage(KeepingSink)
        steps = ArchiveSteps(Ledger(export_operation("kiln", commit.id)), storage, Catalog(),
                             lambda ws, pid: Repository(objects, refs))
        steps.run_export(WORKSPACE, "exp_01m885m8rskqxxjknrtpgbxm1p")
        outputs.append(storage.sinks[0].buffer.getvalue())
    assert outputs[0] == outputs[1]


def test_a_failed_import_deletes_every_blob_it_stored_and_creates_nothing():
    objects, refs = MemoryObjects(), MemoryRefs()
    storage, catalog = Storage(), Catalog(fail=True)
    steps = ArchiveSteps(Ledger(), storage, catalog, lambda ws, pid: Repository(objects, refs))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "a")
    with pytest.raises(RuntimeError):
        steps.import_archive(WORKSPACE, io.BytesIO(buffer.getvalue()), "a.zip", None)
    assert len(storage.deleted_prefixes) == 1
    assert storage.deleted_prefixes[0].startswith(f"repos/{WORKSPACE}/proj_")
    assert catalog.created == [] and refs.refs == {}


def test_an_invalid_archive_is_refused_before_anything_is_stored():
    objects, refs = MemoryObjects(), MemoryRefs()
    storage = Storage()
    steps = ArchiveSteps(Ledger(), storage, Catalog(), lambda ws, pid: Repository(objects, refs))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.txt", "fine")
        archive.writestr("../evil.txt", "x")
    with pytest.raises(InvalidArchive) as refused:
        steps.import_archive(WORKSPACE, io.BytesIO(buffer.getvalue()), "evil.zip", None)
    assert refused.value.reason == "path_traversal"
    assert objects.puts == [] and storage.deleted_prefixes == []


def test_a_finished_operation_is_not_run_again():
    objects, refs = MemoryObjects(), MemoryRefs()
    commit = Repository(objects, refs).commit("main", {"a.txt": b"a"}, "one", AUTHOR)
    done = export_operation("zip", commit.id).model_copy(update={"status": OperationStatus.SUCCEEDED})
    storage = Storage()
    steps = ArchiveSteps(Ledger(done), storage, Catalog(), lambda ws, pid: Repository(objects, refs))
    assert steps.run_export(WORKSPACE, done.id) == {"status": "already_finished"}
    assert storage.sinks == []


# --- a project with no main, uploads that are gone ---------------------------------------------

def test_a_kiln_export_of_a_project_without_main_holds_its_spec_and_no_files():
    objects, refs = MemoryObjects(), MemoryRefs()
    operation = export_operation("kiln", "0" * 40).model_copy(update={"source": {"ref": "main", "commit": None}})
    storage = Storage(KeepingSink)
    steps = ArchiveSteps(Ledger(operation), storage, Catalog(), lambda ws, pid: Repository(objects, refs))
    assert steps.run_export(WORKSPACE, operation.id)["status"] == "succeeded"
    with zipfile.ZipFile(io.BytesIO(storage.sinks[0].buffer.getvalue())) as archive:
        assert archive.namelist() == ["kiln.json"]
        document = json.loads(archive.read("kiln.json"))
    assert document["project"] == {"name": "Big", "description": "d"} and document["files"] == []
    assert document["createdAt"] == STAMP  # the project's last change: the same project gives the same bytes
    assert document["source"] == {"ref": "main"}
    # ... and it imports again: a project with nothing built yet round-trips.
    imported = ArchiveSteps(Ledger(), Storage(), catalog := Catalog(), lambda ws, pid: Repository(objects, refs))
    result = imported.import_archive(WORKSPACE, io.BytesIO(storage.sinks[0].buffer.getvalue()), "big.kiln", None)
    assert result.files == 0 and catalog.created[0].name == "Big"


def conversion_operation(upload_id: str) -> Operation:
    return Operation(id="conv_01m885m8rskqxxjknrtpgbxm1p", kind=OperationKind.CONVERSION,
                     status=OperationStatus.PROCESSING, uploadId=upload_id, format="zip", filename="a.zip",
                     createdAt=STAMP, updatedAt=STAMP)


UPLOAD_ID = "upl_01m885m8rskqxxjknrtpgbxm1p"


def test_a_conversion_whose_upload_record_is_gone_fails_cleanly():
    # The record expired by TTL: the operation fails with a clear error instead of raising
    # AttributeError from the cleanup (which the workflow turned into an opaque 500).
    ledger, storage = Ledger(conversion_operation(UPLOAD_ID)), Storage()
    steps = ArchiveSteps(ledger, storage, Catalog(), lambda ws, pid: Repository(MemoryObjects(), MemoryRefs()))
    assert steps.run_conversion(WORKSPACE, "conv_01m885m8rskqxxjknrtpgbxm1p") == {
        "status": "failed", "code": "VALIDATION_ERROR"}
    [failed] = ledger.finished
    assert failed.error is not None and failed.error.message == "The upload no longer exists."
    assert storage.deleted == [] and storage.sinks == []


class VanishingStorage(Storage):
    """The object is there when checked, gone when read (its lifecycle ran out in between)."""

    def head(self, key):
        return {"size": 3}

    def download_to(self, key, fileobj, max_bytes):
        raise LookupError(key)


def test_an_upload_deleted_while_it_is_read_fails_the_conversion_as_never_uploaded():
    upload = Upload(id=UPLOAD_ID, filename="a.zip", contentType="application/zip", sizeBytes=3,
                    objectKey=f"uploads/{WORKSPACE}/{UPLOAD_ID}", createdAt=STAMP, expiresAt=STAMP)
    ledger, storage = Ledger(conversion_operation(UPLOAD_ID), uploads={UPLOAD_ID: upload}), VanishingStorage()
    steps = ArchiveSteps(ledger, storage, Catalog(), lambda ws, pid: Repository(MemoryObjects(), MemoryRefs()))
    assert steps.run_conversion(WORKSPACE, "conv_01m885m8rskqxxjknrtpgbxm1p") == {
        "status": "failed", "code": "INVALID_ARCHIVE"}
    assert ledger.finished[0].error.details == {"reason": "empty"}
    assert storage.deleted == [upload.objectKey]

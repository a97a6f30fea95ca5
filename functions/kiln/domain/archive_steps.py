"""The archive workflow's steps (export, import, convert, record a failure), and the import
both the workflow and the synchronous `POST /v1/projects/import` share. No AWS here.

Imports write nothing visible until the archive has been read twice: `inspect` validates it
completely (names, types, sizes, ratios, kiln.json) without storing a byte, then the files
are stored as blobs under the new project's prefix, and one transaction creates the project,
its spec versions and its `main` branch. Whatever fails after the first blob, the prefix is
deleted again: no project, no blobs, no refs.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Protocol

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.archives import (
    ArchiveFormat,
    ArchiveManifest,
    InvalidArchive,
    KilnDocument,
    KilnFile,
    KilnProject,
    KilnSource,
    KilnSpec,
    KilnSpecVersion,
    Limits,
    convert,
    inspect,
    iter_files,
    write_archive,
)
from kiln.domain.build_steps import AUTHOR
from kiln.domain.operations import CONTENT_TYPES, EXPORT_RETENTION, Operation, OperationError, OperationStatus
from kiln.domain.projects import DESCRIPTION_MAX, NAME_MAX, Project, ProjectStatus
from kiln.domain.repository import Repository
from kiln.domain.specs import SpecVersion
from kiln.envelope import ErrorCode, KilnError

MAX_IMPORTED_SPEC_VERSIONS = 90  # one transaction holds the project, its branch and its versions


class Storage(Protocol):
    """The S3 side (kiln.adapters.s3_transfer)."""

    def sink(self, key: str, content_type: str, filename: str) -> Any:
        """A context-managed multipart sink with .sha256 and .size after close."""
        ...

    def head(self, key: str) -> dict[str, Any] | None: ...

    def download_to(self, key: str, fileobj: BinaryIO, max_bytes: int) -> int:
        """Raises a LookupError when the object is gone."""
        ...

    def delete(self, key: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...


class ArchiveLedger(Protocol):
    def get(self, workspace_id: str, operation_id: str) -> Operation | None: ...

    def finish(self, workspace_id: str, operation: Operation) -> bool: ...

    def get_upload(self, workspace_id: str, upload_id: str) -> Any: ...


class ProjectCatalog(Protocol):
    """Reads a project and its spec for export; creates an imported one atomically."""

    def project(self, workspace_id: str, project_id: str) -> Project | None: ...

    def spec_versions(self, workspace_id: str, project_id: str) -> list[SpecVersion]: ...

    def create_imported(
        self, workspace_id: str, project: Project, versions: list[SpecVersion], main_commit: str
    ) -> None:
        """Project + spec versions + branch main, in one transaction (or nothing)."""
        ...


@dataclass(frozen=True)
class Imported:
    project: Project
    files: int
    specVersions: int


class ArchiveSteps:
    def __init__(
        self,
        ledger: ArchiveLedger,
        storage: Storage,
        catalog: ProjectCatalog,
        repository: Callable[[str, str], Repository],
        limits: Limits = Limits(),
        clock: Clock = utc_now,
    ) -> None:
        self._ledger = ledger
        self._storage = storage
        self._catalog = catalog
        self._repository = repository
        self._limits = limits
        self._clock = clock

    # --- import -------------------------------------------------------------------------------

    def import_archive(self, workspace_id: str, source: BinaryIO, filename: str | None, name: str | None) -> Imported:
        """Validate fully, then create the project (sync import and the import step)."""
        manifest = inspect(source, self._limits, filename)
        now = self._clock()
        project_id = ids.new_id("project", int(now.timestamp() * 1000))
        prefix = f"repos/{workspace_id}/{project_id}/"
        try:
            repository = self._repository(workspace_id, project_id)
            blobs: dict[str, str] = {}
            source.seek(0)
            for path, content in iter_files(source, manifest, self._limits):
                blobs[path] = repository.store_blob(content)
            commit = repository.commit_files(blobs, f"Import {filename or 'archive'}", AUTHOR)
            project, versions = self._imported_project(project_id, manifest, filename, name, now)
            self._catalog.create_imported(workspace_id, project, versions, commit.id)
        except BaseException:
            self._storage.delete_prefix(prefix)
            raise
        return Imported(project, len(manifest.entries), len(versions))

    def _imported_project(
        self, project_id: str, manifest: ArchiveManifest, filename: str | None, name: str | None, now: Any
    ) -> tuple[Project, list[SpecVersion]]:
        kiln = manifest.kiln
        versions: list[SpecVersion] = []
        if kiln is not None and kiln.spec is not None:
            if len(kiln.spec.versions) > MAX_IMPORTED_SPEC_VERSIONS:
                raise InvalidArchive(
                    "manifest_invalid",
                    f"kiln.json has {len(kiln.spec.versions)} spec versions; "
                    f"at most {MAX_IMPORTED_SPEC_VERSIONS} can be imported",
                )
            versions = [
                SpecVersion(
                    version=v.version,
                    createdAt=v.createdAt,
                    feedback=v.feedback,
                    approvedAt=v.approvedAt,
                    generator=v.generator or "imported",
                    documents=dict(v.documents),
                )
                for v in sorted(kiln.spec.versions, key=lambda v: v.version)
            ]
        stem = (filename or "").rsplit("/", 1)[-1]
        for suffix in (".tar.gz", ".tgz", ".zip", ".kiln"):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
        chosen = name or (kiln.project.name if kiln else None) or manifest.root or stem or "Imported project"
        description = (
            kiln.project.description
            if kiln and kiln.project.description
            else f"Imported from {filename or 'an archive'}."
        )
        latest = versions[-1] if versions else None
        status = ProjectStatus.DRAFT
        if latest is not None:
            status = ProjectStatus.APPROVED if latest.approvedAt else ProjectStatus.SPEC_REVIEW
        stamp = iso(now)
        project = Project(
            id=project_id,
            name=chosen.strip()[:NAME_MAX] or "Imported project",
            description=description[:DESCRIPTION_MAX],
            status=status,
            createdAt=stamp,
            updatedAt=stamp,
            specVersion=latest.version if latest else None,
            approvedAt=latest.approvedAt if latest else None,
        )
        return project, versions

    def run_import(self, workspace_id: str, operation_id: str) -> dict[str, Any]:
        operation = self._pending(workspace_id, operation_id)
        if operation is None:
            return {"status": "already_finished"}
        upload = self._ledger.get_upload(workspace_id, operation.uploadId or "")
        try:
            with self._downloaded(upload) as local:
                imported = self.import_archive(workspace_id, local, upload.filename, operation.resultName)
        except KilnError as error:
            return self._fail(workspace_id, operation, error)
        finally:
            self._discard(upload)  # the upload has served its purpose either way
        finished = operation.model_copy(
            update={
                "status": OperationStatus.SUCCEEDED,
                "resultProjectId": imported.project.id,
                "resultName": imported.project.name,
                "updatedAt": self._now(),
                "finishedAt": self._now(),
            }
        )
        self._ledger.finish(workspace_id, finished)
        return {"status": "succeeded", "projectId": imported.project.id}

    # --- export -------------------------------------------------------------------------------

    def run_export(self, workspace_id: str, operation_id: str) -> dict[str, Any]:
        operation = self._pending(workspace_id, operation_id)
        if operation is None:
            return {"status": "already_finished"}
        project_id = operation.projectId or ""
        commit = (operation.source or {}).get("commit")
        repository = self._repository(workspace_id, project_id)
        # path -> blob id; no commit: a .kiln of a project with no main yet, its spec and no files
        files = repository.files(commit) if commit else {}
        # First pass: sizes and hashes (headers and kiln.json precede the content they describe),
        # one blob in memory at a time; the writer's pass reads each blob again.
        listed = []
        for path, blob in sorted(files.items()):
            content = repository.read_blob(blob)
            listed.append(KilnFile(path=path, sha256=hashlib.sha256(content).hexdigest(), size=len(content)))
            del content
        kiln = None
        if operation.format == "kiln":
            # Stamped with the commit's time, not the export's: the same tree gives the same bytes
            # (without a commit, the project's last change stamps it).
            committed = (
                iso(datetime.fromtimestamp(repository.get_commit(commit).committer.timestamp, UTC)) if commit else None
            )
            kiln = self._kiln_document(workspace_id, project_id, operation, listed, committed)
        key = f"exports/{workspace_id}/{project_id}/{operation.id}.{_extension(operation.format)}"
        listing = [
            (item.path, item.size, (lambda blob=files[item.path]: repository.read_blob(blob))) for item in listed
        ]
        with self._storage.sink(key, CONTENT_TYPES[operation.format or "zip"], operation.filename or "archive") as sink:
            write_archive(ArchiveFormat(operation.format), listing, sink, kiln=kiln)
        return self._succeed(workspace_id, operation, key, sink)

    def _kiln_document(
        self, workspace_id: str, project_id: str, operation: Operation, listed: list[KilnFile], created_at: str | None
    ) -> KilnDocument:
        project = self._catalog.project(workspace_id, project_id)
        if project is None:
            raise KilnError(ErrorCode.NOT_FOUND, "The project no longer exists.", {"resource": "project"})
        versions = self._catalog.spec_versions(workspace_id, project_id)
        spec = None
        if versions:
            spec = KilnSpec(
                versions=[
                    KilnSpecVersion(
                        version=v.version,
                        createdAt=v.createdAt,
                        feedback=v.feedback,
                        approvedAt=v.approvedAt,
                        generator=v.generator,
                        documents=v.documents,
                    )
                    for v in versions
                ],
                latestVersion=versions[-1].version,
            )
        source = operation.source or {}
        return KilnDocument(
            project=KilnProject(name=project.name, description=project.description),
            spec=spec,
            files=listed,
            createdAt=created_at or project.updatedAt,
            source=KilnSource(runId=source.get("runId"), ref=source.get("ref"), commit=source.get("commit")),
        )

    # --- convert ------------------------------------------------------------------------------

    def run_conversion(self, workspace_id: str, operation_id: str) -> dict[str, Any]:
        operation = self._pending(workspace_id, operation_id)
        if operation is None:
            return {"status": "already_finished"}
        upload = self._ledger.get_upload(workspace_id, operation.uploadId or "")
        key = f"conversions/{workspace_id}/{operation.id}.{_extension(operation.format)}"
        try:
            with self._downloaded(upload) as local:
                with self._storage.sink(
                    key, CONTENT_TYPES[operation.format or "zip"], operation.filename or "archive"
                ) as sink:
                    convert(local, ArchiveFormat(operation.format), sink, self._limits, upload.filename)
        except KilnError as error:
            return self._fail(workspace_id, operation, error)
        finally:
            self._discard(upload)
        return self._succeed(workspace_id, operation, key, sink)

    # --- failure ------------------------------------------------------------------------------

    def record_failure(self, workspace_id: str, operation_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
        """The workflow's Catch: an unexpected error. The operation fails with 500 (the cause
        goes to the log, not to the client), and the uploaded object is deleted."""
        operation = self._ledger.get(workspace_id, operation_id)
        if operation is None or operation.status is not OperationStatus.PROCESSING:
            return {"status": "already_finished"}
        if operation.uploadId:
            upload = self._ledger.get_upload(workspace_id, operation.uploadId)
            if upload is not None:
                self._storage.delete(upload.objectKey)
        failed = operation.model_copy(
            update={
                "status": OperationStatus.FAILED,
                "updatedAt": self._now(),
                "finishedAt": self._now(),
                "error": OperationError(
                    code=ErrorCode.INTERNAL_ERROR.value,
                    status=500,
                    message="The operation failed unexpectedly.",
                    details={"operationId": operation.id, "error": str((error or {}).get("Error") or "unknown")},
                ),
            }
        )
        self._ledger.finish(workspace_id, failed)
        return {"status": "failed"}

    # --- shared -------------------------------------------------------------------------------

    def _pending(self, workspace_id: str, operation_id: str) -> Operation | None:
        operation = self._ledger.get(workspace_id, operation_id)
        if operation is None:
            raise LookupError(f"operation {operation_id} does not exist")
        return operation if operation.status is OperationStatus.PROCESSING else None

    def _downloaded(self, upload: Any) -> _Download:
        return _Download(self._storage, upload)

    def _discard(self, upload: Any) -> None:
        # No upload record (it expired) means nothing to delete, not a second error that would
        # hide the first and turn a clear failure into the workflow's 500.
        if upload is not None:
            self._storage.delete(upload.objectKey)

    def _succeed(self, workspace_id: str, operation: Operation, key: str, sink: Any) -> dict[str, Any]:
        now = self._clock()
        finished = operation.model_copy(
            update={
                "status": OperationStatus.SUCCEEDED,
                "objectKey": key,
                "sizeBytes": sink.size,
                "sha256": sink.sha256,
                "updatedAt": iso(now),
                "finishedAt": iso(now),
                "objectExpiresAt": iso(now + EXPORT_RETENTION),
            }
        )
        self._ledger.finish(workspace_id, finished)
        return {"status": "succeeded", "sizeBytes": sink.size}

    def _fail(self, workspace_id: str, operation: Operation, error: KilnError) -> dict[str, Any]:
        failed = operation.model_copy(
            update={
                "status": OperationStatus.FAILED,
                "updatedAt": self._now(),
                "finishedAt": self._now(),
                "error": OperationError(
                    code=error.code.value, status=error.status, message=error.message, details=dict(error.details)
                ),
            }
        )
        self._ledger.finish(workspace_id, failed)
        return {"status": "failed", "code": error.code.value}

    def _now(self) -> str:
        return iso(self._clock())


class _Download:
    """An upload copied to a temporary file (deleted on exit), after checking it is there and
    exactly as large as declared (S3's POST policy says so; checked again here)."""

    def __init__(self, storage: Storage, upload: Any) -> None:
        self._storage, self._upload = storage, upload
        self._file: Any = None

    def __enter__(self) -> BinaryIO:
        if self._upload is None:
            raise KilnError(
                ErrorCode.VALIDATION_ERROR,
                "The upload no longer exists.",
                {
                    "fields": [
                        {"field": "uploadId", "location": "body", "type": "not_found", "message": "no such upload"}
                    ]
                },
            )
        head = self._storage.head(self._upload.objectKey)
        if head is None:
            raise InvalidArchive("empty", "nothing was uploaded with this upload's URL")
        if int(head["size"]) != self._upload.sizeBytes:
            reason = "truncated" if int(head["size"]) < self._upload.sizeBytes else "too_large"
            raise InvalidArchive(reason, f"{head['size']} bytes were uploaded, {self._upload.sizeBytes} were declared")
        self._file = tempfile.TemporaryFile()
        try:
            self._storage.download_to(self._upload.objectKey, self._file, self._upload.sizeBytes)
        except LookupError:
            # Deleted between the two reads (its lifecycle ran out): the same answer as never sent.
            self._file.close()
            raise InvalidArchive("empty", "nothing was uploaded with this upload's URL") from None
        self._file.seek(0)
        return self._file

    def __exit__(self, *exc: Any) -> None:
        if self._file is not None:
            self._file.close()


def _extension(format: str | None) -> str:
    return {"zip": "zip", "tar.gz": "tar.gz", "kiln": "kiln"}[format or "zip"]

"""Archive operations and uploads in memory: kiln.domain.operations.OperationStore and
kiln.domain.archive_steps.ArchiveLedger, with kiln.adapters.dynamodb.operations' semantics;
and kiln.domain.archive_steps.ProjectCatalog over the project and spec fakes.

An operation is finished once (only a `processing` record is replaced); an upload is claimed
by one operation, in the same write that stores the operation.
"""

from __future__ import annotations

from kiln.domain.operations import Operation, OperationKind, OperationStatus, Upload
from kiln.domain.projects import Project
from kiln.domain.specs import SpecVersion
from tests.fakes._hooks import Hooks
from tests.fakes.errors import ConditionFailed
from tests.fakes.projects import FakeProjects
from tests.fakes.repository import FakeRepositories
from tests.fakes.runs import FakeRuns
from tests.fakes.specs import FakeSpecs


class FakeOperations(Hooks):
    """`runs` answers kind_of for a run's callbackId (the pointer written with the run)."""

    def __init__(self, runs: FakeRuns | None = None) -> None:
        super().__init__()
        self.runs = runs
        self.operations: dict[tuple[str, str], Operation] = {}
        self.uploads: dict[tuple[str, str], Upload] = {}
        self.kiln_exports: dict[tuple[str, str, str], str] = {}
        self.finished: list[Operation] = []  # every finish that took effect, in order

    def put(self, workspace_id: str, operation: Operation) -> None:
        self._hook("put")
        self.operations[(workspace_id, operation.id)] = operation.model_copy(deep=True)

    def get(self, workspace_id: str, operation_id: str) -> Operation | None:
        self._hook("get")
        found = self.operations.get((workspace_id, operation_id))
        return found.model_copy(deep=True) if found else None

    def finish(self, workspace_id: str, operation: Operation) -> bool:
        self._hook("finish")
        current = self.operations.get((workspace_id, operation.id))
        if current is None or current.status is not OperationStatus.PROCESSING:
            return False
        self.operations[(workspace_id, operation.id)] = operation.model_copy(deep=True)
        self.finished.append(operation.model_copy(deep=True))
        return True

    def kind_of(self, workspace_id: str, callback_id: str) -> tuple[OperationKind, str | None] | None:
        self._hook("kind_of")
        operation = self.operations.get((workspace_id, callback_id))
        if operation is not None:
            return operation.kind, operation.projectId
        project_id = self.runs.run_pointer(workspace_id, callback_id) if self.runs else None
        return (OperationKind.RUN, project_id) if project_id else None

    def current_kiln_export(self, workspace_id: str, project_id: str, commit: str) -> str | None:
        self._hook("current_kiln_export")
        return self.kiln_exports.get((workspace_id, project_id, commit))

    def remember_kiln_export(self, workspace_id: str, project_id: str, commit: str, export_id: str) -> str:
        self._hook("remember_kiln_export")
        # Overwrites a failed or expired predecessor: the caller only asks after checking it.
        self.kiln_exports[(workspace_id, project_id, commit)] = export_id
        return export_id

    def put_upload(self, workspace_id: str, upload: Upload) -> None:
        self._hook("put_upload")
        self.uploads[(workspace_id, upload.id)] = upload.model_copy(deep=True)

    def get_upload(self, workspace_id: str, upload_id: str) -> Upload | None:
        self._hook("get_upload")
        found = self.uploads.get((workspace_id, upload_id))
        return found.model_copy(deep=True) if found else None

    def put_consuming(self, workspace_id: str, operation: Operation, upload_id: str) -> str | None:
        self._hook("put_consuming")
        upload = self.uploads.get((workspace_id, upload_id))
        if (workspace_id, operation.id) in self.operations or upload is None or upload.consumedBy is not None:
            if upload is None or upload.consumedBy is None:
                raise ConditionFailed("not a lost race for the upload")  # the adapter re-raises
            return upload.consumedBy
        self.operations[(workspace_id, operation.id)] = operation.model_copy(deep=True)
        self.uploads[(workspace_id, upload_id)] = upload.model_copy(update={"consumedBy": operation.id})
        return None

    def claim(self, workspace_id: str, upload_id: str, operation_id: str) -> None:
        """Another request's operation takes the upload (a race the caller then loses)."""
        upload = self.uploads[(workspace_id, upload_id)]
        self.uploads[(workspace_id, upload_id)] = upload.model_copy(update={"consumedBy": operation_id})


class FakeCatalog(Hooks):
    def __init__(self, projects: FakeProjects, specs: FakeSpecs, repositories: FakeRepositories) -> None:
        super().__init__()
        self.projects = projects
        self.specs = specs
        self.repositories = repositories
        self.created: list[Project] = []

    def project(self, workspace_id: str, project_id: str) -> Project | None:
        self._hook("project")
        return self.projects.project(workspace_id, project_id)

    def spec_versions(self, workspace_id: str, project_id: str) -> list[SpecVersion]:
        self._hook("spec_versions")
        versions = []
        for summary in self.specs.list_versions(workspace_id, project_id):
            version = self.specs.get_version(workspace_id, project_id, summary.version)
            if version is not None:
                versions.append(version)
        return versions

    def create_imported(
        self, workspace_id: str, project: Project, versions: list[SpecVersion], main_commit: str
    ) -> None:
        self._hook("create_imported")
        refs = self.repositories.refs_of(workspace_id, project.id)
        # One transaction: every item must be new, or nothing is written.
        if (
            (workspace_id, project.id) in self.projects.items
            or refs.get("main") is not None
            or any(self.specs.has_version(workspace_id, project.id, v.version) for v in versions)
        ):
            raise ConditionFailed(f"project {project.id} or one of its items exists")
        self.projects.insert(workspace_id, project)
        for version in versions:
            self.specs.put_version(workspace_id, project.id, version)
        refs.compare_and_swap("main", None, main_commit)
        self.created.append(project)

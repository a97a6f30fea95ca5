"""What the archive steps read and write about projects (kiln.domain.archive_steps.ProjectCatalog)."""

from __future__ import annotations

from kiln.adapters import s3
from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import put_new, workspace_pk
from kiln.adapters.dynamodb.projects import ProjectStore, counts_update
from kiln.adapters.dynamodb.refs import ref_sk
from kiln.adapters.dynamodb.specs import SpecStore
from kiln.clock import iso, utc_now
from kiln.domain.projects import Project
from kiln.domain.specs import SpecVersion


class ProjectCatalog:
    def project(self, workspace_id: str, project_id: str) -> Project | None:
        record = ProjectStore().get(workspace_id, project_id)
        return None if record is None else Project(**record.json())

    def spec_versions(self, workspace_id: str, project_id: str) -> list[SpecVersion]:
        store = SpecStore()
        versions = []
        for summary in store.list_versions(workspace_id, project_id):
            version = store.get_version(workspace_id, project_id, summary.version)
            if version is not None:
                versions.append(version)
        return versions

    def create_imported(
        self, workspace_id: str, project: Project, versions: list[SpecVersion], main_commit: str
    ) -> None:
        """One transaction: the project, its spec versions, its `main` branch and its count in
        the workspace's totals (kiln.adapters.dynamodb.projects), or nothing."""
        offloaded: list[str] = []
        try:
            items = [ProjectStore.item(workspace_id, project)]
            for version in versions:
                item, key = SpecStore.version_item(workspace_id, project.id, version)
                items.append(item)
                if key:
                    offloaded.append(key)
            now = iso(utc_now())
            items.append(
                {
                    "pk": workspace_pk(workspace_id),
                    "sk": ref_sk(project.id, "main"),
                    "type": "ref",
                    "projectId": project.id,
                    "ref": "main",
                    "commit": main_commit,
                    "createdAt": now,
                    "updatedAt": now,
                }
            )
            client("dynamodb").transact_write_items(
                TransactItems=[put_new(item) for item in items] + [{"Update": counts_update(workspace_id, live=1)}]
            )
        except Exception:
            for key in offloaded:
                s3.delete_object(key)
            raise

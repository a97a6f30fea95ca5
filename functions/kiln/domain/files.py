"""Reading a project's files: its repository at a ref, once the project is known to be the caller's.

The files endpoints list a directory and read a file at a branch or a commit; both start here,
so the workspace check and the ref's 404 are decided in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from kiln.domain.projects import ProjectService
from kiln.domain.repository import RefNotFound, Repository
from kiln.envelope import not_found


class RepositoryAt(NamedTuple):
    """A project's repository and the commit a ref resolved to (read the tree at `commit`, not
    at the ref, so a branch that moves meanwhile cannot mix two commits into one answer)."""

    repository: Repository
    commit: str


class FileService:
    def __init__(self, projects: ProjectService, repository: Callable[[str, str], Repository]) -> None:
        self._projects = projects
        self._repository = repository  # (workspace_id, project_id) -> a fresh Repository

    def at(self, workspace_id: str, project_id: str, ref: str) -> RepositoryAt:
        """The project's repository at `ref` (a branch or a full commit sha). 404 for another
        workspace's project (the same answer as for a missing one) and for an unknown ref."""
        # First, and before any repository read: another workspace's project has no refs to probe.
        self._projects.get(workspace_id, project_id)
        repository = self._repository(workspace_id, project_id)
        try:
            return RepositoryAt(repository, repository.resolve(ref))
        except RefNotFound:
            raise not_found("ref", ref) from None

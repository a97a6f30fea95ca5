"""kiln.domain.specs.SpecRepository in memory: spec versions beside their project's item.

Every write is one "transaction" guarded by the project's revision as the spec service read
it (kiln.adapters.dynamodb.specs): if the revision moved, or the version it would add
exists already, nothing is written and ChangedConcurrently carries the project as it is now.
"""

from __future__ import annotations

from typing import Any

from kiln.domain.generation import Question
from kiln.domain.specs import ChangedConcurrently, SpecState, SpecVersion, SpecVersionSummary
from tests.fakes._hooks import Hooks
from tests.fakes.projects import FakeProjects


class FakeSpecs(Hooks):
    def __init__(self, projects: FakeProjects) -> None:
        super().__init__()
        self.projects = projects
        self.versions: dict[tuple[str, str, int], SpecVersion] = {}

    def load(self, workspace_id: str, project_id: str) -> SpecState | None:
        self._hook("load")
        item = self.projects.item(workspace_id, project_id)
        project = self.projects.project(workspace_id, project_id)
        if item is None or project is None:
            return None
        return SpecState(
            project=project,
            revision=int(item.get("revision", 0)),
            questions=tuple(Question.model_validate(q) for q in item.get("questions", [])),
            answers=dict(item.get("answers", {})),
        )

    def save_questions(
        self, workspace_id: str, state: SpecState, questions: list[Question], changes: dict[str, Any]
    ) -> None:
        self._hook("save_questions")
        project_id = state.project.id
        if not self.projects.holds(workspace_id, project_id, revision=state.revision):
            raise ChangedConcurrently(self.projects.project(workspace_id, project_id))
        stored = [q.model_dump(mode="json", exclude_none=True) for q in questions]
        self.projects.apply(workspace_id, project_id, {**changes, "questions": stored})

    def save_version(self, workspace_id: str, state: SpecState, spec: SpecVersion, changes: dict[str, Any]) -> None:
        self._hook("save_version")
        project_id = state.project.id
        key = (workspace_id, project_id, spec.version)
        if key in self.versions or not self.projects.holds(workspace_id, project_id, revision=state.revision):
            raise ChangedConcurrently(self.projects.project(workspace_id, project_id))
        self.versions[key] = spec.model_copy(deep=True)
        self.projects.apply(workspace_id, project_id, changes)

    def approve(self, workspace_id: str, state: SpecState, version: int, changes: dict[str, Any]) -> None:
        self._hook("approve")
        project_id = state.project.id
        key = (workspace_id, project_id, version)
        if key not in self.versions or not self.projects.holds(workspace_id, project_id, revision=state.revision):
            raise ChangedConcurrently(self.projects.project(workspace_id, project_id))
        self.projects.apply(workspace_id, project_id, changes)
        self.versions[key] = self.versions[key].model_copy(update={"approvedAt": changes["approvedAt"]})

    def get_version(self, workspace_id: str, project_id: str, version: int) -> SpecVersion | None:
        self._hook("get_version")
        found = self.versions.get((workspace_id, project_id, version))
        return found.model_copy(deep=True) if found else None

    def list_versions(self, workspace_id: str, project_id: str) -> list[SpecVersionSummary]:
        self._hook("list_versions")
        mine = sorted(
            (v for (w, p, _), v in self.versions.items() if (w, p) == (workspace_id, project_id)),
            key=lambda v: v.version,
        )
        return [SpecVersionSummary(**v.model_dump(exclude={"documents"})) for v in mine]

    # --- what the other fakes (the same table) use ----------------------------------------------

    def has_version(self, workspace_id: str, project_id: str, version: int) -> bool:
        return (workspace_id, project_id, version) in self.versions

    def put_version(self, workspace_id: str, project_id: str, spec: SpecVersion) -> None:
        """Store a version (an import's transaction, its conditions already checked)."""
        self.versions[(workspace_id, project_id, spec.version)] = spec.model_copy(deep=True)

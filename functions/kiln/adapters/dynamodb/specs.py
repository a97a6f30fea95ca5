"""Spec versions and the spec workflow's project writes (kiln.domain.specs.SpecRepository).

A spec version is its own item next to its project in the workspace partition
(`sk = SPEC#<projectId>#<version>`). Its documents are stored inline up to
INLINE_LIMIT_BYTES and in S3 above that (DynamoDB items stop at 400 KB), transparently to
readers. Writing a version and moving the project forward is one transaction guarded by the
project's revision, so a version never exists without the project pointing at it, and an
S3 object whose transaction failed is deleted again (no orphans).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters import s3
from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    project_sk,
    put_new,
    spec_prefix,
    spec_sk,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.adapters.dynamodb.projects import project_from, update_request
from kiln.domain.generation import Question
from kiln.domain.projects import Project
from kiln.domain.specs import ChangedConcurrently, SpecState, SpecVersion, SpecVersionSummary

INLINE_LIMIT_BYTES = 300 * 1024
_SUMMARY_FIELDS = ("version", "createdAt", "feedback", "approvedAt", "generator")


def _summary_values(raw: dict[str, Any]) -> dict[str, Any]:
    values = {k: raw[k] for k in _SUMMARY_FIELDS if k in raw}
    values["version"] = int(values["version"])
    return values


class SpecStore:
    def load(self, workspace_id: str, project_id: str) -> SpecState | None:
        item = get_item(workspace_pk(workspace_id), project_sk(project_id), consistent=True)
        if item is None:
            return None
        raw = from_item({k: item[k] for k in ("questions", "answers", "revision") if k in item})
        return SpecState(
            project=project_from(item),
            revision=int(raw.get("revision", 0)),
            questions=tuple(Question.model_validate(q) for q in raw.get("questions", [])),
            answers=dict(raw.get("answers", {})),
        )

    def save_questions(
        self, workspace_id: str, state: SpecState, questions: list[Question], changes: dict[str, Any]
    ) -> None:
        stored = [q.model_dump(mode="json", exclude_none=True) for q in questions]
        try:
            client("dynamodb").update_item(
                **update_request(
                    workspace_id, state.project.id, {**changes, "questions": stored}, revision=state.revision
                )
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            raise ChangedConcurrently(self._current(workspace_id, state.project.id)) from None

    @staticmethod
    def version_item(workspace_id: str, project_id: str, spec: SpecVersion) -> tuple[dict[str, Any], str | None]:
        """The item of a spec version and, when its documents went to S3, their object key
        (already written: delete it if the item's write fails)."""
        body = json.dumps(spec.documents, ensure_ascii=False, separators=(",", ":")).encode()
        item: dict[str, Any] = {
            "pk": workspace_pk(workspace_id),
            "sk": spec_sk(project_id, spec.version),
            "type": "spec",
            "projectId": project_id,
            "version": spec.version,
            "createdAt": spec.createdAt,
            "feedback": spec.feedback,
            "approvedAt": spec.approvedAt,
            "generator": spec.generator,
            "documentsBytes": len(body),
        }
        offloaded = None
        if len(body) > INLINE_LIMIT_BYTES:
            # The random part keeps a retried version from ever overwriting another's object.
            offloaded = f"specs/{workspace_id}/{project_id}/{spec.version:06d}-{secrets.token_hex(8)}.json"
            s3.put_object(offloaded, body, "application/json")
            item["documentsKey"] = offloaded
        else:
            item["documents"] = spec.documents
        return item, offloaded

    def save_version(self, workspace_id: str, state: SpecState, spec: SpecVersion, changes: dict[str, Any]) -> None:
        project_id = state.project.id
        item, offloaded = self.version_item(workspace_id, project_id, spec)
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    put_new(item),
                    {"Update": update_request(workspace_id, project_id, changes, revision=state.revision)},
                ]
            )
        except Exception as error:
            if offloaded:  # whatever went wrong, the version does not exist: neither may its object
                s3.delete_object(offloaded)
            if not (isinstance(error, ClientError) and transaction_cancelled(error)):
                raise
            raise ChangedConcurrently(self._current(workspace_id, project_id)) from None

    def approve(self, workspace_id: str, state: SpecState, version: int, changes: dict[str, Any]) -> None:
        project_id = state.project.id
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {"Update": update_request(workspace_id, project_id, changes, revision=state.revision)},
                    {
                        "Update": {
                            "TableName": table(),
                            "Key": to_item({"pk": workspace_pk(workspace_id), "sk": spec_sk(project_id, version)}),
                            "UpdateExpression": "SET approvedAt = :at",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": to_item({":at": changes["approvedAt"]}),
                        }
                    },
                ]
            )
        except ClientError as error:
            if not transaction_cancelled(error):
                raise
            raise ChangedConcurrently(self._current(workspace_id, project_id)) from None

    def get_version(self, workspace_id: str, project_id: str, version: int) -> SpecVersion | None:
        item = get_item(workspace_pk(workspace_id), spec_sk(project_id, version), consistent=True)
        if item is None:
            return None
        raw = from_item(item)
        documents = raw.get("documents")
        if documents is None:
            body = s3.get_object(raw["documentsKey"])
            if body is None:
                raise RuntimeError(f"spec documents object {raw['documentsKey']} is missing")
            documents = json.loads(body)
        return SpecVersion(**_summary_values(raw), documents=documents)

    def list_versions(self, workspace_id: str, project_id: str) -> list[SpecVersionSummary]:
        request: dict[str, Any] = {
            "TableName": table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item(
                {":pk": workspace_pk(workspace_id), ":prefix": spec_prefix(project_id)}
            ),
            # Summaries only: the documents stay where they are.
            "ProjectionExpression": ", ".join(f"#{f}" for f in _SUMMARY_FIELDS),
            "ExpressionAttributeNames": {f"#{f}": f for f in _SUMMARY_FIELDS},
            "ConsistentRead": True,
        }
        versions: list[SpecVersionSummary] = []
        while True:
            response = client("dynamodb").query(**request)
            versions.extend(SpecVersionSummary(**_summary_values(from_item(i))) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return versions
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @staticmethod
    def _current(workspace_id: str, project_id: str) -> Project | None:
        """The project as it is now, after a guarded write lost (None if it is gone)."""
        item = get_item(workspace_pk(workspace_id), project_sk(project_id), consistent=True)
        return project_from(item) if item else None

"""Archive operations, uploads and the pointers the strict status endpoint reads.

operation     pk=WS#<ws>  sk=OP#<operationId>            (exports, imports, conversions)
run pointer   pk=WS#<ws>  sk=OP#<runId>                  {kind: run, projectId} (written with the run)
kiln export   pk=WS#<ws>  sk=KILNEXPORT#<projectId>#<commit>   {exportId}
upload        pk=WS#<ws>  sk=UPLOAD#<uploadId>           (expires by TTL a day after its URL;
                                                          consumedBy once an import or conversion used it)
"""

from __future__ import annotations

import calendar
import time
from datetime import datetime

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import (
    condition_failed,
    from_item,
    get_item,
    numbers,
    put_item,
    table,
    to_item,
    transaction_cancelled,
    workspace_pk,
)
from kiln.domain.operations import Operation, OperationKind, Upload

UPLOAD_RECORD_SECONDS = 86_400
_OPERATION_FIELDS = tuple(Operation.model_fields)


def operation_sk(operation_id: str) -> str:
    return f"OP#{operation_id}"


def upload_sk(upload_id: str) -> str:
    return f"UPLOAD#{upload_id}"


class OperationItems:
    """kiln.domain.operations.OperationStore on DynamoDB, plus the workers' writes."""

    def put(self, workspace_id: str, operation: Operation) -> None:
        put_item(
            {
                "pk": workspace_pk(workspace_id),
                "sk": operation_sk(operation.id),
                "type": "operation",
                **operation.model_dump(mode="json"),
            }
        )

    def get(self, workspace_id: str, operation_id: str) -> Operation | None:
        item = get_item(workspace_pk(workspace_id), operation_sk(operation_id), consistent=True)
        if item is None:
            return None
        raw = numbers(from_item(item))
        if raw.get("kind") == OperationKind.RUN.value:
            return None  # a run pointer: runs have their own resource
        return Operation(**{k: raw[k] for k in _OPERATION_FIELDS if k in raw})

    def finish(self, workspace_id: str, operation: Operation) -> bool:
        """Store the finished operation once: only a `processing` record is replaced."""
        try:
            client("dynamodb").put_item(
                TableName=table(),
                Item=to_item(
                    {
                        "pk": workspace_pk(workspace_id),
                        "sk": operation_sk(operation.id),
                        "type": "operation",
                        **operation.model_dump(mode="json"),
                    }
                ),
                ConditionExpression="#status = :processing",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item({":processing": "processing"}),
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def kind_of(self, workspace_id: str, callback_id: str) -> tuple[OperationKind, str | None] | None:
        item = get_item(workspace_pk(workspace_id), operation_sk(callback_id), consistent=True)
        if item is None:
            return None
        raw = from_item(item)
        return OperationKind(raw["kind"]), raw.get("projectId")

    def current_kiln_export(self, workspace_id: str, project_id: str, commit: str) -> str | None:
        item = get_item(workspace_pk(workspace_id), f"KILNEXPORT#{project_id}#{commit}", consistent=True)
        return from_item(item)["exportId"] if item else None

    def remember_kiln_export(self, workspace_id: str, project_id: str, commit: str, export_id: str) -> str:
        # Overwrites a failed or expired predecessor: the caller only asks after checking it.
        put_item(
            {
                "pk": workspace_pk(workspace_id),
                "sk": f"KILNEXPORT#{project_id}#{commit}",
                "type": "kiln-export",
                "exportId": export_id,
            }
        )
        return export_id

    def put_upload(self, workspace_id: str, upload: Upload) -> None:
        expires = calendar.timegm(datetime.fromisoformat(upload.expiresAt.replace("Z", "+00:00")).utctimetuple())
        put_item(
            {
                "pk": workspace_pk(workspace_id),
                "sk": upload_sk(upload.id),
                "type": "upload",
                "expiresAtEpoch": max(expires, int(time.time())) + UPLOAD_RECORD_SECONDS,
                **upload.model_dump(mode="json"),
            }
        )

    def get_upload(self, workspace_id: str, upload_id: str) -> Upload | None:
        item = get_item(workspace_pk(workspace_id), upload_sk(upload_id), consistent=True)
        if item is None:
            return None
        raw = numbers(from_item(item))
        return Upload(**{k: raw[k] for k in Upload.model_fields if k in raw})

    def put_consuming(self, workspace_id: str, operation: Operation, upload_id: str) -> str | None:
        """The operation and its claim on the upload in one transaction; on a lost race, the
        upload is read again (consistently) for the operation that holds it."""
        pk = workspace_pk(workspace_id)
        try:
            client("dynamodb").transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table(),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "Item": to_item(
                                {
                                    "pk": pk,
                                    "sk": operation_sk(operation.id),
                                    "type": "operation",
                                    **operation.model_dump(mode="json"),
                                }
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": table(),
                            "Key": to_item({"pk": pk, "sk": upload_sk(upload_id)}),
                            "UpdateExpression": "SET consumedBy = :operation",
                            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(consumedBy)",
                            "ExpressionAttributeValues": to_item({":operation": operation.id}),
                        }
                    },
                ]
            )
        except ClientError as error:
            if not transaction_cancelled(error):
                raise
            upload = self.get_upload(workspace_id, upload_id)
            if upload is None or upload.consumedBy is None:
                raise  # not a lost race for the upload (it expired, or a conflicting write): a retry decides
            return upload.consumedBy
        return None

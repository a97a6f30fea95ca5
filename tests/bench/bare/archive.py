"""Bare DELETE /v1/projects/{projectId}: one conditional UpdateItem to `archived`, no framework."""

import json
import os
import time

import boto3

_clients = {}


def client(service):
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def handler(event, context=None):
    workspace_id = event["requestContext"]["authorizer"]["workspaceId"]
    project_id = event["pathParameters"]["projectId"]
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    client("dynamodb").update_item(
        TableName=os.environ["KILN_TABLE_NAME"],
        Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": f"PROJECT#{project_id}"}},
        UpdateExpression="SET #status = :archived, gsi1pk = :partition, archivedAt = :now, updatedAt = :now",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":archived": {"S": "archived"},
            ":now": {"S": now},
            ":partition": {"S": f"WS#{workspace_id}#PROJECTS#archived"},
        },
        ReturnValues="ALL_NEW",
    )
    data = {"id": project_id, "status": "archived", "archivedAt": now}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"success": True, "data": data}),
        "isBase64Encoded": False,
    }

"""Bare GET /v1/projects/{projectId}: one GetItem, no framework."""

import json
import os

import boto3

_clients = {}
FIELDS = ("id", "name", "description", "status", "createdAt", "updatedAt", "archivedAt", "specVersion", "approvedAt")


def client(service):
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def handler(event, context=None):
    workspace_id = event["requestContext"]["authorizer"]["workspaceId"]
    project_id = event["pathParameters"]["projectId"]
    item = (
        client("dynamodb")
        .get_item(
            TableName=os.environ["KILN_TABLE_NAME"],
            Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": f"PROJECT#{project_id}"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    if not item:
        return {"statusCode": 404, "headers": {}, "body": "", "isBase64Encoded": False}
    data = {k: next(iter(item[k].values())) if k in item else None for k in FIELDS}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"success": True, "data": data}),
        "isBase64Encoded": False,
    }

"""Bare PATCH /v1/projects/{projectId}: parse the body, one conditional UpdateItem, no framework."""

import json
import os
import time

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
    name = json.loads(event.get("body") or "{}").get("name")
    if not isinstance(name, str):
        return {"statusCode": 400, "headers": {}, "body": "", "isBase64Encoded": False}
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    attributes = client("dynamodb").update_item(
        TableName=os.environ["KILN_TABLE_NAME"],
        Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": f"PROJECT#{project_id}"}},
        UpdateExpression="SET #name = :name, nameFolded = :folded, updatedAt = :now",
        ConditionExpression="attribute_exists(pk) AND #status <> :archived",
        ExpressionAttributeNames={"#name": "name", "#status": "status"},
        ExpressionAttributeValues={
            ":name": {"S": name},
            ":folded": {"S": name.casefold()},
            ":now": {"S": now},
            ":archived": {"S": "archived"},
        },
        ReturnValues="ALL_NEW",
    )["Attributes"]
    data = {k: next(iter(attributes[k].values())) if k in attributes else None for k in FIELDS}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"success": True, "data": data}),
        "isBase64Encoded": False,
    }

"""Bare POST /v1/projects: parse the body, one conditional PutItem, no framework."""

import json
import os
import time
import uuid

import boto3

_clients = {}


def client(service):
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def handler(event, context=None):
    workspace_id = event["requestContext"]["authorizer"]["workspaceId"]
    body = json.loads(event.get("body") or "{}")
    name, description = body.get("name"), body.get("description")
    if not isinstance(name, str) or not isinstance(description, str):
        return {"statusCode": 400, "headers": {}, "body": "", "isBase64Encoded": False}
    project_id = "proj_" + uuid.uuid4().hex[:26]
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    data = {
        "id": project_id,
        "name": name,
        "description": description,
        "status": "draft",
        "createdAt": now,
        "updatedAt": now,
    }
    item = {
        "pk": f"WS#{workspace_id}",
        "sk": f"PROJECT#{project_id}",
        "gsi1pk": f"WS#{workspace_id}#PROJECTS#draft",
        "gsi1sk": f"PROJECT#{project_id}",
        "type": "project",
        "workspaceId": workspace_id,
        "nameFolded": name.casefold(),
        "descriptionFolded": description.casefold(),
        **data,
    }
    client("dynamodb").put_item(
        TableName=os.environ["KILN_TABLE_NAME"],
        Item={k: {"S": v} for k, v in item.items()},
        ConditionExpression="attribute_not_exists(pk)",
    )
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"success": True, "data": data}),
        "isBase64Encoded": False,
    }

"""Bare GET /v1/projects (page mode): Query the workspace partition, no framework."""

import json
import math
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
    query = event.get("queryStringParameters") or {}
    page, size = int(query.get("page", 1)), int(query.get("pageSize", 20))
    request = {
        "TableName": os.environ["KILN_TABLE_NAME"],
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "FilterExpression": "#status <> :archived",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":pk": {"S": f"WS#{workspace_id}"},
            ":prefix": {"S": "PROJECT#"},
            ":archived": {"S": "archived"},
        },
        "ScanIndexForward": False,
    }
    items = []
    while True:
        response = client("dynamodb").query(**request)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    start = (page - 1) * size
    data = [{k: next(iter(i[k].values())) if k in i else None for k in FIELDS} for i in items[start : start + size]]
    pagination = {"page": page, "pageSize": size, "total": len(items), "totalPages": math.ceil(len(items) / size)}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"success": True, "data": data, "pagination": pagination}),
        "isBase64Encoded": False,
    }

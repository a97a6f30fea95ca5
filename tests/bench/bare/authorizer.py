"""Bare REQUEST authorizer: read the Authorization header, hash the bearer key, GetItem the key,
GetItem its workspace."""

import hashlib
import json
import os

import boto3

_clients = {}


def client(service):
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def handler(event, context=None):
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.startswith("kiln_"):
        raise Exception("Unauthorized")
    table = os.environ["KILN_TABLE_NAME"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    key = (
        client("dynamodb")
        .get_item(TableName=table, Key={"pk": {"S": f"APIKEY#{digest}"}, "sk": {"S": "APIKEY"}})
        .get("Item")
    )
    if not key or "revokedAt" in key:
        raise Exception("Unauthorized")
    workspace_id = key["workspaceId"]["S"]
    workspace = (
        client("dynamodb")
        .get_item(TableName=table, Key={"pk": {"S": f"WS#{workspace_id}"}, "sk": {"S": "WORKSPACE"}})
        .get("Item")
    )
    if not workspace:
        raise Exception("Unauthorized")
    scopes = sorted(s["S"] for s in key["scopes"]["L"])
    prefix, _, rest = event.get("methodArn", "").partition("/")
    return {
        "principalId": key["id"]["S"],
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{prefix}/{rest.split('/', 1)[0]}/*"}
            ],
        },
        "context": {
            "workspaceId": workspace_id,
            "keyId": key["id"]["S"],
            "scopes": " ".join(scopes),
            "tier": workspace["tier"]["S"],
            "allowedPaths": json.dumps([p["S"] for p in key.get("allowedPaths", {}).get("L", [])]),
        },
        "usageIdentifierKey": workspace["usageKeyValue"]["S"],
    }

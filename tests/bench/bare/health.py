"""Bare GET /health: the same three read-only probes (DescribeTable, HeadBucket,
DescribeStateMachine), no framework."""

import json
import os

import boto3

_clients = {}


def client(service):
    if service not in _clients:
        _clients[service] = boto3.client(service)
    return _clients[service]


def handler(event, context=None):
    components = {}
    try:
        client("dynamodb").describe_table(TableName=os.environ["KILN_TABLE_NAME"])
        components["database"] = "ok"
    except Exception:
        components["database"] = "unavailable"
    try:
        client("s3").head_bucket(Bucket=os.environ["KILN_BUCKET_NAME"])
        components["storage"] = "ok"
    except Exception:
        components["storage"] = "unavailable"
    try:
        for arn in json.loads(os.environ.get("KILN_STATE_MACHINES", "{}")).values():
            client("stepfunctions").describe_state_machine(stateMachineArn=arn)
        components["workflows"] = "ok"
    except Exception:
        components["workflows"] = "unavailable"
    healthy = all(state == "ok" for state in components.values())
    return {
        "statusCode": 200 if healthy else 503,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"status": "ok" if healthy else "degraded", "components": components}),
        "isBase64Encoded": False,
    }

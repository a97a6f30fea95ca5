"""Bare GET /: a static JSON document. Kiln's root makes no AWS call, so neither does this."""

import json
import os


def handler(event, context=None):
    data = {
        "name": "kiln",
        "version": "0.1.0",
        "docs": os.environ.get("KILN_DOCS_URL", "/docs"),
        "openapi": "/v1/openapi.json",
        "health": "/health",
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"success": True, "data": data}),
        "isBase64Encoded": False,
    }

"""Health, root and the 405 function."""

from __future__ import annotations

import json

import boto3
import pytest

from kiln.handlers import health, method_not_allowed, root
from tests.unit.conftest import parse, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")


@pytest.fixture(autouse=True)
def fresh_health_cache():
    health._cache["at"] = -health.CACHE_SECONDS


def test_health_reports_each_component_unenveloped():
    response = health.handler(proxy_event("GET", "/health", authorizer={}))
    body = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert body == {
        "status": "ok",
        "version": body["version"],
        "components": {"database": "ok", "storage": "ok", "workflows": "ok"},
    }
    assert "success" not in body


def test_health_degrades_when_a_dependency_is_gone():
    boto3.client("s3").delete_bucket(Bucket="kiln-unit-bucket")
    response = health.handler(proxy_event("GET", "/health", authorizer={}))
    body = json.loads(response["body"])
    assert response["statusCode"] == 503
    assert body["status"] == "degraded" and body["components"]["storage"] == "unavailable"
    assert body["components"]["database"] == "ok"


def test_root_describes_the_service():
    status, body = parse(root.handler(proxy_event("GET", "/", authorizer={})))
    assert status == 200
    assert body["data"]["name"] == "kiln" and body["data"]["docs"] == "/docs"


def test_root_answers_as_the_pipeline_would_without_loading_it():
    """GET / is public and unmetered: it skips the pipeline (its cold start), not what its answers carry."""
    import subprocess
    import sys
    from pathlib import Path

    answer = root.handler(proxy_event("GET", "/", authorizer={}, headers={"X-Request-Id": "req-from-client"}))
    assert answer["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert answer["headers"]["X-Request-Id"] == "req-from-client"
    assert json.loads(answer["body"])["success"] is True
    script = (
        "import sys\n"
        "from kiln.handlers import root\n"
        "event = {'resource': '/', 'path': '/', 'httpMethod': 'GET', 'headers': None, 'requestContext': {}}\n"
        "assert root.handler(event, None)['headers']['X-Request-Id'] == 'unknown'\n"
        "print(sorted({'kiln.http.api', 'kiln.http.limits', 'kiln.routes', 'kiln.domain.access'} & set(sys.modules)))\n"
    )
    functions = Path(__file__).resolve().parents[4] / "functions"
    out = subprocess.run([sys.executable, "-c", script], cwd=functions, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_method_not_allowed_lists_the_allowed_methods():
    response = method_not_allowed.handler(proxy_event("PUT", "/v1/projects/{projectId}", "/v1/projects/x"))
    status, body = parse(response)
    assert status == 405
    assert body["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert response["headers"]["Allow"] == "DELETE, GET, PATCH"
    assert body["error"]["details"]["allowed"] == ["DELETE", "GET", "PATCH"]


def test_unmetered_routes_never_load_boto3():
    """GET / answers without the limiter's DynamoDB adapter (a cold start stays cheap)."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "from kiln.handlers import root\n"
        "event = {'resource': '/', 'path': '/', 'httpMethod': 'GET', 'headers': None, 'multiValueHeaders': None,\n"
        "         'queryStringParameters': None, 'multiValueQueryStringParameters': None, 'pathParameters': None,\n"
        "         'requestContext': {'requestId': 'r'}, 'body': None, 'isBase64Encoded': False}\n"
        "assert root.handler(event, None)['statusCode'] == 200\n"
        "print('boto3' in sys.modules)\n"
    )
    functions = Path(__file__).resolve().parents[4] / "functions"
    out = subprocess.run([sys.executable, "-c", script], cwd=functions, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

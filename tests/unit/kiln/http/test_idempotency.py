"""Idempotency-Key through the real pipeline and the real projects handlers, on moto."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from kiln import config, ids
from kiln.envelope import ErrorCode, KilnError
from kiln.handlers import projects_create, projects_update
from kiln.http.api import dispatch
from kiln.http.response import Response, ok
from tests.unit.conftest import TABLE, parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

REPO = Path(__file__).resolve().parents[4]
WORKSPACE = principal_context()["workspaceId"]
BODY = {"name": "Idempotent", "description": "Created once."}


def create(
    key: str | None = "order-42",
    body: dict[str, Any] | None = None,
    context: Any = None,
    authorizer: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key is not None else {}
    event = proxy_event(
        "POST", "/v1/projects", body=BODY if body is None else body, headers=headers, authorizer=authorizer, **kwargs
    )
    return projects_create.handler(event, context)


def projects() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues={":pk": {"S": f"WS#{WORKSPACE}"}, ":sk": {"S": "PROJECT#"}},
    )["Items"]
    return items


def records(handler: str = "projects_create") -> list[dict[str, Any]]:
    return boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"IDEMPOTENCY#{handler}"}},
        ConsistentRead=True,
    )["Items"]


class Context:
    """A Lambda context whose deadline is `seconds` away."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def test_a_replay_returns_the_first_answer_and_creates_nothing():
    first = create()
    assert first["statusCode"] == 201
    assert "Idempotent-Replayed" not in first["headers"]
    again = create()
    assert again["statusCode"] == 201
    assert again["body"] == first["body"]
    assert again["headers"]["Location"] == first["headers"]["Location"]
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert again["headers"]["X-Request-Id"] != first["headers"]["X-Request-Id"]  # its own request id
    assert len(projects()) == 1


def test_the_record_lives_24_hours_in_the_table_and_holds_no_request_id():
    before = time.time()
    create()
    (record,) = records()
    assert record["sk"]["S"].startswith("REQUEST#")
    assert record["idempotencyStatus"]["S"] == "COMPLETED"
    assert before + 86_400 - 1 <= int(record["expiresAtEpoch"]["N"]) <= time.time() + 86_400 + 1
    stored = json.loads(record["response"]["S"])
    assert stored["statusCode"] == 201 and "X-Request-Id" not in stored["headers"]
    assert "RateLimit" not in stored["headers"]  # the meters are the replaying request's own


def test_a_quoted_key_is_the_same_key():
    assert create('"order-42"')["statusCode"] == 201
    assert create("order-42")["headers"]["Idempotent-Replayed"] == "true"


def test_a_different_body_is_422_and_changes_nothing():
    create()
    status, body = parse(create(body={"name": "Other", "description": "Created once."}))
    assert status == 422 and body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    status, body = parse(create(query={"dryRun": "true"}))  # the query is part of the request too
    assert status == 422
    assert len(projects()) == 1


def test_the_scope_is_workspace_key_method_and_route():
    create()
    other_key = principal_context()
    other_key["keyId"] = other_key["principalId"] = "key_01m885m8rskqxxjknrtpgbxzzz"
    assert "Idempotent-Replayed" not in create(authorizer=other_key)["headers"]
    assert len(projects()) == 2
    project_id = json.loads(create()["body"])["data"]["id"]
    patch = projects_update.handler(
        proxy_event(
            "PATCH",
            "/v1/projects/{projectId}",
            f"/v1/projects/{project_id}",
            path_params={"projectId": project_id},
            body={"description": "Changed."},
            headers={"Idempotency-Key": "order-42"},
        )
    )
    assert patch["statusCode"] == 200 and "Idempotent-Replayed" not in patch["headers"]


def test_a_request_in_flight_is_409_with_retry_after():
    started, release = threading.Event(), threading.Event()

    def slow(request: Any) -> Response:
        started.set()
        release.wait(5)
        return ok({"done": True}, 201)

    def call() -> dict[str, Any]:
        return dispatch(slow, proxy_event("POST", "/v1/projects", body=BODY, headers={"Idempotency-Key": "k"}))

    first: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: first.append(call()))
    thread.start()
    assert started.wait(5)
    response = call()
    status, body = parse(response)
    assert status == 409 and body["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
    assert response["headers"]["Retry-After"] == "1"
    assert "X-RateLimit-Limit" in response["headers"]
    release.set()
    thread.join()
    assert first[0]["statusCode"] == 201
    assert call()["headers"]["Idempotent-Replayed"] == "true"


class LambdaTimeout(BaseException):
    """What the runtime does to a function past its timeout: nothing after it runs."""


def test_an_in_progress_record_expires_with_the_function_timeout():
    def killed(request: Any) -> Response:
        raise LambdaTimeout

    # Two seconds of function time: the second call must come while the first one's record is
    # still in progress, which a loaded machine can delay by far more than a few hundred ms.
    event = proxy_event("POST", "/v1/projects", body=BODY, headers={"Idempotency-Key": "k"})
    with pytest.raises(LambdaTimeout):
        dispatch(killed, event, Context(2))
    assert parse(dispatch(killed, event, Context(2)))[0] == 409  # still "running"
    time.sleep(2.05)
    response = dispatch(lambda request: ok({"second": True}, 201), event, Context(5))
    assert response["statusCode"] == 201 and json.loads(response["body"])["data"] == {"second": True}


def test_after_24_hours_the_key_is_free_again():
    create()
    (record,) = records()
    # TTL deletes lazily; a record past its expiry is treated as gone.
    boto3.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": record["pk"], "sk": record["sk"]},
        UpdateExpression="SET expiresAtEpoch = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    response = create(body={"name": "New day", "description": "Another request."})
    assert response["statusCode"] == 201 and "Idempotent-Replayed" not in response["headers"]
    assert len(projects()) == 2


def test_validation_failures_are_not_recorded():
    status, body = parse(create(body={"name": "", "description": "x"}))
    assert status == 400
    assert records() == []
    response = create()  # the same key, now with a valid body: runs, no 422
    assert response["statusCode"] == 201 and "Idempotent-Replayed" not in response["headers"]


def test_not_found_and_conflict_are_recorded_and_replayed():
    missing = ids.new_id("project")
    event = proxy_event(
        "PATCH",
        "/v1/projects/{projectId}",
        f"/v1/projects/{missing}",
        path_params={"projectId": missing},
        body={"description": "x"},
        headers={"Idempotency-Key": "patch-1"},
    )
    first = projects_update.handler(event)
    assert first["statusCode"] == 404
    again = projects_update.handler(event)
    assert again["statusCode"] == 404 and again["headers"]["Idempotent-Replayed"] == "true"
    assert again["body"] == first["body"]


def test_too_many_requests_and_server_errors_are_not_recorded():
    calls = []

    def flaky(request: Any) -> Response:
        calls.append(1)
        if len(calls) == 1:
            raise KilnError(ErrorCode.CONCURRENCY_LIMIT_EXCEEDED)
        if len(calls) == 2:
            raise RuntimeError("bug")
        return ok({"third": True}, 201)

    event = proxy_event("POST", "/v1/projects", body=BODY, headers={"Idempotency-Key": "k"})
    assert dispatch(flaky, event)["statusCode"] == 429
    assert dispatch(flaky, event)["statusCode"] == 500
    assert dispatch(flaky, event)["statusCode"] == 201
    assert dispatch(flaky, event)["headers"]["Idempotent-Replayed"] == "true"
    assert len(calls) == 3


@pytest.mark.parametrize("key", ["", '""', "x" * 256, "caf\u00e9", "tab\there", '"half-quoted'])
def test_a_malformed_key_is_a_validation_error(key):
    status, body = parse(create(key))
    assert status == 400
    assert body["error"]["details"]["fields"][0]["field"] == "Idempotency-Key"
    assert projects() == []


def test_the_longest_key_is_accepted():
    assert create("k" * 255)["statusCode"] == 201
    assert create("k" * 255)["headers"]["Idempotent-Replayed"] == "true"


def test_reads_ignore_the_header():
    event = proxy_event("GET", "/v1/projects", headers={"Idempotency-Key": "\u00e9 not even valid"})
    calls = []
    for _ in range(2):
        response = dispatch(lambda request: ok(calls.append(1) or []), event)
        assert "Idempotent-Replayed" not in response["headers"]
    assert len(calls) == 2


def test_a_replay_does_not_take_another_unit_of_the_annual_quota():
    project = "proj_01m885m8rskqxxjknrtpgbxm1r"
    event = proxy_event(
        "POST",
        "/v1/projects/{projectId}/runs",
        f"/v1/projects/{project}/runs",
        path_params={"projectId": project},
        headers={"Idempotency-Key": "build-1"},
        authorizer=principal_context(tier="free"),
    )
    first = dispatch(lambda request: ok({"run": 1}, 201), event)
    again = dispatch(lambda request: ok({"run": 2}, 201), event)
    assert again["headers"]["Idempotent-Replayed"] == "true" and again["body"] == first["body"]
    counter = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"USAGE#{WORKSPACE}"}, "sk": {"S": f"BUILDS#{time.gmtime().tm_year}"}}
    )
    assert counter["Item"]["n"]["N"] == "1"
    # The replay is a request like any other for the rate limits.
    assert first["headers"]["X-RateLimit-Remaining"] == "19" and again["headers"]["X-RateLimit-Remaining"] == "18"


def test_a_cold_start_without_the_header_never_imports_powertools_idempotency():
    code = (
        "import sys, kiln.handlers.projects_create, kiln.http.api; "
        "assert not [m for m in sys.modules if m.startswith('aws_lambda_powertools.utilities.idempotency')]"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        cwd=REPO,
        env={
            "PYTHONPATH": f"{REPO / 'functions'}:{REPO}",
            "PATH": "/usr/bin:/bin",
            config.ENVIRONMENT: "local",
            config.TABLE_NAME: TABLE,
            config.BUCKET_NAME: "kiln-unit-bucket",
        },
    )


def test_concurrent_identical_requests_run_the_handler_once():
    start = threading.Barrier(12)
    responses: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one() -> None:
        start.wait(5)
        response = create("race")
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(projects()) == 1
    created = [r for r in responses if r["statusCode"] == 201]
    assert len([r for r in created if "Idempotent-Replayed" not in r["headers"]]) == 1
    assert len({r["body"] for r in created}) == 1
    assert all(r["statusCode"] in (201, 409) for r in responses)


def test_uploads_are_not_recorded_so_no_presigned_credentials_are_kept():
    from kiln.handlers import uploads_create

    def upload() -> tuple[dict[str, Any], dict[str, Any]]:
        response = uploads_create.handler(
            proxy_event(
                "POST",
                "/v1/uploads",
                headers={"Idempotency-Key": "upload-1"},
                body={"filename": "a.zip", "contentType": "application/zip", "sizeBytes": 10},
            )
        )
        return response, json.loads(response["body"])

    (first, first_body), (second, second_body) = upload(), upload()
    assert first["statusCode"] == second["statusCode"] == 201
    assert "Idempotent-Replayed" not in second["headers"]
    assert first_body["data"]["uploadId"] != second_body["data"]["uploadId"]
    assert records("uploads_create") == []


def test_a_replayed_key_creation_never_shows_or_stores_the_secret():
    from kiln.http.idempotency import _without_secret

    stored = _without_secret(
        {"statusCode": 201, "headers": {}, "body": '{"success":true,"data":{"id":"key_x","secret":"kiln_s3cr3t"}}'}
    )
    assert "kiln_s3cr3t" not in stored["body"]
    assert json.loads(stored["body"]) == {"success": True, "data": {"id": "key_x"}}

"""The in-process Lambda runtime and the Invoke API middleware in front of moto."""

from __future__ import annotations

import json
import threading
import time

from werkzeug.test import Client
from werkzeug.wrappers import Response

from local import lambda_runtime
from local.aws import LambdaInvokeMiddleware, LocalFunction, worker_functions

HERE = __name__


def echo(event, context):
    return {
        "event": event,
        "function": context.function_name,
        "arn": context.invoked_function_arn,
        "requestId": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "memory": context.memory_limit_in_mb,
    }


class ProbeMissing(Exception):
    pass


def fails(event, context):
    raise ProbeMissing("no probe")


def returns_a_set(event, context):
    return {1, 2}


def mutates(event, context):
    event["touched"] = True
    return event


_seen = threading.Event()


def remembers(event, context):
    _seen.set()
    return None


def test_invoke_passes_json_and_a_context():
    result = lambda_runtime.invoke(f"{HERE}.echo", {"a": [1, 2]}, "kiln-echo", timeout_seconds=5, memory_mb=256)
    assert result.ok
    assert result.payload["event"] == {"a": [1, 2]}
    assert result.payload["function"] == "kiln-echo"
    assert result.payload["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:kiln-echo"
    assert 0 < result.payload["remaining"] <= 5000
    assert result.payload["memory"] == 256


def test_handler_gets_its_own_copy_of_the_event():
    event = {"a": 1}
    lambda_runtime.invoke(f"{HERE}.mutates", event, "kiln-mutates")
    assert event == {"a": 1}


def test_unhandled_exception_becomes_the_runtime_error_document():
    result = lambda_runtime.invoke(f"{HERE}.fails", {}, "kiln-fails")
    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "ProbeMissing"
    assert result.payload["errorMessage"] == "no probe"
    assert any("fails" in line for line in result.payload["stackTrace"])
    json.dumps(result.payload)  # must be serializable as is


def test_missing_module_is_an_import_error():
    result = lambda_runtime.invoke("kiln.handlers.does_not_exist.handler", {}, "kiln-missing")
    assert result.payload["errorType"] == "Runtime.ImportModuleError"


def test_unserializable_result_is_a_marshal_error():
    result = lambda_runtime.invoke(f"{HERE}.returns_a_set", {}, "kiln-set")
    assert result.payload["errorType"] == "Runtime.MarshalError"


def moto_stand_in(environ, start_response):
    return Response("moto", status=200)(environ, start_response)


FUNCTIONS = {
    "kiln-echo": LocalFunction("kiln-echo", f"{HERE}.echo"),
    "kiln-fails": LocalFunction("kiln-fails", f"{HERE}.fails"),
    "kiln-remembers": LocalFunction("kiln-remembers", f"{HERE}.remembers"),
}


def client() -> Client:
    return Client(LambdaInvokeMiddleware(moto_stand_in, FUNCTIONS))


def test_every_worker_gets_a_function():
    functions = worker_functions()
    assert functions["kiln-selfcheck"].handler_ref == "kiln.workers.selfcheck.handler"


def test_invoke_by_name_and_by_arn():
    for ref in (
        "kiln-echo",
        "arn:aws:lambda:us-east-1:123456789012:function:kiln-echo",
        "arn:aws:lambda:us-east-1:123456789012:function:kiln-echo:$LATEST",
        "123456789012:function:kiln-echo",
    ):
        response = client().post(f"/2015-03-31/functions/{ref}/invocations", data=json.dumps({"n": 1}))
        assert response.status_code == 200, ref
        assert response.json["event"] == {"n": 1}
        assert response.headers["X-Amz-Executed-Version"] == "$LATEST"
        assert "X-Amz-Function-Error" not in response.headers


def test_function_error_is_200_with_the_error_header():
    response = client().post("/2015-03-31/functions/kiln-fails/invocations", data="{}")
    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.json["errorType"] == "ProbeMissing"
    assert set(response.json) >= {"errorMessage", "errorType", "stackTrace"}


def test_unknown_function_or_version_is_resource_not_found():
    for ref in ("kiln-nope", "kiln-echo:7"):
        response = client().post(f"/2015-03-31/functions/{ref}/invocations", data="{}")
        assert response.status_code == 404
        assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"


def test_bad_payload_is_rejected():
    response = client().post("/2015-03-31/functions/kiln-echo/invocations", data="{nope")
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"


def test_event_invocation_is_accepted_and_runs_later():
    _seen.clear()
    response = client().post(
        "/2015-03-31/functions/kiln-remembers/invocations", data="{}", headers={"X-Amz-Invocation-Type": "Event"}
    )
    assert response.status_code == 202
    assert _seen.wait(5)


def test_dry_run_does_not_call_the_handler():
    _seen.clear()
    response = client().post(
        "/2015-03-31/functions/kiln-remembers/invocations", data="{}", headers={"X-Amz-Invocation-Type": "DryRun"}
    )
    assert response.status_code == 204
    time.sleep(0.05)
    assert not _seen.is_set()


def test_everything_else_goes_to_moto():
    assert client().get("/2015-03-31/functions/").get_data(as_text=True) == "moto"
    assert client().post("/", data="Action=ListQueues").get_data(as_text=True) == "moto"

"""Step Functions in the local cloud run the real workers: the selfcheck workflow end to end."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from local.provision import Resources

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


def state_machine_arn(cloud, workflow: str) -> str:
    machines = cloud.aws("stepfunctions").list_state_machines()["stateMachines"]
    return next(m["stateMachineArn"] for m in machines if m["name"].endswith(f"-{workflow}"))


def run_to_completion(cloud, arn: str, payload: dict, timeout: float = 30.0) -> dict:
    sfn = cloud.aws("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError(f"{execution} still running after {timeout} s")


def test_selfcheck_workflow_runs_the_worker_against_dynamodb_and_s3(local_cloud):
    probe = f"it-{uuid.uuid4().hex[:12]}"
    described = run_to_completion(local_cloud, state_machine_arn(local_cloud, "selfcheck"), {"probeId": probe})

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["passed"] is True
    assert {c["name"] for c in output["checks"]} >= {"database", "storage"}
    assert all(c["passed"] for c in output["checks"]), output["checks"]

    # The probes exist: Step Functions reached the real handler, which reached moto.
    s3 = local_cloud.aws("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("kiln"))
    stored = s3.get_object(Bucket=bucket, Key=f"tmp/selfcheck/{probe}.json")["Body"].read()
    assert json.loads(stored)["probeId"] == probe

    dynamodb = local_cloud.aws("dynamodb")
    table = Resources().table_name  # the main table (the realtime connections table is another)
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"PROBE#{probe}"}, "sk": {"S": "PROBE"}})
    assert json.loads(item["Item"]["payload"]["S"])["probeId"] == probe

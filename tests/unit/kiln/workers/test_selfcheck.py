import boto3
import pytest

from kiln.workers import selfcheck

pytestmark = pytest.mark.usefixtures("cloud")


def test_selfcheck_round_trips_database_and_storage():
    result = selfcheck.handler({"probeId": "p1"})
    assert result["passed"] is True
    assert [c["name"] for c in result["checks"]] == ["database", "storage"]
    body = boto3.client("s3").get_object(Bucket="kiln-unit-bucket", Key="tmp/selfcheck/p1.json")["Body"].read()
    assert b'"probeId": "p1"' in body


def test_selfcheck_reports_a_failing_component_instead_of_raising():
    boto3.client("s3").delete_bucket(Bucket="kiln-unit-bucket")
    result = selfcheck.handler({"probeId": "p2"})
    assert result["passed"] is False
    storage = next(c for c in result["checks"] if c["name"] == "storage")
    assert storage["passed"] is False and "NoSuchBucket" in storage["output"]

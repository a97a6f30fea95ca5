"""`make admin-key`: mint the first admin key from a deployed stack's outputs (moto)."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from kiln import bootstrap
from kiln.handlers import authorizer

pytestmark = pytest.mark.usefixtures("cloud")


def test_admin_key_from_stack_outputs(monkeypatch, capsys):
    usage_plans = os.environ["KILN_USAGE_PLANS"]
    # The operator's shell knows nothing of the table: the stack outputs must say it.
    monkeypatch.delenv("KILN_TABLE_NAME")
    monkeypatch.delenv("KILN_USAGE_PLANS")
    template = {
        "Resources": {"Marker": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {
            "TableName": {"Value": "kiln-unit"},
            "UsagePlanIds": {"Value": usage_plans},
            "ApiUrl": {"Value": "https://example.execute-api.us-east-1.amazonaws.com/prod/"},
        },
    }
    boto3.client("cloudformation").create_stack(StackName="KilnTest", TemplateBody=json.dumps(template))

    assert bootstrap.main(["--stack", "KilnTest", "--name", "ops", "--tier", "pro"]) == 0

    printed = json.loads(capsys.readouterr().out)
    assert printed["apiUrl"].startswith("https://example.execute-api")
    answer = authorizer.handler(
        {
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/",
            "headers": {"Authorization": f"Bearer {printed['adminKey']}"},
        }
    )
    assert answer["context"]["tier"] == "pro"
    assert "admin" in answer["context"]["scopes"].split()

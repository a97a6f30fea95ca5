"""Creates in moto what the CDK stacks create in AWS, from the same declarations.

The table comes from `kiln.adapters.schema`, the usage plans from `kiln.tiers`, the state
machines from the ASL files in `kiln/workflows` with the same `${Placeholder}` substitution CDK
applies; nothing here restates a definition.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from kiln import config
from local.constants import ACCOUNT_ID, NAME_PREFIX, REGION, STAGE, function_arn, function_name

WORKFLOWS_DIR = Path(__file__).resolve().parent.parent / "functions" / "kiln" / "workflows"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass
class Resources:
    """Names and identifiers of everything provisioned, exported to the handlers' environment."""

    table_name: str = f"{NAME_PREFIX}-local"
    bucket_name: str = f"{NAME_PREFIX}-local-archives"
    cursor_secret_arn: str = ""
    signing_keys_secret_arn: str = ""
    rest_api_id: str = ""
    usage_plans: dict[str, str] = field(default_factory=dict)  # tier -> usage plan id
    state_machines: dict[str, str] = field(default_factory=dict)  # workflow -> ARN
    # The table's stream (NEW_AND_OLD_IMAGES) and the webhook delivery queue, which
    # local.event_sources polls as the deployed event source mappings do (infra/events.py).
    table_stream_arn: str = ""
    delivery_queue_url: str = ""
    delivery_queue_arn: str = ""
    # WebSocket connections and subscriptions (kiln.adapters.dynamodb.connections).
    connections_table: str = f"{NAME_PREFIX}-local-connections"
    # The worker build_verify invokes to run generated code (kiln.routes.Worker.sandbox).
    sandbox_function: str = field(default_factory=lambda: function_name(_sandbox_worker()))

    def environment(self) -> dict[str, str]:
        return {
            config.TABLE_NAME: self.table_name,
            config.BUCKET_NAME: self.bucket_name,
            config.CURSOR_SECRET_ARN: self.cursor_secret_arn,
            config.SIGNING_KEYS_SECRET_ARN: self.signing_keys_secret_arn,
            config.STATE_MACHINES: json.dumps(self.state_machines),
            config.USAGE_PLANS: json.dumps(self.usage_plans),
            config.SANDBOX_FUNCTION: self.sandbox_function,
            config.CONNECTIONS_TABLE: self.connections_table,
            config.DELIVERY_QUEUE_URL: self.delivery_queue_url,
        }


def _sandbox_worker() -> str:
    from kiln.routes import WORKERS

    [name] = [w.name for w in WORKERS if w.sandbox]
    return name


def aws_environment(moto_url: str, moto_port: int) -> dict[str, str]:
    """What every in-process handler needs to reach moto instead of AWS."""
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # moto's Step Functions interpreter calls Lambda at localhost:$MOTO_PORT.
        "MOTO_PORT": str(moto_port),
        "AWS_EC2_METADATA_DISABLED": "true",
        config.ENVIRONMENT: "local",
    }


def configure_environment(moto_url: str, moto_port: int) -> None:
    # A profile or session token from the developer's shell would win over the fake
    # credentials (or point at a real account); drop them.
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(aws_environment(moto_url, moto_port))
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", NAME_PREFIX)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


def client(service: str, endpoint_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def state_machine_definition(asl_file: str, functions: dict[str, str]) -> str:
    """The ASL text with each `${Placeholder}` replaced by its worker's local Lambda ARN."""
    text = (WORKFLOWS_DIR / asl_file).read_text()
    values = {placeholder: function_arn(worker) for placeholder, worker in functions.items()}
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise ValueError(f"{asl_file}: no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def provision(endpoint_url: str) -> Resources:
    from kiln.adapters.schema import STREAM_SPECIFICATION, TTL_ATTRIBUTE, create_table_kwargs
    from kiln.domain.tokens import KeySet
    from kiln.routes import WORKFLOWS
    from kiln.tiers import TIERS

    res = Resources()
    dynamodb = client("dynamodb", endpoint_url)
    dynamodb.create_table(**create_table_kwargs(res.table_name))
    dynamodb.update_time_to_live(
        TableName=res.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
    res.table_stream_arn = dynamodb.update_table(TableName=res.table_name, StreamSpecification=STREAM_SPECIFICATION)[
        "TableDescription"
    ]["LatestStreamArn"]
    sqs = client("sqs", endpoint_url)
    res.delivery_queue_url = sqs.create_queue(QueueName=f"{NAME_PREFIX}-local-webhook-deliveries")["QueueUrl"]
    res.delivery_queue_arn = sqs.get_queue_attributes(QueueUrl=res.delivery_queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]

    from kiln.adapters.schema import create_connections_table_kwargs

    dynamodb.create_table(**create_connections_table_kwargs(res.connections_table))
    dynamodb.update_time_to_live(
        TableName=res.connections_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )

    client("s3", endpoint_url).create_bucket(Bucket=res.bucket_name)

    res.cursor_secret_arn = client("secretsmanager", endpoint_url).create_secret(
        Name=f"{NAME_PREFIX}-local/cursor-signing-secret",
        SecretString=secrets.token_urlsafe(48),
    )["ARN"]
    # Access-token signing keys: generated here, per local cloud, never committed. A fresh set
    # has one current key (kiln.domain.tokens.KeySet.initial), as a deployment's first one does.
    res.signing_keys_secret_arn = client("secretsmanager", endpoint_url).create_secret(
        Name=f"{NAME_PREFIX}-local/token-signing-keys",
        SecretString=KeySet.initial(int(time.time())).to_json(),
    )["ARN"]

    apigateway = client("apigateway", endpoint_url)
    res.rest_api_id = apigateway.create_rest_api(
        name=f"{NAME_PREFIX}-local", endpointConfiguration={"types": ["REGIONAL"]}
    )["id"]
    for tier in TIERS.values():
        plan: dict[str, Any] = {
            "name": f"{NAME_PREFIX}-local-{tier.name}",
            "description": f"{tier.name} tier",
            "apiStages": [{"apiId": res.rest_api_id, "stage": STAGE}],
            "throttle": {"rateLimit": float(tier.rate_per_second), "burstLimit": tier.burst},
        }
        if tier.requests_per_day is not None:
            plan["quota"] = {"limit": tier.requests_per_day, "period": "DAY", "offset": 0}
        res.usage_plans[tier.name] = apigateway.create_usage_plan(**plan)["id"]

    stepfunctions = client("stepfunctions", endpoint_url)
    for workflow in WORKFLOWS:
        res.state_machines[workflow.name] = stepfunctions.create_state_machine(
            name=f"{NAME_PREFIX}-local-{workflow.name}",
            definition=state_machine_definition(workflow.asl_file, workflow.functions),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{NAME_PREFIX}-local-{workflow.name}",
            type="STANDARD",
        )["stateMachineArn"]
    return res

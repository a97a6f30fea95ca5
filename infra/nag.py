"""cdk-nag wiring: the rule packs Kiln is held to, and the only way this app acknowledges a finding.

cdk-nag 3 is a CDK policy-validation plugin: findings land in cdk.out/validation-report.json and
errors fail synthesis. Every acknowledgement goes through `acknowledge`, which demands a reason,
and is scoped to the narrowest construct (a role, a method), never to a whole stack.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct


def enable_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one cdk-nag finding on `scope` (and the constructs below it), with its reason."""
    if len(reason) < 20:
        raise ValueError(f"acknowledging {rule} needs a real justification, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def flatten_reference(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag prints it in finding ids (`<Logical.Arn>/*`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return delimiter.join(flatten_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def wildcard_finding(scope: IConstruct, resource: str) -> str:
    """The AwsSolutions-IAM5 finding id for a wildcard resource ARN used by `scope`'s stack."""
    return f"AwsSolutions-IAM5[Resource::{flatten_reference(Stack.of(scope).resolve(resource))}]"

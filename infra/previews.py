"""Deploy previews' infrastructure: the role every preview function runs under, and their name prefix.

The role trusts Lambda and holds no policy at all: a preview's code (model-written) gets
credentials that can do nothing, not even write logs, so it can reach neither Kiln's table nor
its bucket nor any other AWS API. The preview workers (grant `previews:deploy`, infra/grants.py)
may create, change and delete only functions whose name starts with the prefix, and pass only
this role, only to Lambda; no CloudFormation and no IAM write at run time.

Cost: nothing while no preview runs; a live preview is a Lambda function billed per request
(its URL is public) and deleted at its expiry (docs/deploy.md).
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from kiln import config

# Lambda function names stop at 64 characters; a deployment id is 30 (dep_ + 26).
MAX_PREFIX = 34


def function_prefix(stack_name: str) -> str:
    """`<stack name>-preview-`, the stack name shortened so every preview's name fits."""
    head = "".join(c if c.isalnum() or c in "-_" else "-" for c in stack_name)[: MAX_PREFIX - len("-preview-")]
    return f"{head.rstrip('-_') or 'kiln'}-preview-"


class Previews(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.function_prefix = function_prefix(Stack.of(self).stack_name)
        self.role = iam.Role(
            self,
            "PreviewRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Kiln deploy previews run under this role: it grants nothing",
        )

    def environment(self, grants: tuple[str, ...] | list[str]) -> dict[str, str]:
        """What the preview workers read (kiln.config): the role to pass and the name prefix."""
        if "previews:deploy" not in grants:
            return {}
        return {config.PREVIEW_ROLE_ARN: self.role.role_arn, config.PREVIEW_FUNCTION_PREFIX: self.function_prefix}

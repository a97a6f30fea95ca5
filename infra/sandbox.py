"""The network of the build sandbox (kiln.routes.Worker.sandbox): a VPC that reaches nothing.

Two isolated subnets: no internet gateway, no NAT gateway, no VPC endpoint, so their route
tables hold only the VPC's local route, and the sandbox's security group has no rule at all
(CDK's placeholder egress rule matches no traffic). Code running in the sandbox can reach
neither the internet nor any AWS API (not DynamoDB, S3, STS or EC2), so even the function's own
credentials are useless there. Writing its logs needs no network: Lambda collects stdout and
stderr outside the function.

Cost: a VPC, subnets, route tables and security groups are free; the flow log (rejected
traffic only: what the generated code tried to reach) is billed as CloudWatch Logs ingestion.
One VPC per stack counts against the account's per-Region VPC quota (5 by default).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

# Small on purpose: the sandbox's interfaces need a handful of addresses per subnet.
CIDR = "10.192.0.0/24"
SUBNET_MASK = 26
AVAILABILITY_ZONES = 2


class IsolatedNetwork(Construct):
    def __init__(
        self, scope: Construct, id: str, *, log_retention: logs.RetentionDays, log_removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, id)
        rejected = logs.LogGroup(self, "RejectedTraffic", retention=log_retention, removal_policy=log_removal_policy)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(CIDR),
            max_azs=AVAILABILITY_ZONES,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Sandbox", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=SUBNET_MASK
                )
            ],
            # Nothing is placed in the default security group; restricting it would take a custom
            # resource (a Lambda function and a role) for no gain in a VPC that routes nowhere.
            restrict_default_security_group=False,
            flow_logs={
                "Rejected": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(rejected),
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                )
            },
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "NoTraffic",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Kiln build sandbox: no inbound and no outbound traffic",
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

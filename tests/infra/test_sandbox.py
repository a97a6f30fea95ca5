"""The build sandbox in the template: a role that grants nothing, one caller, a network that reaches nothing."""

from __future__ import annotations

import json

import pytest

from infra import grants
from infra.workflows import SANDBOX_ENVIRONMENT, VERIFY_WORKER
from kiln.routes import GRANTS, ROUTES, WORKERS, Worker

from .conftest import Synth
from .test_stack import actions, functions, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

SANDBOX = next(w for w in WORKERS if w.sandbox)
VERIFY = next(w for w in WORKERS if w.name == VERIFY_WORKER)
ENI_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


def sandbox_function(synth: Synth) -> tuple[str, str, dict]:
    return functions(synth)[SANDBOX.handler_ref]


def test_the_route_table_declares_one_grantless_sandbox_that_only_build_verify_invokes() -> None:
    assert [w.name for w in WORKERS if w.sandbox] == ["build_sandbox"]
    assert SANDBOX.grants == ()
    assert [w.name for w in WORKERS if "sandbox:invoke" in w.grants] == [VERIFY_WORKER]
    assert not any("sandbox:invoke" in r.grants for r in ROUTES)
    assert "sandbox:invoke" in GRANTS
    with pytest.raises(ValueError, match="may hold no grants"):
        Worker("runs_code", "A sandbox asking for data", sandbox=True, grants=("table:read",))


def test_the_sandbox_role_grants_only_its_logs_and_its_network_interfaces(main: Synth) -> None:
    stack, _, props = sandbox_function(main)
    role = main.templates[stack]["Resources"][props["Role"]["Fn::GetAtt"][0]]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = {s["Sid"]: s for s in role_statements(main, stack, props)}
    assert set(statements) == {"Logs", "VpcNetworkInterfaces"}
    # Its own log group, nothing else in CloudWatch Logs.
    logs = statements["Logs"]
    assert actions([logs]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert logs["Resource"] == {"Fn::GetAtt": [props["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}
    # What Lambda needs to attach it to its VPC, which the code inside cannot use (no route to EC2);
    # the wildcard is acknowledged for cdk-nag with that reason.
    assert actions([statements["VpcNetworkInterfaces"]]) == ENI_ACTIONS
    assert statements["VpcNetworkInterfaces"]["Resource"] == "*"
    [(_, reason)] = grants.network_interface_permissions()[0].wildcards
    assert "route nowhere" in reason
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements.values())
    # No other IAM policy anywhere is attached to this role.
    role_ref = {"Ref": props["Role"]["Fn::GetAtt"][0]}
    attached = [
        r
        for r in main.templates[stack]["Resources"].values()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and role_ref in r["Properties"].get("Roles", [])
    ]
    assert attached == []


def test_only_build_verify_may_invoke_the_sandbox(main: Synth) -> None:
    _, sandbox_id, _ = sandbox_function(main)
    sandbox_arn = {"Fn::GetAtt": [sandbox_id, "Arn"]}
    invokers = []
    for handler, (stack, _, props) in functions(main).items():
        for statement in role_statements(main, stack, props):
            # Any lambda: action on the sandbox, or on every function (the preview workers' own
            # lambda: statements name the preview functions' prefix only: test_previews.py).
            resources = json.dumps(statement["Resource"])
            reaches_sandbox = json.dumps(sandbox_arn) in resources or resources in ('"*"', '["*"]')
            if any(a.startswith("lambda:") for a in actions([statement])) and reaches_sandbox:
                invokers.append((handler, statement))
    assert [h for h, _ in invokers] == [VERIFY.handler_ref]
    [(_, statement)] = invokers
    assert statement["Sid"] == "SandboxInvoke" and statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == sandbox_arn
    # No state machine role, no resource policy: nothing else can reach it.
    policies = [r for t in main.templates.values() for r in t["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    assert not any(json.dumps(sandbox_arn) in json.dumps(p) for p in policies)
    permissions = [
        r for t in main.templates.values() for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"
    ]
    assert not any(p["Properties"]["FunctionName"] in (sandbox_arn, {"Ref": sandbox_id}) for p in permissions)


def test_build_verify_is_told_where_the_sandbox_is_and_outlives_it(main: Synth) -> None:
    _, sandbox_id, sandbox_props = sandbox_function(main)
    _, _, verify_props = functions(main)[VERIFY.handler_ref]
    assert verify_props["Environment"]["Variables"]["KILN_SANDBOX_FUNCTION"] == {"Fn::GetAtt": [sandbox_id, "Arn"]}
    assert verify_props["Timeout"] > sandbox_props["Timeout"] == SANDBOX.timeout_seconds
    for handler, (_, _, props) in functions(main).items():
        if handler != VERIFY.handler_ref:
            assert "KILN_SANDBOX_FUNCTION" not in props["Environment"]["Variables"], handler


def test_the_sandbox_knows_nothing_and_is_not_traced(main: Synth) -> None:
    _, _, props = sandbox_function(main)
    assert props["Environment"]["Variables"] == SANDBOX_ENVIRONMENT
    assert not any(name.startswith(("KILN_", "AWS_")) for name in SANDBOX_ENVIRONMENT)
    assert "TracingConfig" not in props
    assert props["MemorySize"] == SANDBOX.memory_mb and props["Timeout"] == SANDBOX.timeout_seconds


def test_the_sandbox_runs_in_subnets_that_route_nowhere(main: Synth) -> None:
    stack, _, props = sandbox_function(main)
    resources = main.templates[stack]["Resources"]
    everything = [r for t in main.templates.values() for r in t["Resources"].values()]
    # No way out of any VPC of the app: no gateway, NAT, endpoint, peering or route at all.
    forbidden = {
        "AWS::EC2::InternetGateway",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::VPCPeeringConnection",
        "AWS::EC2::TransitGatewayAttachment",
        "AWS::EC2::Route",
    }
    assert not [r["Type"] for r in everything if r["Type"] in forbidden]
    [vpc_id] = [k for k, r in resources.items() if r["Type"] == "AWS::EC2::VPC"]

    config = props["VpcConfig"]
    subnets = [ref["Ref"] for ref in config["SubnetIds"]]
    assert len(subnets) == 2
    for subnet in subnets:
        assert resources[subnet]["Type"] == "AWS::EC2::Subnet"
        assert resources[subnet]["Properties"]["VpcId"] == {"Ref": vpc_id}
        assert resources[subnet]["Properties"].get("MapPublicIpOnLaunch", False) is False

    [group] = config["SecurityGroupIds"]
    group_props = resources[group["Fn::GetAtt"][0]]["Properties"]
    assert "SecurityGroupIngress" not in group_props
    # CDK's placeholder for "no egress": ICMP type 252 code 86 to 255.255.255.255/32, which matches nothing.
    assert group_props["SecurityGroupEgress"] == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]
    rules = ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
    assert not [r for r in everything if r["Type"] in rules]

    # What the generated code tries to reach is recorded: a flow log of rejected traffic.
    [flow_log] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::EC2::FlowLog"]
    assert flow_log["ResourceId"] == {"Ref": vpc_id} and flow_log["TrafficType"] == "REJECT"
    assert flow_log["LogDestinationType"] == "cloud-watch-logs"


def test_sandbox_invoke_needs_the_sandbox() -> None:
    targets = grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s")
    with pytest.raises(ValueError, match="sandbox:invoke needs the build sandbox function"):
        grants.permissions_for(("sandbox:invoke",), targets, owner="probe")
    [permission] = grants.permissions_for(
        ("sandbox:invoke",),
        grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s", sandbox_function_arn="sandbox-arn"),
        owner="probe",
    )
    assert permission.wildcards == ()
    assert permission.statement.to_statement_json() == {
        "Sid": "SandboxInvoke",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": "sandbox-arn",
    }

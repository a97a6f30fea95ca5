"""The first admin key: minted by the local cloud at start, or by an operator after deploy.

    python -m kiln.bootstrap --stack Kiln [--name admin] [--tier enterprise]

reads the stack's outputs (table, usage plans) with the operator's own AWS credentials,
creates an admin workspace with its usage key, and prints a key holding every scope. The
secret is printed once; only its hash is stored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from kiln import config, services
from kiln.domain.access import ALL_SCOPES
from kiln.tiers import TIER_NAMES


def provision_admin(secret: str | None = None, workspace_name: str = "admin", tier: str = "enterprise") -> str:
    """Create an admin workspace and key; with a known `secret` that already exists, reuse it."""
    access = services.current().access
    if secret is not None:
        existing = access.find_key(secret)
        if existing is not None:
            return secret
    workspace = access.create_workspace(workspace_name, tier)
    _, secret = access.mint_key(workspace.id, f"{workspace_name} bootstrap key", ALL_SCOPES, secret=secret)
    return secret


def _stack_outputs(stack: str) -> dict[str, str]:
    from kiln.adapters.aws import client

    described = client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Mint an admin API key in a deployed Kiln stack.")
    parser.add_argument("--stack", default="Kiln", help="CloudFormation stack name (default: Kiln)")
    parser.add_argument("--name", default="admin", help="name of the admin workspace")
    parser.add_argument("--tier", default="enterprise", choices=TIER_NAMES)
    args = parser.parse_args(argv)
    outputs = _stack_outputs(args.stack)
    os.environ[config.TABLE_NAME] = outputs["TableName"]
    os.environ[config.USAGE_PLANS] = outputs["UsagePlanIds"]
    config.reset()  # whatever this process read before names no stack's resources
    secret = provision_admin(workspace_name=args.name, tier=args.tier)
    api_url = outputs.get("ApiUrl", "<api url>")
    print(json.dumps({"apiUrl": api_url, "adminKey": secret}, indent=2))
    print("Store this key now: it is shown once and only its hash is kept.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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


def provision_person(admin_key: str, email: str, password: str) -> str:
    """Add a person holding every scope to the admin key's workspace; with an email already
    held, keep that person (a restart with the same settings changes nothing). Returns the
    normalised email; the password is only hashed, never printed or kept."""
    root = services.current()
    key = root.access.find_key(admin_key)
    if key is None:
        raise ValueError("the admin key is unknown")
    existing = root.people.find_by_email(email)
    if existing is not None:
        return existing.email
    return root.people.add(key.workspace_id, email, "admin", password, ALL_SCOPES).email


def initialise_signing_keys(now: int) -> bool:
    """Give the access-token key set its first key if it has none. The stack creates the secret
    empty so that no key material is in its template (infra/signing_keys.py); this is the only
    place a deployed key set is born. Returns whether it wrote one."""
    from kiln.adapters import secrets
    from kiln.domain.tokens import KeySet

    if KeySet.from_json(secrets.signing_keys()).keys:
        return False
    secrets.put_signing_keys(KeySet.initial(now).to_json())
    return True


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
    if "SigningKeysSecretArn" in outputs:
        os.environ[config.SIGNING_KEYS_SECRET_ARN] = outputs["SigningKeysSecretArn"]
    config.reset()  # whatever this process read before names no stack's resources
    if "SigningKeysSecretArn" in outputs:
        import time

        initialise_signing_keys(int(time.time()))
    secret = provision_admin(workspace_name=args.name, tier=args.tier)
    api_url = outputs.get("ApiUrl", "<api url>")
    print(json.dumps({"apiUrl": api_url, "adminKey": secret}, indent=2))
    print("Store this key now: it is shown once and only its hash is kept.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

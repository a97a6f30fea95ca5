"""`python -m local` (`make run`): start the local cloud and serve until Ctrl-C or SIGTERM.

Environment:
  KILN_LOCAL_PORT        gateway port when --port is not given (default 3001)
  KILN_LOCAL_ADMIN_KEY   use this admin key (kiln_ + 43 characters) instead of minting one
  KILN_LOCAL_ADMIN_TIER  tier of the bootstrap admin workspace (default enterprise)
  KILN_LOCAL_ADMIN_EMAIL, KILN_LOCAL_ADMIN_PASSWORD  also add a person holding every scope to
                         the admin workspace (password: 12 to 256 characters; only its email is printed)
  KILN_CORS_ALLOWED_ORIGINS  browser origins allowed to call the API (comma-separated, e.g.
                         http://localhost:5173,https://*.example.com; default none)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description="Run Kiln's local cloud.")
    parser.add_argument("--host", default="127.0.0.1", help="gateway bind address (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("KILN_LOCAL_PORT", "3001")),
        help="gateway port (default $KILN_LOCAL_PORT or 3001)",
    )
    parser.add_argument(
        "--moto-port", type=int, default=0, help="port of the emulated AWS endpoint (default: any free port)"
    )
    return parser.parse_args(argv)


def banner(url: str, moto_url: str, admin_key: str, tier: str, person_email: str | None = None) -> str:
    # The person's email only: the password is the operator's own and is never printed.
    person = [f"  Person     {person_email}  (password: KILN_LOCAL_ADMIN_PASSWORD)"] if person_email else []
    return "\n".join(
        [
            "",
            "Kiln local cloud is running.",
            f"  API        {url}",
            f"  AWS        {moto_url}  (moto: DynamoDB, S3, Step Functions, Secrets Manager, API Gateway)",
            f"  Admin key  {admin_key}  ({tier} tier)",
            *person,
            "",
            "Try:",
            f"  curl -s {url}/health",
            f"  curl -s {url}/v1/projects -H 'Authorization: Bearer {admin_key}'",
            "",
            f"Keep the key across restarts with KILN_LOCAL_ADMIN_KEY={admin_key}",
            "Press Ctrl-C to stop.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    admin_key = os.environ.get("KILN_LOCAL_ADMIN_KEY") or None
    tier = os.environ.get("KILN_LOCAL_ADMIN_TIER") or "enterprise"

    from kiln.domain.access import is_well_formed
    from kiln.domain.people import check_password, normalise_email
    from kiln.envelope import KilnError
    from kiln.tiers import TIERS
    from local.constants import ADMIN_EMAIL_VARIABLE, ADMIN_PASSWORD_VARIABLE

    email = os.environ.get(ADMIN_EMAIL_VARIABLE) or None
    password = os.environ.get(ADMIN_PASSWORD_VARIABLE) or None
    person: tuple[str, str] | None = None
    if (email is None) != (password is None):
        print(f"{ADMIN_EMAIL_VARIABLE} and {ADMIN_PASSWORD_VARIABLE} go together", file=sys.stderr)
        return 2
    if email is not None and password is not None:
        try:
            person = (normalise_email(email), check_password(password))
        except KilnError:  # its message never holds the password
            print(
                f"{ADMIN_EMAIL_VARIABLE} must be an email address and {ADMIN_PASSWORD_VARIABLE} 12 to 256 characters",
                file=sys.stderr,
            )
            return 2

    if admin_key is not None and not is_well_formed(admin_key):
        print("KILN_LOCAL_ADMIN_KEY must be kiln_ followed by 43 URL-safe base64 characters", file=sys.stderr)
        return 2
    if tier not in TIERS:
        print(f"KILN_LOCAL_ADMIN_TIER must be one of {', '.join(TIERS)}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Installed before starting: a Ctrl-C during provisioning still ends in a clean stop.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    from local.cloud import LocalCloud

    cloud = LocalCloud(
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        admin_key=admin_key,
        admin_tier=tier,
        admin_person=person,
    )
    try:
        cloud.start()
    except OSError as exc:
        print(f"local cloud could not start: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a malformed setting, such as KILN_CORS_ALLOWED_ORIGINS
        print(f"local cloud could not start: {exc}", file=sys.stderr)
        return 2
    assert cloud.admin_key is not None
    print(banner(cloud.url, cloud.moto_url, cloud.admin_key, tier, cloud.admin_email), flush=True)

    while not stop.wait(0.5):
        pass
    print("Stopping the local cloud...", flush=True)
    cloud.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Typed access to the environment a function runs in (set by CDK, the local cloud or tests).

Read lazily, per call, so tests and the local cloud can set variables after import.
"""

from __future__ import annotations

import json
import os


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


def table_name() -> str:
    return _required("KILN_TABLE_NAME")


def bucket_name() -> str:
    return _required("KILN_BUCKET_NAME")


def state_machine_arns() -> dict[str, str]:
    """Workflow name -> state machine ARN (JSON in KILN_STATE_MACHINES)."""
    return json.loads(os.environ.get("KILN_STATE_MACHINES", "{}"))


def cursor_secret_arn() -> str | None:
    return os.environ.get("KILN_CURSOR_SECRET_ARN") or None


def cursor_secret_literal() -> str | None:
    """A literal cursor-signing secret (local cloud and tests only; AWS uses Secrets Manager)."""
    return os.environ.get("KILN_CURSOR_SECRET") or None


def usage_plan_ids() -> dict[str, str]:
    """Tier name -> API Gateway usage plan id (JSON in KILN_USAGE_PLANS)."""
    return json.loads(os.environ.get("KILN_USAGE_PLANS", "{}"))


def docs_url() -> str:
    return os.environ.get("KILN_DOCS_URL", "/docs")


def generator_name() -> str:
    """Which generator writes questions and specs: `builtin` (default, offline) or `bedrock`."""
    return os.environ.get("KILN_GENERATOR", "builtin").strip().lower() or "builtin"


def bedrock_model_id() -> str:
    """The Bedrock model (or inference profile) id the bedrock generator calls."""
    return _required("KILN_BEDROCK_MODEL_ID")


def build_task_concurrency() -> int:
    """How many tasks of one dependency wave run at once (the build workflow's inner Map)."""
    return max(1, int(os.environ.get("KILN_BUILD_TASK_CONCURRENCY", "4")))


def verify_timeout_seconds() -> float:
    """How long the generated project's own test suite may run during verification."""
    return float(os.environ.get("KILN_VERIFY_TIMEOUT_SECONDS", "240"))


def sse_hold_seconds() -> float:
    """How long one event-stream response waits for new events (under API Gateway's 29 s)."""
    return float(os.environ.get("KILN_SSE_HOLD_SECONDS", "20"))


def key_rotation_grace_seconds() -> float | None:
    """How long a rotated API key's previous secret keeps working, in seconds
    (KILN_KEY_ROTATION_GRACE_SECONDS); None when unset: kiln.domain.access's default, 24 hours.
    Tests and the local cloud shorten it."""
    value = os.environ.get("KILN_KEY_ROTATION_GRACE_SECONDS", "").strip()
    return max(0.0, float(value)) if value else None

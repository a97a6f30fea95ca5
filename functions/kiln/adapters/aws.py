"""boto3 clients, built lazily and once per container.

Nothing is created at import time: a handler pays only for the clients it uses, and tests
and the local cloud can set AWS_ENDPOINT_URL / credentials before the first call.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode with few attempts: API functions answer within API Gateway's 29 s, so
# a throttled dependency should surface as 503 quickly rather than retry for long.
# (`total_max_attempts` counts the first call; botocore's `max_attempts` would count retries only.)
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=3, read_timeout=10)
# A model call is slow by nature and the Bedrock generator does its own single retry, so one
# attempt with a read timeout that still ends inside the API function's 28 s timeout.
_SERVICE_CONFIG = {
    # SigV4 for presigned URLs and POSTs: buckets reject SigV2, which botocore would otherwise
    # use to presign in some regions.
    "s3": _CONFIG.merge(Config(signature_version="s3v4")),
    "bedrock-runtime": Config(
        retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=24
    ),
    # A synchronous Invoke (the build sandbox) answers when the function ends: wait as long as a
    # function may run (15 minutes), once; the verify step's own retry decides about another.
    "lambda": Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=900),
}


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_SERVICE_CONFIG.get(service, _CONFIG))


def reset() -> None:
    """Forget cached clients (tests that switch endpoints between cases)."""
    client.cache_clear()

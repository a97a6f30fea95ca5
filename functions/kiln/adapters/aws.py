"""boto3 clients, built lazily and once per container.

Nothing is created at import time: a handler pays only for the clients it uses, and tests
and the local cloud can set AWS_ENDPOINT_URL / credentials before the first call.
"""

from __future__ import annotations

import gc
from functools import cache
from typing import Any

# boto3 loads with the collector paused, and what the container holds then is frozen out of
# later collections (on a cold path: the first metered request imports this module). Why: `client`.
_collecting = gc.isenabled()
gc.disable()
try:
    import boto3
    from botocore.config import Config

    gc.freeze()
finally:
    if _collecting:
        gc.enable()

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


_frozen = False  # whether the container's first client has been built (see `client`)


@cache
def client(service: str) -> Any:
    """The service's client, built on first use.

    Loading boto3 and building a client allocate some 60,000 objects (modules, the service
    model, the endpoint rules) that live as long as the container. Collected as they are made,
    they trip some 100 collections on the cold path, one of them full, that free nothing:
    25-45 ms of a project handler's first request (measured with gc.callbacks in the cold
    bench's child). So the collector is paused meanwhile, and what the container then holds is
    frozen out of later collections (gc.freeze): it would only be scanned again, never freed.
    The first client only, so that the clients tests rebuild (`reset`) never freeze a test's
    garbage; a later client is built with the collector paused all the same.
    """
    global _frozen
    collecting = gc.isenabled()
    gc.disable()
    try:
        built = boto3.client(service, config=_SERVICE_CONFIG.get(service, _CONFIG))
        if not _frozen:
            _frozen = True
            gc.freeze()
        return built
    finally:
        if collecting:
            gc.enable()


def reset() -> None:
    """Forget cached clients (tests that switch endpoints between cases)."""
    client.cache_clear()

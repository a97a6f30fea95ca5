"""Resource identifiers: a type prefix plus 26 lowercase base32 characters.

The first 10 characters encode the creation time in milliseconds, so ids sort by creation
time (newest-first lists are a reverse key order); the other 16 carry 80 random bits.
"""

from __future__ import annotations

import re
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase
_BODY = rf"[{_ALPHABET}]{{26}}"

PREFIXES = {
    "project": "proj",
    "workspace": "ws",
    "api_key": "key",
    "run": "run",
    "export": "exp",
    "import": "imp",
    "conversion": "conv",
    "upload": "upl",
    "user": "usr",
    "webhook": "wh",
    "event": "evt",  # a custom event (POST /v1/events)
    "delivery": "dlv",  # a webhook delivery (kiln.domain.deliveries makes its ids)
    "session": "sess",
    "oauth_client": "client",
    "oauth_grant": "grant",
    "deployment": "dep",  # a deploy preview (kiln.domain.previews)
}


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(kind: str, now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{PREFIXES[kind]}_{_encode(ms, 10)}{_encode(secrets.randbits(80), 16)}"


_PATTERNS = {kind: re.compile(rf"^{prefix}_{_BODY}$") for kind, prefix in PREFIXES.items()}


def is_valid(kind: str, value: str) -> bool:
    return bool(_PATTERNS[kind].match(value))

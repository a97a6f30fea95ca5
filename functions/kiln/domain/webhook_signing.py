"""Standard Webhooks signatures (https://www.standardwebhooks.com), in a few lines of stdlib.

A delivery carries three headers:

    webhook-id: <message id>             the same on every attempt of one delivery
    webhook-timestamp: <epoch seconds>   when this attempt was signed
    webhook-signature: v1,<base64>       HMAC-SHA256 of "{id}.{timestamp}.{body}"

keyed by the secret's bytes: the base64 after `whsec_`. While a rotated secret's overlap lasts,
both secrets sign and the header lists both signatures, space-separated (`v1,<a> v1,<b>`), so a
receiver holding either one verifies. Kiln signs with this module rather than the reference
`standardwebhooks` package so the functions need no extra dependency; the unit tests verify
its output with that package (tests/unit/kiln/domain/test_webhook_signing.py).

The body is signed as the exact bytes sent: receivers must verify the raw body, not a
re-serialization of the parsed JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks asks for 24 to 64 random bytes


def new_secret() -> str:
    """`whsec_` + the standard base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for; ValueError if it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ and base64") from None
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, one signature per secret (current first)."""
    if not secrets:
        raise ValueError("at least one secret signs")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets),
    }

"""Secrets Manager adapter: the key that signs pagination cursors."""

from __future__ import annotations

from functools import cache

from kiln import config
from kiln.adapters.aws import client


@cache
def _fetch(arn: str) -> bytes:
    return client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"].encode()


def cursor_signing_key() -> bytes:
    """Fetched once per container; a literal value is accepted for tests only."""
    literal = config.cursor_secret_literal()
    if literal:
        return literal.encode()
    arn = config.cursor_secret_arn()
    if not arn:
        raise RuntimeError("KILN_CURSOR_SECRET_ARN is not set")
    return _fetch(arn)

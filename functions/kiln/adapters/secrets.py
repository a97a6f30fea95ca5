"""Secrets Manager adapter: the key that signs pagination cursors, the openai-compatible endpoint's key,
the access-token signing key set."""

from __future__ import annotations

from kiln import config
from kiln.adapters.aws import client


def _fetch(arn: str) -> bytes:
    # Not cached here: the composition root (kiln.services) keeps what it fetched, once per root.
    return client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"].encode()


def cursor_signing_key() -> bytes:
    """A literal value is accepted locally only (kiln.config refuses it in AWS); kiln.services
    fetches the secret once per container."""
    literal = config.cursor_secret_literal()
    if literal:
        return literal.encode()
    arn = config.cursor_secret_arn()
    if not arn:
        raise RuntimeError(f"{config.CURSOR_SECRET_ARN} is not set")
    return _fetch(arn)


def openai_api_key() -> str | None:
    """The openai-compatible endpoint's key: the literal (local), else the secret's plain-text
    value (kiln.services fetches it once per container), else None for an endpoint without keys
    (a local Ollama)."""
    literal = config.openai_api_key_literal()
    if literal:
        return literal
    arn = config.openai_api_key_secret_arn()
    return _fetch(arn).decode().strip() if arn else None


def signing_keys() -> str:
    """The access-token signing key set as stored (JSON, read by kiln.domain.tokens.KeySet)."""
    arn = config.signing_keys_secret_arn()
    if not arn:
        raise RuntimeError(f"{config.SIGNING_KEYS_SECRET_ARN} is not set")
    return _fetch(arn).decode()


def put_signing_keys(document: str) -> None:
    """Store a new version of the key set (the rotation step and the local cloud's provisioning)."""
    arn = config.signing_keys_secret_arn()
    if not arn:
        raise RuntimeError(f"{config.SIGNING_KEYS_SECRET_ARN} is not set")
    client("secretsmanager").put_secret_value(SecretId=arn, SecretString=document)

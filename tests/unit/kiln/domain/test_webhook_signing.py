"""Kiln's own Standard Webhooks signer, verified by the reference `standardwebhooks` package."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from kiln.domain.webhook_signing import new_secret, secret_key, sign

BODY = b'{"type":"run.completed","timestamp":"2026-11-25T12:00:00.000Z","data":{"runId":"run_x","\xc3\xa9":1}}'


def test_a_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert new_secret() != secret
    assert secret_key(secret) == base64.b64decode(secret[6:])


def test_the_reference_package_verifies_the_signature() -> None:
    secret = new_secret()
    headers = sign([secret], "evt_1", int(time.time()), BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["data"]["runId"] == "run_x"
    # And the same bytes the reference signer makes:
    reference = Webhook(secret).sign("evt_1", _moment(headers), BODY.decode())
    assert headers["webhook-signature"] == reference


def _moment(headers: dict[str, str]):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)


def test_during_an_overlap_either_secret_verifies() -> None:
    current, previous = new_secret(), new_secret()
    headers = sign([current, previous], "evt_2", int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(current).verify(BODY, headers)
    Webhook(previous).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_changed_body_id_or_timestamp_fails_verification() -> None:
    secret = new_secret()
    now = int(time.time())
    headers = sign([secret], "evt_3", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"run_x", b"run_y"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "evt_4"})
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-timestamp": str(now - 1)})


def test_malformed_secrets_and_no_secret_are_refused() -> None:
    for bad in ("sk_abc", "whsec_", "whsec_not base64!"):
        with pytest.raises(ValueError):
            secret_key(bad)
    with pytest.raises(ValueError):
        sign([], "evt", 0, b"{}")

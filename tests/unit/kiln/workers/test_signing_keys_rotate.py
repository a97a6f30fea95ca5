"""The scheduled rotation step against a real (moto) secret: it bootstraps an empty set, writes
only when the set changes, and walks a key from published to signing to gone over hours of runs."""

from __future__ import annotations

import boto3
import pytest

from kiln import config
from kiln.domain import tokens
from kiln.domain.tokens import KeySet
from kiln.workers import signing_keys_rotate

NOW = 1_800_000_000


@pytest.fixture
def secret(cloud, monkeypatch: pytest.MonkeyPatch) -> str:
    arn = boto3.client("secretsmanager").create_secret(Name="kiln-signing-keys", SecretString='{"keys": []}')["ARN"]
    monkeypatch.setenv(config.SIGNING_KEYS_SECRET_ARN, arn)
    return arn


def _stored(arn: str) -> KeySet:
    return KeySet.from_json(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def _versions(arn: str) -> int:
    return len(boto3.client("secretsmanager").list_secret_version_ids(SecretId=arn, IncludeDeprecated=True)["Versions"])


def test_an_empty_set_gets_a_current_key_then_nothing_changes(secret: str) -> None:
    first = signing_keys_rotate.rotate(NOW)
    assert first["changed"] is True
    assert [key["state"] for key in first["keys"]] == ["current"]
    versions = _versions(secret)
    again = signing_keys_rotate.rotate(NOW + 3600)
    assert again == {"changed": False, "keys": first["keys"]}
    assert _versions(secret) == versions  # no write when nothing changed


def test_hourly_runs_publish_before_signing_and_retire_after_the_last_token(secret: str) -> None:
    signing_keys_rotate.rotate(NOW)
    [old] = _stored(secret).keys
    hour = 3600
    # A run after the rotation period publishes a successor that does not sign yet.
    due = NOW + tokens.ROTATION_PERIOD_SECONDS
    signing_keys_rotate.rotate(due)
    staged = _stored(secret)
    assert {key.kid: key.state for key in staged.keys} == {
        old.kid: "current",
        staged.in_state("next").kid: "next",  # type: ignore[union-attr]
    }
    successor = staged.in_state("next")
    assert successor is not None
    # An hour later (more than PUBLISH_LEAD_SECONDS) the successor signs; the old key still verifies.
    signing_keys_rotate.rotate(due + hour)
    promoted = _stored(secret)
    assert promoted.signing_key().kid == successor.kid
    assert promoted.in_state("retiring").kid == old.kid  # type: ignore[union-attr]
    # Another hour (more than RETIRE_AFTER_SECONDS): the old key's tokens have expired; it is gone.
    signing_keys_rotate.rotate(due + 2 * hour)
    assert [key.kid for key in _stored(secret).keys] == [successor.kid]


def test_the_handler_uses_the_service_clock(secret: str) -> None:
    answer = signing_keys_rotate.handler({"source": "aws.events"})
    assert answer["changed"] is True and len(answer["keys"]) == 1

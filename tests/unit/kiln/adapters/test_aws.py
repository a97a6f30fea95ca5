"""The shared clients: built once per service, with the collector paused, frozen after the first."""

from __future__ import annotations

import gc

import pytest

from kiln.adapters import aws

pytestmark = pytest.mark.usefixtures("cloud")


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each gc.freeze() call, as whether the collector was running at the time."""
    calls: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(gc.isenabled()))
    monkeypatch.setattr(aws, "_frozen", False)  # as in a container that has built no client yet
    aws.reset()
    yield calls
    aws.reset()


def test_a_client_is_built_once_per_service(freezes):
    assert aws.client("dynamodb") is aws.client("dynamodb")
    assert aws.client("s3") is not aws.client("dynamodb")


def test_the_first_client_is_frozen_with_the_collector_paused(freezes):
    assert gc.isenabled()
    aws.client("dynamodb")
    assert freezes == [False]
    assert gc.isenabled()


def test_later_clients_freeze_nothing_even_after_a_reset(freezes):
    aws.client("dynamodb")
    aws.client("s3")
    aws.reset()
    aws.client("dynamodb")
    assert freezes == [False]  # a test's clients, rebuilt, never freeze its garbage
    assert gc.isenabled()


def test_a_collector_the_caller_paused_stays_paused(freezes):
    gc.disable()
    try:
        aws.client("sqs")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_throttling_is_still_retried_three_times_in_all():
    config = aws.client("dynamodb").meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}

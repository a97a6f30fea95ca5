"""Custom events (kiln.domain.custom_events): the name rule, the size bound, one item written."""

from __future__ import annotations

import json

import pytest

from kiln.domain.custom_events import MAX_DATA_BYTES, CustomEventService
from kiln.envelope import KilnError
from tests.fakes import FakeClock, FakeCustomEvents

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"


@pytest.fixture
def log() -> FakeCustomEvents:
    return FakeCustomEvents()


def test_an_event_is_one_item_with_its_data_as_json_and_a_thirty_day_life(log) -> None:
    clock = FakeClock()
    event = CustomEventService(log, clock).emit(WS, "custom.deploy_finished", {"env": "prod", "n": 1})
    assert event.id.startswith("evt_") and log.events == {(WS, event.id): event}
    assert json.loads(event.data_json) == {"env": "prod", "n": 1}
    assert event.expires_at_epoch - int(clock.now.timestamp()) == 30 * 86400


@pytest.mark.parametrize(
    "name", ["deploy", "custom.", "custom.Deploy", "custom.9lives", "custom.a b", "run.completed", "custom." + "a" * 65]
)
def test_a_bad_name_is_refused_naming_type_and_nothing_is_written(log, name) -> None:
    with pytest.raises(KilnError) as refused:
        CustomEventService(log).emit(WS, name, {})
    assert refused.value.code.value == "VALIDATION_ERROR"
    assert [f["field"] for f in refused.value.details["fields"]] == ["type"]
    assert log.events == {}


def test_names_up_to_64_characters_pass() -> None:
    CustomEventService(FakeCustomEvents()).emit(WS, "custom." + "a" * 64, {})
    CustomEventService(FakeCustomEvents()).emit(WS, "custom.order.paid-v2_x", {})


def test_data_over_64_kib_is_payload_too_large_and_nothing_is_written(log) -> None:
    fits = {"blob": "x" * (MAX_DATA_BYTES - 20)}
    assert len(json.dumps(fits, separators=(",", ":"))) <= MAX_DATA_BYTES
    CustomEventService(log).emit(WS, "custom.big", fits)
    with pytest.raises(KilnError) as refused:
        CustomEventService(log).emit(WS, "custom.big", {"blob": "é" * MAX_DATA_BYTES})
    assert refused.value.code.value == "PAYLOAD_TOO_LARGE"
    assert refused.value.details["limitBytes"] == MAX_DATA_BYTES
    assert len(log.events) == 1

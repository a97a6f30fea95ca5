"""What actions and bounds mean, as the spec writer writes them and the build reads them."""

from __future__ import annotations

from kiln.domain.generators.builtin.behaviour import Effect, bounds, effect, verb_of


def test_bounds_are_read_from_descriptions():
    assert bounds("Stars given, from 1 to 5") == (1, 5)
    assert bounds("Temperature from -20 to 40 degrees") == (-20, 40)
    assert bounds("Stars given") is None and bounds("from 5 to 1") is None


def test_action_segments_name_verbs():
    assert [verb_of(segment) for segment in ("stop", "pay", "mark-paid", "check-in", "re-open")] == [
        "stop",
        "pay",
        "pay",
        "check in",
        "re",
    ]


def test_effects_follow_the_fields_a_record_has():
    time_entry = {"started_at": ("datetime", ()), "ended_at": ("datetime", ()), "duration_minutes": ("integer", ())}
    assert effect("stop", time_entry) == Effect(
        stamp="ended_at", duration=("started_at", "ended_at", "duration_minutes")
    )
    assert effect("start", time_entry) == Effect(stamp="started_at")
    order = {"status": ("enum", ("pending", "cancelled")), "cancelled_at": ("datetime", ())}
    assert effect("cancel", order) == Effect(stamp="cancelled_at", status="cancelled", status_field="status")
    assert effect("pay", {"paid_on": ("date", ())}) == Effect(stamp="paid_on", stamp_type="date")
    # A verb that names nothing the record has changes nothing beyond the body ("move").
    assert effect("move", {"position": ("integer", ()), "column_id": ("uuid", ())}).empty

"""The noun-phrase reader: the things a description names, their relations, attributes and actions."""

from __future__ import annotations

from kiln.domain.generators.builtin.model import default_name, read
from kiln.domain.generators.builtin.nouns import Reading, Thing


def _things(reading: Reading) -> dict[str, Thing]:
    return {default_name(thing): thing for thing in reading.things}


def _parents(reading: Reading, name: str) -> set[str]:
    things = _things(reading)
    keys = {thing.key: thing_name for thing_name, thing in things.items()}
    return {keys[key] for key, _ in things[name].parents if key in keys}


def test_per_gives_a_parent_and_feature_words_are_not_things():
    reading = read("A URL shortener with custom aliases and click analytics per link")
    assert list(_things(reading)) == ["Click", "Link"]
    assert _parents(reading, "Click") == {"Link"}
    # "a URL shortener with custom aliases": attributes of the application's main thing.
    assert [attribute.name for attribute in reading.product_attributes] == ["url", "alias"]
    assert next(a for a in reading.product_attributes if a.name == "alias").unique


def test_subject_verb_object_with_children_and_a_back_reference():
    reading = read(
        "A recipe sharing site where cooks post recipes with ingredients and steps, and others rate and review them"
    )
    things = _things(reading)
    assert list(things) == ["Recipe", "Cook", "Ingredient", "Step", "Review"]
    assert _parents(reading, "Ingredient") == {"Recipe"} == _parents(reading, "Step")
    assert _parents(reading, "Recipe") == {"Cook"}  # cooks post recipes
    # "others rate and review them": a review of the recipe, by a user, with a rating.
    review = things["Review"]
    assert _parents(reading, "Review") == {"Recipe"} and review.by_user and review.derived
    assert [attribute.name for attribute in review.attributes] == ["rating"]


def test_a_verb_that_is_a_record_an_action_and_compound_parts():
    reading = read("A library lending system: members borrow book copies with due dates and pay fines")
    things = _things(reading)
    assert {"Member", "Book", "Copy", "Loan", "Fine"} <= set(things)
    assert _parents(reading, "Copy") == {"Book"}  # book copies are copies of books
    assert _parents(reading, "Loan") == {"Copy", "Member"}  # members borrow copies
    assert [attribute.name for attribute in things["Loan"].attributes] == ["due_date"]
    assert things["Fine"].actions == ["pay"] and _parents(reading, "Fine") == {"Member"}


def test_participles_possessives_and_people():
    orders = read("Purchase orders sent to suppliers, with approval by a manager before they go out.")
    assert list(_things(orders)) == ["PurchaseOrder", "Supplier"]  # the manager is a user, not a record
    assert _parents(orders, "PurchaseOrder") == {"Supplier"}
    assert _things(orders)["PurchaseOrder"].actions == ["send", "approve"]

    clinic = read("A veterinary clinic's appointments and pets, with owners and vaccination records.")
    things = _things(clinic)
    assert {"Clinic", "Appointment", "Pet", "Owner", "Vaccination"} <= set(things)
    assert things["Appointment"].template == "Event"  # the catalogue's fields, the user's word
    assert {"Clinic", "Owner"} <= _parents(clinic, "Pet")


def test_amounts_per_thing_are_records_and_numbers_are_fields():
    fleet = read("A fleet's vehicles and maintenance logs, with fuel costs per vehicle.")
    assert {"Fleet", "Vehicle", "MaintenanceLog", "FuelCost"} <= set(_things(fleet))
    assert "Vehicle" in _parents(fleet, "FuelCost")
    tickets = read("Attendees buy tickets with seat numbers.")
    assert [attribute.name for attribute in _things(tickets)["Ticket"].attributes] == ["seat_number"]


def test_catalogue_phrases_keep_the_catalogue_and_verbs_are_masked_for_keywords():
    reading = read("A project management tool with team collaboration features, task boards, and time tracking.")
    assert [(default_name(t), t.template) for t in reading.things] == [
        ("Project", "Project"),
        ("Team", "Team"),
        ("Task", "Task"),
        ("Board", "Board"),
        ("TimeEntry", "TimeEntry"),
    ]
    masked = read("Cooks post recipes and purchase orders go to suppliers.").masked_text
    assert "post" not in masked.split() and "purchase" not in masked.split()


def test_nothing_named_gives_nothing_and_reading_is_deterministic():
    assert read("").things == [] and read("It is simple and easy to use.").things == []
    text = "A gym app where members book fitness classes with trainers and track their workouts."
    assert read(text) == read(text)

"""The data model through the clarifying questions: confirm, drop, rename, add, and say what a thing records."""

from __future__ import annotations

from kiln.domain.generation import ProjectBrief, Question, SpecContent, SpecRequest
from kiln.domain.generators.builtin import BuiltinGenerator
from kiln.domain.generators.builtin.model import DATA_MODEL, DATA_MODEL_MORE, KEEP_ALL, infer_field
from kiln.domain.spec_documents import parse_data_model, render_documents

generator = BuiltinGenerator()
SHORTENER = ProjectBrief("Shorty", "A URL shortener with custom aliases and click analytics per link")
SKATEPARK = ProjectBrief("Park", "A skatepark with ramps and sessions.")


def _questions(brief: ProjectBrief) -> dict[str, Question]:
    return {question.id: question for question in generator.clarify(brief)}


def _spec(brief: ProjectBrief, answers: dict | None = None, feedback: tuple[str, ...] = ()) -> SpecContent:
    return generator.write_spec(SpecRequest(brief, tuple(generator.clarify(brief)), answers or {}, feedback))


def _entities(content: SpecContent) -> list[str]:
    return [entity.name for entity in content.entities]


def _fields(content: SpecContent, name: str) -> dict:
    return {f.name: f for f in next(e for e in content.entities if e.name == name).fields}


def test_the_model_is_asked_first_with_every_thing_offered():
    questions = _questions(SHORTENER)
    assert list(questions)[:2] == [DATA_MODEL, DATA_MODEL_MORE]
    assert questions[DATA_MODEL].options == [KEEP_ALL, "Click", "Link"]
    assert questions[DATA_MODEL].type.value == "multi_choice" and not questions[DATA_MODEL].required
    assert "Link -> ShortLink" in questions[DATA_MODEL_MORE].question
    # Nothing says what ramps and sessions record: one question each.
    park = _questions(SKATEPARK)
    assert park["fields_ramp"].type.value == "text" and "fields_session" in park


def test_unanswered_or_all_keeps_every_thing_and_they_shape_the_model():
    for answers in ({}, {DATA_MODEL: [KEEP_ALL, "Click"]}):
        content = _spec(SHORTENER, answers)
        assert {"Link", "Click"} <= set(_entities(content))
    link = _fields(content, "Link")
    assert link["url"].type == "url" and link["alias"].unique  # "URL shortener with custom aliases"
    click = next(e for e in content.entities if e.name == "Click")
    assert ("belongs_to", "Link", "link_id") in {(r.kind, r.target, r.via) for r in click.relations}
    routes = {(route.method, route.path) for route in content.routes}
    assert {("GET", "/links/{linkId}/clicks"), ("POST", "/links/{linkId}/clicks"), ("GET", "/links")} <= routes
    assert "Links" in {feature.name for feature in content.features}
    assert parse_data_model(render_documents(content)["DATA.md"]) == content.entities


def test_a_thing_left_out_of_the_answer_is_dropped():
    content = _spec(SHORTENER, {DATA_MODEL: ["Link"]})
    assert "Link" in _entities(content) and "Click" not in _entities(content)
    assert not any("/clicks" in route.path for route in content.routes)
    assert any("kept Link" in decision for decision in content.decisions)


def test_renames_and_additions_from_the_text_answer():
    content = _spec(SHORTENER, {DATA_MODEL_MORE: "Link -> ShortLink. We also keep campaigns with a budget."})
    names = _entities(content)
    assert "ShortLink" in names and "Link" not in names and "Campaign" in names
    click = next(e for e in content.entities if e.name == "Click")
    assert ("belongs_to", "ShortLink") in {(r.kind, r.target) for r in click.relations}
    assert ("GET", "/short-links/{shortLinkId}/clicks") in {(r.method, r.path) for r in content.routes}
    assert _fields(content, "Campaign")["budget"].type == "decimal"
    # A name that cannot be an entity is refused, and said so.
    refused = _spec(SHORTENER, {DATA_MODEL_MORE: "Link -> 9 lives"})
    assert "Link" in _entities(refused)
    assert any("kept the name Link" in decision for decision in refused.decisions)


def test_what_a_thing_records_becomes_its_fields():
    content = _spec(SKATEPARK, {"fields_ramp": "a name, a height in cm, a difficulty rating and the opening date"})
    ramp = _fields(content, "Ramp")
    assert {"name", "height_cm", "difficulty_rating", "opening_date"} <= set(ramp)
    assert ramp["difficulty_rating"].type == "integer" and "from 1 to 5" in ramp["difficulty_rating"].description
    assert ramp["opening_date"].type == "date"


def test_feedback_adds_and_removes_things():
    content = _spec(SHORTENER, feedback=("Add campaigns per link.", "Remove clicks."))
    assert "Campaign" in _entities(content) and "Click" not in _entities(content)
    campaign = next(e for e in content.entities if e.name == "Campaign")
    assert ("belongs_to", "Link") in {(r.kind, r.target) for r in campaign.relations}
    assert any(change.startswith("Added entity Campaign") for change in content.feedback[0].changes)
    assert "Removed entity Click." in content.feedback[1].changes


def test_field_types_are_read_from_the_last_word():
    cases = {
        "visit count": ("visit_count", "integer"),
        "website": ("website", "url"),
        "ticket price": ("ticket_price", "decimal"),
        "start time": ("start_time_at", "datetime"),
        "is active": ("is_active", "boolean"),
        "notes": ("notes", "text"),
        "colour": ("colour", "string"),
    }
    for phrase, (name, kind) in cases.items():
        spec = infer_field(phrase)
        assert spec is not None and (spec.name, spec.type) == (name, kind), phrase
    assert infer_field("id") is None and infer_field("123") is None

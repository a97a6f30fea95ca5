"""The four documents rendered from SpecContent, and DATA.md parsed back (no AWS)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.generation import (
    ApiRoute,
    Entity,
    EntityField,
    Feature,
    FeedbackResponse,
    Relation,
    SpecContent,
    UserRole,
)
from kiln.domain.spec_documents import DOCUMENT_NAMES, parse_data_model, render_documents

TRICKY = "Pipes | and \\ backslashes,\nnew lines\r\nand \x1c\u2028\x85 breaks, \\| \\n \\u0041 stay literal"


def _content(**changes) -> SpecContent:
    base = dict(
        title="Team Tracker",
        overview="A project management tool.\n\nWith boards.",
        users=[UserRole(name="Administrator", description="Manages members.")],
        features=[
            Feature(
                name="Tasks",
                summary="Work is split into tasks.",
                acceptance=[
                    "Given a task, when it is saved, then it is listed.",
                    "Given a task, when it is done, then completed_at is set.",
                ],
            ),
            Feature(name="Boards", summary="Columns | lanes.", acceptance=["Given a board, then it has columns."]),
        ],
        entities=[
            Entity(
                name="Project",
                description="A body of work.",
                fields=[
                    EntityField(name="id", type="uuid", unique=True, description="Primary key"),
                    EntityField(name="name", type="string", description=TRICKY),
                ],
                relations=[Relation(kind="has_many", target="Task")],
            ),
            Entity(
                name="Task",
                description="A unit | of\nwork \\ here.",
                fields=[
                    EntityField(name="id", type="uuid", unique=True),
                    EntityField(name="status", type="enum", values=["todo", "in_progress", "done"]),
                    EntityField(name="project_id", type="uuid", required=False, description="Owning project"),
                    EntityField(name="meta", type="json", required=False, description="ends with a backslash \\"),
                ],
                relations=[
                    Relation(kind="belongs_to", target="Project", via="project_id"),
                    Relation(kind="many_to_many", target="Tag"),
                ],
            ),
            Entity(name="Tag", description="A label.", fields=[EntityField(name="id", type="uuid")]),
        ],
        routes=[
            ApiRoute(method="GET", path="/projects/{projectId}/tasks", summary="List | tasks", entity="Task"),
            ApiRoute(method="POST", path="/auth/sign-in", summary="Sign in"),
            ApiRoute(method="GET", path="/projects", summary="List projects", entity="Project"),
        ],
        decisions=["Sign-in: email and password."],
        non_functional=["HTTPS everywhere."],
    )
    base.update(changes)
    return SpecContent(**base)


def test_renders_exactly_the_four_documents_deterministically():
    content = _content()
    documents = render_documents(content)
    assert tuple(documents) == DOCUMENT_NAMES == ("SPEC.md", "ACCEPTANCE.md", "ROUTES.md", "DATA.md")
    assert documents == render_documents(SpecContent.model_validate(content.model_dump()))
    assert all(text.endswith("\n") and not text.endswith("\n\n") for text in documents.values())


def test_spec_lists_every_section_and_feedback_only_when_there_is_some():
    spec = render_documents(_content())["SPEC.md"]
    for heading in (
        "# Team Tracker",
        "## Overview",
        "## Users",
        "## Features",
        "## Decisions",
        "## Non-functional requirements",
    ):
        assert heading in spec
    assert "1. **Tasks**: Work is split into tasks. (acceptance: AC-1.1 to AC-1.2)" in spec
    assert "2. **Boards**" in spec and "(acceptance: AC-2.1)" in spec
    assert "- **Administrator**: Manages members." in spec
    assert "Changes from review feedback" not in spec

    feedback = FeedbackResponse(feedback="Please add a dark mode.\nAnd labels.", changes=["Added entity Tag."])
    spec = render_documents(_content(feedback=[feedback]))["SPEC.md"]
    section = spec[spec.index("## Changes from review feedback") :]
    assert "> Please add a dark mode.\n> And labels." in section
    assert "- Added entity Tag." in section


def test_acceptance_numbers_criteria_per_feature_as_checklists():
    acceptance = render_documents(_content())["ACCEPTANCE.md"]
    assert "## 1. Tasks" in acceptance and "## 2. Boards" in acceptance
    assert "- [ ] **AC-1.1** Given a task, when it is saved, then it is listed." in acceptance
    assert "- [ ] **AC-1.2** Given a task, when it is done, then completed_at is set." in acceptance
    assert "- [ ] **AC-2.1** Given a board, then it has columns." in acceptance


def test_routes_are_grouped_by_entity_with_other_last():
    routes = render_documents(_content())["ROUTES.md"]
    assert routes.index("## Project") < routes.index("## Task") < routes.index("## Other")
    assert "## Tag" not in routes  # no routes, no section
    assert "| GET | `/projects/{projectId}/tasks` | List \\| tasks |" in routes
    assert "| POST | `/auth/sign-in` | Sign in |" in routes.split("## Other")[1]


def test_data_md_has_the_documented_shape():
    data = render_documents(_content())["DATA.md"]
    assert "## Entity: Task\n\nDescription: A unit \\| of\\nwork \\\\ here.\n" in data
    assert "| field | type | required | unique | values | description |\n| --- | --- | --- | --- | --- | --- |" in data
    assert "| status | enum | yes | no | todo, in_progress, done | |" in data
    assert "| project_id | uuid | no | no | | Owning project |" in data
    assert "### Relations\n\n- belongs_to Project via project_id\n- many_to_many Tag\n" in data
    assert "## Entity: Tag" in data and data.rstrip().endswith("- none")
    # Every line-breaking character inside a description is escaped: one entity row per line.
    assert all(line.count("|") >= 7 for line in data.splitlines() if line.startswith("| name |"))


def test_data_md_round_trips_including_escapes():
    content = _content()
    data = render_documents(content)["DATA.md"]
    assert parse_data_model(data) == content.entities
    assert parse_data_model(data)[0].fields[1].description == TRICKY.strip()
    # Windows line endings, a byte-order mark and trailing spaces do not matter.
    assert parse_data_model("\ufeff" + data.replace("\n", "  \r\n")) == content.entities


# --- malformed DATA.md -----------------------------------------------------------------------

GOOD = """# Data model

## Entity: Task

Description: A unit of work.

| field | type | required | unique | values | description |
| --- | --- | --- | --- | --- | --- |
| id | uuid | yes | yes | | Primary key |

### Relations

- none
"""


@pytest.mark.parametrize(
    "broken, line, message",
    [
        ("", 1, "no entity"),
        ("# Title\n\n## Entities\n", 3, "entity heading"),
        (GOOD.replace("Description: A unit of work.", "A unit of work."), 5, "Description:"),
        (GOOD.replace("| field | type |", "| name | type |"), 7, "header"),
        (GOOD.replace("| --- | --- | --- | --- | --- | --- |", "| --- | --- |"), 8, "separator"),
        (GOOD.replace("| id | uuid | yes | yes | | Primary key |", "| id | uuid | yes |"), 9, "6 cells"),
        (
            GOOD.replace("| id | uuid | yes | yes | | Primary key |", "| id | uuid | maybe | yes | | x |"),
            9,
            "yes or no",
        ),
        (GOOD.replace("| id | uuid |", "| id | guid |"), 9, "type"),
        (GOOD.replace("| id | uuid |", "| Id | uuid |"), 9, "name"),
        (GOOD.replace("| id | uuid | yes | yes | |", "| id | enum | yes | yes | |"), 9, "needs values"),
        (GOOD.replace("| id | uuid | yes | yes | |", "| id | uuid | yes | yes | a, b |"), 9, "only enum"),
        (GOOD.replace("Primary key |", "Primary \\x key |"), 9, "escape"),
        (GOOD.replace("Primary key |", "Primary key \\|"), 9, "end with"),
        (GOOD.replace("| id | uuid | yes | yes | | Primary key |\n", ""), 10, "at least one field"),
        (GOOD.replace("### Relations", "### Links"), 11, "### Relations"),
        (GOOD.replace("- none", "- has_many Ghost"), 13, "unknown entity Ghost"),
        (GOOD.replace("- none", "- belongs_to Task"), 1 + 2, "belongs_to"),
        (GOOD.replace("- none", "- owns Task"), 13, "kind"),
        (GOOD.replace("- none", "- has_many Task via id"), 3, "only belongs_to"),
        (GOOD.replace("- none", "- has many Task"), 13, "relation reads"),
        (GOOD.replace("- none", ""), 14, "relation items"),
        (GOOD + "\nSome trailing prose.\n", 15, "next"),
        (GOOD + "\n" + GOOD[GOOD.index("## Entity") :], 15, "already defined at line 3"),
        ("## Entity: task\n" + GOOD[GOOD.index("Description") :], 1, "name"),
        (GOOD.replace("Description: A unit of work.", "Description:"), 3, "description"),
    ],
)
def test_malformed_data_md_raises_value_error_with_line(broken, line, message):
    with pytest.raises(ValueError) as raised:
        parse_data_model(broken)
    assert type(raised.value) is ValueError
    assert f"line {line}:" in str(raised.value)
    assert message in str(raised.value)


def test_non_text_is_refused():
    with pytest.raises(ValueError):
        parse_data_model(b"## Entity: Task")  # type: ignore[arg-type]


def test_surrogates_and_huge_escapes_are_value_errors():
    with pytest.raises(ValueError):
        parse_data_model(GOOD.replace("Primary key", "\\ud800 lone surrogate"))
    with pytest.raises(ValueError):
        parse_data_model(GOOD.replace("A unit of work.", "\ud800"))


# --- properties ------------------------------------------------------------------------------

_ident_tail = st.text(alphabet=string.ascii_lowercase + string.digits + "_", max_size=8)
_field_names = st.builds(lambda head, tail: head + tail, st.sampled_from(string.ascii_lowercase), _ident_tail)
_entity_names = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(string.ascii_uppercase),
    st.text(alphabet=string.ascii_letters + string.digits, max_size=8),
)
# Descriptions: any text, weighted towards the characters the escaping must survive.
_texts = st.text(
    alphabet=st.one_of(st.sampled_from("|\\\n\r \t\x1c\x85\u2028\u2029\x0b\x0cnu0-"), st.characters(codec="utf-8")),
    max_size=40,
)


@st.composite
def _entities(draw) -> list[Entity]:
    names = draw(st.lists(_entity_names, min_size=1, max_size=4, unique=True))
    entities = []
    for name in names:
        field_names = draw(st.lists(_field_names, min_size=1, max_size=5, unique=True))
        fields = []
        for field_name in field_names:
            kind = draw(st.sampled_from(["string", "text", "uuid", "enum", "json", "decimal"]))
            values = draw(st.lists(_field_names, min_size=1, max_size=3)) if kind == "enum" else None
            fields.append(
                EntityField(
                    name=field_name,
                    type=kind,
                    required=draw(st.booleans()),
                    unique=draw(st.booleans()),
                    values=values,
                    description=draw(_texts),
                )
            )
        relations = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["belongs_to", "has_many", "many_to_many"]))
            via = draw(st.sampled_from(field_names)) if kind == "belongs_to" else None
            relations.append(Relation(kind=kind, target=draw(st.sampled_from(names)), via=via))
        description = draw(_texts.filter(lambda text: text.strip()))
        entities.append(Entity(name=name, description=description, fields=fields, relations=relations))
    return entities


@settings(max_examples=50, deadline=None)
@given(_entities())
def test_parse_data_model_round_trips_any_valid_entities(entities):
    content = _content(entities=entities, routes=[ApiRoute(method="GET", path="/health", summary="Health")])
    data = render_documents(content)["DATA.md"]
    assert parse_data_model(data) == content.entities
    assert render_documents(content)["DATA.md"] == data


_LINES = st.one_of(
    st.sampled_from(
        GOOD.splitlines()
        + [
            "## Entity: Other",
            "- has_many Task",
            "| a | b |",
            "|",
            "\\",
            "### x",
            "- belongs_to Task via id",
            "| id | enum | yes | no | a,,b | x |",
        ]
    ),
    st.text(max_size=30),
)


@settings(max_examples=50, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_LINES, max_size=25).map("\n".join)))
def test_parse_data_model_raises_only_value_error_on_garbage(text):
    try:
        entities = parse_data_model(text)
    except ValueError as error:
        assert type(error) is ValueError and "DATA.md line " in str(error)
    else:
        assert entities and all(isinstance(entity, Entity) for entity in entities)

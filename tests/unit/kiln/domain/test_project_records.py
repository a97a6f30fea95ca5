"""ProjectRecord (no pydantic, what the project endpoints answer) against the documented models."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import get_type_hints

import pytest

from kiln.domain.project_records import PROJECT_FIELDS, ProjectRecord, ProjectStatus
from kiln.domain.projects import Project, ProjectArchived

STAMP = "2026-11-25T12:00:00.001Z"


def test_the_record_has_the_documented_fields_in_their_order_with_their_types_and_defaults():
    hints = get_type_hints(ProjectRecord)
    record = {
        f.name: (hints[f.name], f.default is dataclasses.MISSING, f.default) for f in dataclasses.fields(ProjectRecord)
    }
    model = {name: (info.annotation, info.is_required(), info.default) for name, info in Project.model_fields.items()}
    assert list(record) == list(model) == list(PROJECT_FIELDS)
    for name, (kind, required, default) in record.items():
        assert (kind, required) == model[name][:2], name
        assert required or default == model[name][2], name


@pytest.mark.parametrize(
    "stored",
    [
        {"id": "proj_01", "name": "A", "description": "B", "status": "draft", "createdAt": STAMP, "updatedAt": STAMP},
        {
            "id": "proj_02",
            "name": "Ünïcode",
            "description": "line\nbreak",
            "status": "archived",
            "createdAt": STAMP,
            "updatedAt": STAMP,
            "archivedAt": STAMP,
            "specVersion": Decimal(3),  # as DynamoDB's deserializer gives numbers
            "approvedAt": STAMP,
        },
    ],
)
def test_the_record_answers_exactly_what_the_model_would(stored):
    record = ProjectRecord.of(stored)
    model = Project(**stored)
    assert record.json() == model.model_dump(mode="json")
    assert list(record.json()) == list(model.model_dump(mode="json"))  # the same key order in the body
    archived = ProjectArchived(id=model.id, status=model.status, archivedAt=model.archivedAt)
    assert record.archived_json() == archived.model_dump(mode="json")


def test_a_stored_status_outside_the_machine_is_refused():
    with pytest.raises(ValueError):
        ProjectRecord.of(
            {"id": "p", "name": "n", "description": "d", "status": "gone", "createdAt": "", "updatedAt": ""}
        )


def test_only_the_public_fields_are_read():
    stored = {"id": "p", "name": "n", "description": "d", "status": "built", "createdAt": STAMP, "updatedAt": STAMP}
    record = ProjectRecord.of({**stored, "revision": Decimal(7), "nameFolded": "n", "workspaceId": "ws"})
    assert record.status is ProjectStatus.BUILT and set(record.json()) == set(PROJECT_FIELDS)

"""The models are generated from docs/openapi.json (scripts/generate_models.sh): this fails when
the API's document changes and the models were not regenerated."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, RootModel

from kiln_client import models

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
REGENERATE = "run clients/python/scripts/generate_models.sh"

pytestmark = pytest.mark.skipif(not DOCUMENT.exists(), reason="outside the repository: no docs/openapi.json")


def schemas() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())["components"]["schemas"]


def wire_fields(model: type[BaseModel]) -> dict[str, bool]:
    """Each field's name on the wire and whether it is required."""
    return {(field.alias or name): field.is_required() for name, field in model.model_fields.items()}


@pytest.mark.parametrize("name", sorted(schemas()) if DOCUMENT.exists() else [])
def test_every_schema_has_a_model_of_the_same_shape(name: str) -> None:
    schema = schemas()[name]
    model = getattr(models, name, None)
    assert model is not None, f"no model for schema {name}: {REGENERATE}"
    if "enum" in schema:
        assert issubclass(model, enum.Enum), f"{name} is an enum in the document: {REGENERATE}"
        assert {member.value for member in model} == set(schema["enum"]), f"{name}'s values changed: {REGENERATE}"
    elif "properties" in schema:
        assert issubclass(model, BaseModel) and not issubclass(model, RootModel), name
        required = set(schema.get("required", []))
        expected = {prop: prop in required for prop in schema["properties"]}
        assert wire_fields(model) == expected, f"{name}'s fields changed: {REGENERATE}"
    else:  # a union (oneOf) or a free-form object: a root model or an open object
        assert issubclass(model, BaseModel), name

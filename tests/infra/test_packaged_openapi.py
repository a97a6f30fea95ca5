"""The functions asset ships the OpenAPI document the build derives from the declarations."""

from __future__ import annotations

import tomllib
from pathlib import Path

from infra.lambdas import staged_functions
from infra.settings import FUNCTIONS_DIR
from kiln import openapi

REPO = Path(__file__).resolve().parents[2]


def test_the_staged_functions_carry_the_committed_document():
    staged = staged_functions()
    assert (staged / openapi.PACKAGED).read_bytes() == (REPO / "docs" / "openapi.json").read_bytes()
    assert (staged / "kiln" / "routes.py").read_bytes() == (FUNCTIONS_DIR / "kiln" / "routes.py").read_bytes()
    assert not list(staged.rglob("__pycache__"))


def test_the_source_tree_holds_no_copy_and_package_data_names_the_built_one():
    # Committed once (docs/openapi.json); the package's copy exists only in what a build stages.
    assert not (FUNCTIONS_DIR / openapi.PACKAGED).exists()
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["kiln"]
    assert str(openapi.PACKAGED.relative_to("kiln")) in package_data

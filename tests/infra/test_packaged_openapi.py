"""The functions asset ships the OpenAPI document the build derives from the declarations."""

from __future__ import annotations

import tomllib
from pathlib import Path

from infra.lambdas import staged_functions
from infra.settings import FUNCTIONS_DIR
from kiln import openapi
from layers.build import target_python

REPO = Path(__file__).resolve().parents[2]


def test_the_staged_functions_carry_the_committed_document():
    staged = staged_functions()
    assert (staged / openapi.PACKAGED).read_bytes() == (REPO / "docs" / "openapi.json").read_bytes()
    assert (staged / "kiln" / "routes.py").read_bytes() == (FUNCTIONS_DIR / "kiln" / "routes.py").read_bytes()


def test_the_staged_functions_carry_bytecode_for_the_runtime_only():
    """Compiled by CPython 3.13 when the machine has one (layers/build.py), never this venv's."""
    staged = staged_functions()
    compiled = list(staged.rglob("*.pyc"))
    if target_python() is None:
        assert not compiled
        return
    assert (staged / "kiln" / "__pycache__" / "routes.cpython-313.pyc").is_file()
    assert all(path.name.endswith(".cpython-313.pyc") for path in compiled)
    assert all(int.from_bytes(path.read_bytes()[4:8], "little") == 0b01 for path in compiled)  # unchecked hash


def test_the_source_tree_holds_no_copy_and_package_data_names_the_built_one():
    # Committed once (docs/openapi.json); the package's copy exists only in what a build stages.
    assert not (FUNCTIONS_DIR / openapi.PACKAGED).exists()
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["kiln"]
    assert str(openapi.PACKAGED.relative_to("kiln")) in package_data

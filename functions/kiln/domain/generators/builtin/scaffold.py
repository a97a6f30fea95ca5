"""The generated service's shared modules, kept as real source files in `templates/`.

They are complete Python modules (store, HTTP router, field validation, handler helpers), not
code assembled from strings, so they are read, linted and reviewed like any other source; the
`.py.tmpl` suffix keeps them out of Kiln's own imports and type checks. They ship as package
data (pyproject.toml, [tool.setuptools.package-data]).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

# Path in the generated service -> template name.
FILES = {
    "app/__init__.py": "app_init",
    "app/store.py": "store",
    "app/http.py": "http",
    "app/models/__init__.py": "models_init",
    "app/routes/__init__.py": "routes_init",
    "tests/__init__.py": "tests_init",
}
# Written by the server task, after every entity's routes exist: the Lambda adapter a deploy
# preview runs (kiln.adapters.preview_lambda's handler) and its tests.
SERVER_FILES = {
    "app/lambda_handler.py": "lambda_handler",
    "tests/test_lambda_handler.py": "lambda_handler_tests",
}


@cache
def read_template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", f"{name}.py.tmpl").read_text(encoding="utf-8")

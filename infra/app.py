#!/usr/bin/env python3
"""CDK entry point (cdk.json: `.venv/bin/python infra/app.py`).

Synthesizes without AWS credentials or a region: the stacks are environment-agnostic and
deploy to whatever account and region the CLI's credentials point at.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
# Running `python infra/app.py` puts infra/ first on sys.path, where its modules could shadow
# top-level packages; import them as `infra.*` from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
for entry in (REPO_ROOT / "functions", REPO_ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from collections.abc import Mapping  # noqa: E402
from typing import Any  # noqa: E402

from aws_cdk import App, Tags  # noqa: E402

from infra.nag import enable_checks  # noqa: E402
from infra.settings import LAYER_DIR, MCP_LAYER_DIR, Settings  # noqa: E402
from infra.stack import KilnStack  # noqa: E402


def create_app(
    context: Mapping[str, Any] | None = None, *, outdir: str | None = None, **stack_kwargs: Any
) -> tuple[App, KilnStack]:
    """The app with its one root stack; tests pass routes, layer_dir, workflows_dir..."""
    app = App(context=dict(context or {}), outdir=outdir)
    settings = Settings.from_context(app.node)
    stack = KilnStack(app, settings.stack_name, stack_name=settings.stack_name, settings=settings, **stack_kwargs)
    Tags.of(stack).add("project", "kiln")
    Tags.of(stack).add("kiln:stack", settings.stack_name)
    enable_checks(app)
    return app, stack


def check_layer() -> None:
    """The layer must have been built (its stamp is written last); warn when it is stale."""
    from layers.build import STAMP_NAME, is_current

    if not (LAYER_DIR / "python").is_dir() or not (LAYER_DIR / STAMP_NAME).is_file():
        sys.exit(
            f"error: the Lambda dependency layer {LAYER_DIR.relative_to(REPO_ROOT)} has not been built. "
            "Build it with `make layer` (or `.venv/bin/python layers/build.py`), then synthesize again."
        )
    if not is_current():
        print(
            f"warning: {LAYER_DIR.relative_to(REPO_ROOT)} was built from another layers/requirements.txt; "
            "run `make layer` to rebuild it",
            file=sys.stderr,
        )
    from layers.build import CLIENT_PACKAGE, MCP_REQUIREMENTS

    if not (MCP_LAYER_DIR / "python").is_dir() or not (MCP_LAYER_DIR / STAMP_NAME).is_file():
        sys.exit(f"error: the MCP layer {MCP_LAYER_DIR.relative_to(REPO_ROOT)} has not been built: run `make layer`")
    if not is_current(MCP_REQUIREMENTS, MCP_LAYER_DIR, (CLIENT_PACKAGE,)):
        print(
            f"warning: {MCP_LAYER_DIR.relative_to(REPO_ROOT)} is older than its requirements or kiln_client; "
            "run `make layer` to rebuild it",
            file=sys.stderr,
        )


def main() -> None:
    check_layer()
    app, _ = create_app()
    app.synth()


if __name__ == "__main__":
    main()

"""Shared CDK synthesis for the infra tests: each app is synthesized once per session.

Synthesis runs the cdk-nag validation plugins too; when they fail, the report is kept so the
nag test can show every finding instead of one exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import NestedStack

from kiln.routes import ROUTES, Route

REPO = Path(__file__).resolve().parents[2]
CDK_JSON = REPO / "cdk.json"

# Tags (future route groups) of the synthetic route table, and the grants their routes use.
SYNTHETIC_GROUPS = {
    "members": ("table:write",),
    "spec": ("table:write", "bucket:read"),
    "runs": ("table:write",),
    "tasks": ("table:write",),
    "events": ("table:read", "cursor-secret:read"),
    "files": ("table:write", "bucket:write"),
    "exports": ("table:write", "bucket:write"),
    "imports": ("table:write", "bucket:write"),
    "uploads": ("bucket:write",),
    "conversions": ("table:write", "bucket:read"),
    "workspaces": ("table:write",),
    # Not in kiln.routes.GRANTS yet: the synthetic fixture adds it (see `synthetic`).
    "keys": ("table:write", "usage-keys:write"),
    "docs": (),
}


@dataclass
class Synth:
    """One synthesized app: templates by stack, the validation report, the synthesis error if any."""

    app: Any
    stack: Any
    outdir: Path
    routes: tuple[Route, ...]
    error: str | None = None
    templates: dict[str, dict] = field(default_factory=dict)  # "Kiln", "Kiln/RoutesCore", ...

    @property
    def root(self) -> dict:
        return self.templates[self.stack.stack_name]

    @property
    def report(self) -> dict:
        path = self.outdir / "validation-report.json"
        return json.loads(path.read_text()) if path.is_file() else {"pluginReports": []}

    def resources(self, type_: str | None = None) -> dict[str, tuple[str, dict]]:
        """logical id -> (stack, resource) across every template (ids prefixed by stack when nested)."""
        out: dict[str, tuple[str, dict]] = {}
        for name, template in self.templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                if type_ is None or resource["Type"] == type_:
                    out[f"{name}:{logical_id}"] = (name, resource)
        return out


def cdk_context(**overrides: Any) -> dict[str, Any]:
    return {**json.loads(CDK_JSON.read_text())["context"], **overrides}


def placeholder_layer(root: Path) -> Path:
    """Stands in for .build/layer (built by `make layer`): only its presence matters to synthesis."""
    (root / "python").mkdir(parents=True, exist_ok=True)
    (root / "python" / "placeholder.txt").write_text("synthesis-only stand-in for the dependency layer\n")
    return root


def synthesize(outdir: Path, layer: Path, *, context: dict[str, Any] | None = None, **stack_kwargs: Any) -> Synth:
    from infra.app import create_app

    stack_kwargs.setdefault("mcp_layer_dir", layer)  # the MCP function's layer: the same stand-in
    app, stack = create_app(cdk_context(**(context or {})), outdir=str(outdir), layer_dir=layer, **stack_kwargs)
    result = Synth(app=app, stack=stack, outdir=outdir, routes=tuple(stack.routes))
    try:
        app.synth()
    except Exception as exc:  # noqa: BLE001 - ValidationFailed: the report says why
        result.error = str(exc)
    manifest = json.loads((outdir / "manifest.json").read_text())
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "aws:cloudformation:stack":
            template_file = artifact["properties"]["templateFile"]
            result.templates[stack.stack_name] = json.loads((outdir / template_file).read_text())
    # Nested stack templates are assets of their parent; find them through the parent resource.
    for construct in stack.node.find_all():
        if NestedStack.is_nested_stack(construct):
            result.templates[f"{stack.stack_name}/{construct.node.id}"] = json.loads(
                (outdir / construct.template_file).read_text()
            )
    return result


def variable_clash(path: str, paths: set[str]) -> bool:
    """True when `path` puts a path variable next to a differently named one of `paths`.

    API Gateway allows one variable child per resource: a planned `/files/{fileId}` cannot sit
    beside the real `/files/{path+}`.
    """
    segments = path.strip("/").split("/")
    for other in paths:
        for mine, theirs in zip(segments, other.strip("/").split("/"), strict=False):
            if mine != theirs:
                if mine.startswith("{") and theirs.startswith("{"):
                    return True
                break
    return False


def synthetic_routes() -> tuple[Route, ...]:
    """The current route table plus ~45 routes shaped like the planned ones, in several groups."""
    routes = list(ROUTES)
    real_paths = {r.path for r in ROUTES}
    real_handlers = {r.handler for r in ROUTES}
    for tag, grants in SYNTHETIC_GROUPS.items():
        item = f"{tag[:-1] if tag.endswith('s') else tag}Id"
        base = f"/v1/projects/{{projectId}}/{tag}"
        handler = re.sub(r"[^a-z]", "_", tag)
        for method, path, suffix, status in (
            ("GET", base, "list", 200),
            ("POST", base, "create", 201),
            ("GET", f"{base}/{{{item}}}", "get", 200),
            ("DELETE", f"{base}/{{{item}}}", "delete", 200),
        ):
            if any(r.method == method and r.path == path for r in ROUTES) or f"{handler}_{suffix}" in real_handlers:
                continue  # built already: the real route stands in for the planned one
            if variable_clash(path, real_paths):
                continue  # the real routes took another shape
            routes.append(
                Route(
                    method,
                    path,
                    f"{handler}_{suffix}",
                    f"{suffix} {tag}",
                    scopes=("project:read",),
                    status=status,
                    group=tag,
                    tags=(tag,),
                    grants=grants,
                )
            )
    if "docs_openapi" not in real_handlers:  # the real route (GET /v1/openapi.json) stands in once built
        routes.append(
            Route(
                "GET",
                "/v1/docs/openapi.json",
                "docs_openapi",
                "OpenAPI document",
                authorized=False,
                category="none",
                group="docs",
            )
        )
    return tuple(routes)


@pytest.fixture(scope="session")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return placeholder_layer(tmp_path_factory.mktemp("layer"))


@pytest.fixture(scope="session")
def main(tmp_path_factory: pytest.TempPathFactory, layer_dir: Path) -> Synth:
    """The app as `make synth` builds it (cdk.json context, the real route table)."""
    return synthesize(tmp_path_factory.mktemp("cdk-main"), layer_dir)


UPCOMING_GRANTS = {"usage-keys:write": "CreateApiKey/CreateUsagePlanKey/DeleteApiKey for workspace usage keys"}


# Browser origins the synthetic app allows (corsAllowedOrigins), as `-c key=value` passes them.
SYNTHETIC_CORS_ORIGINS = ("https://app.example.com", "http://localhost:5173")


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory, layer_dir: Path) -> Synth:
    """About 80 routes in 17 groups, in dev mode with CORS origins (the other value of those settings)."""
    from infra import grants

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(grants, "GRANTS", {**grants.GRANTS, **UPCOMING_GRANTS})
        context = {"dev": "true", "corsAllowedOrigins": ",".join(SYNTHETIC_CORS_ORIGINS)}
        return synthesize(
            tmp_path_factory.mktemp("cdk-synthetic"), layer_dir, context=context, routes=synthetic_routes()
        )

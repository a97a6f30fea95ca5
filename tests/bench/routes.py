"""Cold-start scenarios for the routes that have no hand-written bare twin in bare/.

Each is one representative request (`ROUTE_EVENTS`). Its bare twin is generated: the bench
process serves the request once with Kiln's handler against the same emulated account, records
every AWS call it makes (service, operation, parameters) from a fresh container, and writes a
module that imports boto3 and makes exactly those calls with those parameters, then answers a
fixed JSON body: the same AWS work with no framework, by construction. A write replayed on
state that has moved on (a condition no longer true) fails at the service, which is the same
round trip; the twin ignores the error. A route whose request makes no AWS call gets a twin
that does not import boto3 either (its ratio compares Kiln's imports with `import json`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench.world import Scenario, World, _create_projects, reset_kiln, status_of
from tests.unit.conftest import principal_context, proxy_event

Event = Callable[[World], dict[str, Any]]


def _request(handler: str, *, path_params: dict[str, Callable[[World], str]] | None = None, body: Any = None) -> Event:
    def event(world: World) -> dict[str, Any]:
        from kiln.routes import ROUTES

        route = next(r for r in ROUTES if r.handler == handler)
        params = {name: value(world) for name, value in (path_params or {}).items()}
        path = route.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        authorizer = (
            principal_context(workspace_id=world.workspace_id, scopes=" ".join(route.scopes), tier="pro")
            if route.authorized
            else {}
        )
        return proxy_event(
            route.method,
            route.path,
            path,
            path_params=params or None,
            authorizer=authorizer,
            body=body(world) if callable(body) else body,
        )

    return event


def _project(world: World) -> str:
    if not hasattr(world, "_bench_project"):
        world._bench_project = _create_projects(world.workspace_id, 1, "Routes")[0]  # type: ignore[attr-defined]
    return world._bench_project  # type: ignore[attr-defined]


def _draft(world: World) -> str:
    """A new draft project of the key's workspace, for requests that move it on."""
    return _create_projects(world.workspace_id, 1, "Clarified")[0]


ROUTE_EVENTS: dict[str, Event] = {
    "workspaces_get": _request("workspaces_get", path_params={"workspaceId": lambda w: w.workspace_id}),
    "workspaces_list": _request("workspaces_list"),
    "api_keys_list": _request("api_keys_list"),
    "api_keys_create": _request("api_keys_create", body={"name": "bench", "scopes": ["project:read"]}),
    "users_list": _request("users_list"),
    "webhooks_list": _request("webhooks_list"),
    "admin_stats": _request("admin_stats"),
    "runs_list": _request("runs_list", path_params={"projectId": _project}),
    "specs_clarify": _request("specs_clarify", path_params={"projectId": _draft}),
    "oauth_metadata": _request("oauth_metadata"),
    "oauth_clients_list": _request("oauth_clients_list"),
    "docs_openapi": _request("docs_openapi"),
    "docs_ui": _request("docs_ui"),
}

TWIN = '''"""Generated bare twin of {handler}: the AWS calls Kiln's handler made, replayed with boto3."""

import json

{imports}CALLS = {calls!r}
_clients = {{}}


def handler(event, context=None):
{body}    return {{"statusCode": {status}, "headers": {{"Content-Type": "application/json"}},
            "body": json.dumps({{"success": True, "data": {{}}}}), "isBase64Encoded": False}}
'''
REPLAY = """    for service, operation, params in CALLS:
        if service not in _clients:
            _clients[service] = boto3.client(service)
        try:
            getattr(_clients[service], operation)(**params)
        except Exception:  # a condition no longer true: the same round trip
            pass
"""


def _recorded(module: Any, event: dict[str, Any]) -> tuple[list[tuple[str, str, dict[str, Any]]], int]:
    from botocore.client import BaseClient

    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        python_name = self.meta.method_to_api_mapping and next(
            (name for name, api in self.meta.method_to_api_mapping.items() if api == operation), operation
        )
        calls.append((self.meta.service_model.service_name, python_name, params))
        return original(self, operation, params)

    BaseClient._make_api_call = recording  # type: ignore[method-assign]
    try:
        answer = module.handler(event, None)
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
    return calls, status_of(answer)


def scenarios(world: World, bare_dir: Path, wanted: set[str]) -> dict[str, Scenario]:
    """Scenarios for the `wanted` handlers that have an event here, their twins written to
    `bare_dir`; a request that does not answer 2xx here is left out (reported as a failure)."""
    from kiln.routes import ROUTES

    labels = {r.handler: f"{r.method} {r.path}" for r in ROUTES}
    found: dict[str, Scenario] = {}
    for handler, event in ROUTE_EVENTS.items():
        if handler not in wanted:
            continue
        reset_kiln()  # a fresh container: the calls a cold start makes
        module = importlib.reload(importlib.import_module(f"kiln.handlers.{handler}"))
        try:
            calls, status = _recorded(module, event(world))
        except Exception as error:  # noqa: BLE001 - reported in the table, the others still run
            status, calls = 0, []
            print(f"  cold: no scenario for {handler}: {error!r}")
        if not 200 <= status < 300:
            print(f"  cold: no scenario for {handler}: answered {status}")
            continue
        imports = "import boto3\n\n" if calls else "\n"
        twin = TWIN.format(
            handler=handler,
            imports=imports,
            calls=json.loads(json.dumps(calls, default=str)),
            body=REPLAY if calls else "",
            status=status,
        )
        (bare_dir / f"bare_replay_{handler}.py").write_text(twin)
        found[handler] = Scenario(handler, labels[handler], f"replay_{handler}", event, status, calls_aws=bool(calls))
    reset_kiln()
    return found

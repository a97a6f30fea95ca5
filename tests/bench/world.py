"""The emulated AWS account every measurement runs against, and the requests it serves.

`provision()` creates Kiln's resources (table, bucket, cursor secret, usage plans, one state
machine) in whatever AWS boto3 currently reaches (a moto server through AWS_ENDPOINT_URL, or
moto's in-process mock), mints an API key and seeds projects. `SCENARIOS` holds one
representative request for each handler that has a hand-written bare twin in tests/bench/bare/;
every other route of the table is seeded and given a generated twin by tests/bench/routes.py.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tests.unit.conftest import principal_context, proxy_event

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
BARE_DIR = Path(__file__).resolve().parent / "bare"

TABLE = "kiln-bench"
BUCKET = "kiln-bench-bucket"
LIST_SIZE = 20  # projects in the listed workspace: exactly one default page
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/projects"

# Fake credentials and region, the same for the bench process and every subprocess.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
KILN_ENV = {"KILN_TABLE_NAME": TABLE, "KILN_BUCKET_NAME": BUCKET, "KILN_ENVIRONMENT": "local"}
# Variables that would make boto3 read something other than the values above.
_AWS_NOISE = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "KILN_CURSOR_SECRET",
    "KILN_CURSOR_SECRET_ARN",
    "KILN_USAGE_PLANS",
    "KILN_STATE_MACHINES",
)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set (and AWS noise removed), restored on exit."""
    saved = dict(os.environ)
    for name in _AWS_NOISE:
        os.environ.pop(name, None)
    os.environ.update(values)
    boto3.DEFAULT_SESSION = None
    reset_kiln()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        boto3.DEFAULT_SESSION = None
        reset_kiln()


def reset_kiln() -> None:
    """Forget every per-container cache of the runtime: what a new Lambda container starts with."""
    from kiln import config, services
    from kiln.adapters import aws

    aws.reset()
    config.reset()
    services.reset()


@dataclass
class World:
    secret: str  # bearer key of a pro workspace holding every scope
    workspace_id: str  # the key's workspace
    list_workspace: str  # LIST_SIZE projects, listed, read and renamed
    create_workspace: str  # receives every created project
    archive_workspace: str  # a pool of projects, one archived per request
    project_id: str  # read and renamed
    archive_pool: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # KILN_* variables a function needs

    def next_archivable(self) -> str:
        if not self.archive_pool:
            self.add_archivable(1)
        return self.archive_pool.pop()

    def add_archivable(self, count: int) -> None:
        self.archive_pool.extend(_create_projects(self.archive_workspace, count, "Archivable"))


def provision(archivable: int = 0) -> World:
    """Create Kiln's resources and data in the AWS boto3 reaches now; sets the KILN_* variables."""
    from kiln.adapters.dynamodb.projects import initial_counts
    from kiln.adapters.schema import create_table_kwargs
    from kiln.bootstrap import provision_admin
    from kiln.ids import new_id
    from kiln.tiers import TIERS

    boto3.client("dynamodb").create_table(**create_table_kwargs(TABLE))
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name="kiln-bench-cursor", SecretString=uuid.uuid4().hex * 2
    )["ARN"]
    apigw = boto3.client("apigateway")
    plans = {
        name: apigw.create_usage_plan(
            name=f"kiln-bench-{name}", throttle={"rateLimit": t.rate_per_second, "burstLimit": t.burst}
        )["id"]
        for name, t in TIERS.items()
    }
    state_machine = boto3.client("stepfunctions").create_state_machine(
        name="kiln-bench-selfcheck",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/kiln-bench",
    )["stateMachineArn"]
    env = {
        **KILN_ENV,
        "KILN_CURSOR_SECRET_ARN": secret_arn,
        "KILN_USAGE_PLANS": json.dumps(plans),
        "KILN_STATE_MACHINES": json.dumps({"selfcheck": state_machine}),
    }
    os.environ.update(env)
    reset_kiln()

    secret = provision_admin(tier="pro")
    from kiln import services

    authentication = services.current().access.authenticate(f"Bearer {secret}")
    assert authentication is not None, "the bench key does not authenticate"
    world = World(
        secret=secret,
        workspace_id=authentication.principal.workspace_id,
        list_workspace=new_id("workspace"),
        create_workspace=new_id("workspace"),
        archive_workspace=new_id("workspace"),
        project_id="",
        env=env,
    )
    # Workspaces made as the service makes them: complete counts at zero (their projects then
    # come through the service, which keeps the counts).
    for workspace_id in (world.list_workspace, world.create_workspace, world.archive_workspace):
        boto3.client("dynamodb").put_item(**initial_counts(workspace_id))
    world.project_id = _create_projects(world.list_workspace, LIST_SIZE, "Listed")[0]
    world.add_archivable(archivable)
    return world


def new_workspace(projects: int, label: str = "Seeded") -> str:
    """A workspace holding `projects` projects: the items and the totals the service writes
    (kiln.adapters.dynamodb.projects), written in batches: one by one through the service, each
    creation would be a transaction of its own, and the large workspaces hold 100,000."""
    from kiln.adapters.dynamodb.items import to_item, workspace_pk
    from kiln.adapters.dynamodb.projects import COUNTS_SK, ProjectStore
    from kiln.clock import iso, utc_now
    from kiln.domain.projects import Project, ProjectStatus
    from kiln.ids import new_id

    workspace_id = new_id("workspace")
    dynamodb = boto3.client("dynamodb")
    stamp = iso(utc_now())
    items = [
        ProjectStore.item(
            workspace_id,
            Project(
                id=new_id("project"),
                name=f"{label} project {i}",
                description=f"{label} project number {i}, seeded for the bench.",
                status=ProjectStatus.DRAFT,
                createdAt=stamp,
                updatedAt=stamp,
            ),
        )
        for i in range(projects)
    ]
    counts = {"pk": workspace_pk(workspace_id), "sk": COUNTS_SK, "type": "projectCounts"}
    items.append({**counts, "live": projects, "archived": 0, "complete": True})
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": to_item(item)}} for item in items[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={TABLE: batch})
    return workspace_id


def _create_projects(workspace_id: str, count: int, label: str) -> list[str]:
    from kiln import services
    from kiln.domain.projects import ProjectCreate

    service = services.current().projects
    return [
        service.create(
            workspace_id,
            ProjectCreate(
                name=f"{label} project {i}", description=f"{label} project number {i}, seeded for the bench."
            ),
        ).id
        for i in range(count)
    ]


# --- requests ---------------------------------------------------------------------------

ITEM = "/v1/projects/{projectId}"


def _as(workspace_id: str) -> dict[str, Any]:
    return principal_context(workspace_id=workspace_id, scopes="project:read project:write", tier="pro")


def item_event(method: str, workspace_id: str, project_id: str, **kwargs: Any) -> dict[str, Any]:
    return proxy_event(
        method,
        ITEM,
        f"/v1/projects/{project_id}",
        path_params={"projectId": project_id},
        authorizer=_as(workspace_id),
        **kwargs,
    )


def authorizer_event(world: World) -> dict[str, Any]:
    """The REQUEST event API Gateway sends the authorizer for a keyed GET /v1/projects, built
    by the local gateway's own builder (imported here, not at the top: the bench process's
    imports must not grow by the gateway's)."""
    from local.gateway import request_authorizer_event

    request = proxy_event("GET", "/v1/projects", headers={"Authorization": f"Bearer {world.secret}"})
    return request_authorizer_event(request, METHOD_ARN)


def health_event(world: World) -> dict[str, Any]:
    return proxy_event("GET", "/health", authorizer={})


def root_event(world: World) -> dict[str, Any]:
    return proxy_event("GET", "/", authorizer={})


def create_event(world: World) -> dict[str, Any]:
    return proxy_event(
        "POST",
        "/v1/projects",
        authorizer=_as(world.create_workspace),
        body={"name": "Bench project", "description": "A project created by the bench."},
    )


def list_page_event(world: World) -> dict[str, Any]:
    return proxy_event("GET", "/v1/projects", authorizer=_as(world.list_workspace))


def list_cursor_event(world: World, cursor: str | None = None, limit: int = 5) -> dict[str, Any]:
    query: dict[str, str | list[str]] = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    return proxy_event("GET", "/v1/projects", authorizer=_as(world.list_workspace), query=query)


def get_event(world: World) -> dict[str, Any]:
    return item_event("GET", world.list_workspace, world.project_id)


def update_event(world: World) -> dict[str, Any]:
    return item_event("PATCH", world.list_workspace, world.project_id, body={"name": "Renamed by the bench"})


def archive_event(world: World) -> dict[str, Any]:
    return item_event("DELETE", world.archive_workspace, world.next_archivable())


def sample_answer(question: dict[str, Any]) -> Any:
    """An answer to one clarifying question, of the kind its type asks for (the benches' seeds)."""
    return {
        "boolean": True,
        "single_choice": (question.get("options") or [""])[0],
        "multi_choice": (question.get("options") or [])[:2],
    }.get(question["type"], "Keep it simple.")


@dataclass(frozen=True)
class Scenario:
    """One handler, its bare twin and the representative request both serve."""

    handler: str  # module name under kiln.handlers
    label: str
    bare: str  # file name (without .py) under tests/bench/bare
    event: Callable[[World], dict[str, Any]]
    status: int  # expected statusCode (the authorizer answers a policy: 200 stands for it)
    calls_aws: bool = True  # False: neither side makes an AWS call, so neither imports boto3
    refusal: str = ""  # why `status` is not the route's success status (the bench cannot give what it needs)

    @property
    def module(self) -> str:
        return f"kiln.handlers.{self.handler}"


SCENARIOS: dict[str, Scenario] = {
    s.handler: s
    for s in (
        Scenario("health", "GET /health", "health", health_event, 200),
        Scenario("root", "GET /", "root", root_event, 200, calls_aws=False),
        Scenario("projects_create", "POST /v1/projects", "create", create_event, 201),
        Scenario("projects_list", "GET /v1/projects (page)", "list", list_page_event, 200),
        Scenario("projects_get", "GET /v1/projects/{id}", "get", get_event, 200),
        Scenario("projects_update", "PATCH /v1/projects/{id}", "update", update_event, 200),
        Scenario("projects_archive", "DELETE /v1/projects/{id}", "archive", archive_event, 200),
        Scenario("authorizer", "authorizer (REQUEST)", "authorizer", authorizer_event, 200),
    )
}


def status_of(result: Any) -> int:
    """statusCode of a proxy response; 200 for an authorizer's Allow policy."""
    if isinstance(result, dict):
        if "statusCode" in result:
            return int(result["statusCode"])
        if "principalId" in result:
            return 200
    return 0


def cold_scenarios() -> list[tuple[str, str, Scenario | None]]:
    """Every route of the route table (by its name), then the authorizer: (name, label, the
    hand-written scenario or None). Routes without one get a generated one (tests/bench/routes.py)."""
    from kiln.routes import ROUTES

    rows: list[tuple[str, str, Scenario | None]] = [
        (route.name, f"{route.method} {route.path}", SCENARIOS.get(route.name)) for route in ROUTES
    ]
    return [*rows, ("authorizer", SCENARIOS["authorizer"].label, SCENARIOS["authorizer"])]

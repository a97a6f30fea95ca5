"""The composition root: built lazily, any dependency replaceable, one per container."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from kiln import services
from kiln.adapters.aws import client
from kiln.clock import iso
from kiln.domain.projects import ProjectCreate
from kiln.domain.specs import SpecService
from kiln.handlers import projects_create, projects_get
from tests.fakes import QUESTIONS, FakeClock, FakeGenerator, FakeProjects, FakeSpecs
from tests.unit.conftest import parse, proxy_event

WORKSPACE = "ws_01m885m8rskqxxjknrtpgbxm1p"  # tests.unit.conftest's principal
FUNCTIONS = pathlib.Path(__file__).resolve().parents[3] / "functions"


def test_a_new_root_has_built_nothing_and_builds_each_dependency_once():
    root = services.build()

    assert vars(root) == {}
    assert root.specs is root.specs
    # specs needed its store and the clock, and nothing else: the generator waits for a call.
    assert set(vars(root)) == {"specs", "spec_store", "clock"}
    assert isinstance(root.specs, SpecService)


def test_services_are_built_over_the_dependencies_given_instead():
    clock, store, generator = FakeClock(step=timedelta(0)), FakeProjects(), FakeGenerator()
    root = services.build(clock=clock, project_store=store, spec_store=FakeSpecs(store), generator=generator)

    project = root.projects.create(WORKSPACE, ProjectCreate(name="App", description="An app to try the root."))
    clarification = root.specs.clarify(WORKSPACE, project.id)

    stored = store.get(WORKSPACE, project.id)  # the fake store, not DynamoDB
    assert stored is not None and stored.status == clarification.status == "clarifying"
    assert project.createdAt == iso(clock.now)  # the clock given, not the system's
    assert [q.id for q in clarification.questions] == [q.id for q in QUESTIONS]
    assert generator.calls == ["clarify"]


def test_an_unknown_dependency_is_refused_by_name():
    with pytest.raises(TypeError, match="no dependency project_sotre"):
        services.build(project_sotre=FakeProjects())


def test_every_attribute_of_the_root_can_be_replaced():
    assert {
        "clock",
        "generator",
        "build_generator",
        "sandbox",
        "repository",
        "project_store",
        "run_store",
        "build_workflow",
        "projects",
        "runs",
        "build_steps",
        "files",
    } <= set(services.dependencies())
    for name in services.dependencies():
        sentinel = object()
        assert getattr(services.build(**{name: sentinel}), name) is sentinel


def test_current_is_one_root_until_another_is_used_or_it_is_reset():
    first = services.current()
    assert services.current() is first

    given = services.build(generator=FakeGenerator())
    assert services.use(given) is given
    assert services.current() is given

    services.reset()
    fresh = services.current()
    assert fresh is not given and fresh is not first and vars(fresh) == {}


def test_threads_racing_for_the_first_root_all_get_the_same_one():
    start = threading.Barrier(8)
    seen: list[services.Services] = []

    def first_use() -> None:
        start.wait()
        seen.append(services.current())

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len({id(root) for root in seen}) == 1


def _get_project(project_id: str) -> tuple[int, dict]:
    return parse(
        projects_get.handler(
            proxy_event(
                "GET", "/v1/projects/{projectId}", f"/v1/projects/{project_id}", path_params={"projectId": project_id}
            )
        )
    )


@pytest.mark.usefixtures("cloud")  # the pipeline's rate limiter still counts in (moto's) DynamoDB
def test_handlers_are_served_by_the_root_in_use():
    store = FakeProjects()
    services.use(services.build(project_store=store))

    status, body = parse(
        projects_create.handler(
            proxy_event("POST", "/v1/projects", body={"name": "Fake", "description": "Kept by a fake store."})
        )
    )
    assert status == 201, body
    project_id = body["data"]["id"]
    stored = store.get(WORKSPACE, project_id)
    assert stored is not None and stored.name == "Fake"
    assert _get_project(project_id)[0] == 200

    services.reset()  # the container's own root: DynamoDB, where the project never was
    status, body = _get_project(project_id)
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"


def test_the_builtin_generator_serves_builds_too():
    root = services.build()
    assert root.build_generator is root.generator and root.generator.name == "builtin"


@pytest.mark.usefixtures("cloud")
def test_the_cursor_secret_is_fetched_once_per_root():
    fetched: list[str] = []
    client("secretsmanager").meta.events.register(
        "before-call.secrets-manager.GetSecretValue", lambda model, **_: fetched.append(model.name)
    )
    root = services.build()

    cursor = root.cursors.encode("projects", {"after": 1})
    assert root.cursors.decode("projects", cursor) == {"after": 1}
    assert len(fetched) == 1

    # A new root is a new container: it fetches the secret again, and reads the same cursor.
    assert services.build().cursors.decode("projects", cursor) == {"after": 1}
    assert len(fetched) == 2


def test_the_root_loads_neither_pydantic_nor_boto3_until_a_service_needs_them():
    # The authorizer and /health import kiln.services at their cold start.
    code = (
        "import sys\n"
        "from kiln import services\n"
        "root = services.current()\n"
        "assert root.clock() is not None and root.repository is not None\n"
        "heavy = sorted(m for m in ('pydantic', 'boto3', 'botocore', 'kiln.domain') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=FUNCTIONS, capture_output=True)

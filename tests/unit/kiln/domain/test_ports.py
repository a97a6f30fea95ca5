"""Every port the domain declares has a fake in tests/fakes that fits it.

A port is a `typing.Protocol` in kiln.domain: what a service takes and an adapter (or a fake)
provides. A new port without a fake fails the first test; a port whose methods change fails
the second until its fake follows. The check is structural, as mypy's is, without mypy:
every method and property of the port exists on the fake, and the fake accepts every call
the port allows (same positional parameters in order, same keyword names, a default wherever
the port has one, nothing more that is required).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any, Protocol

import pytest

import kiln.domain
from kiln.domain import git_paths
from kiln.domain.access import AccessRepository, UsageKeys
from kiln.domain.archive_steps import ArchiveLedger, ProjectCatalog, Storage
from kiln.domain.archives import Sink
from kiln.domain.authentication import GrantChecker, PersonLike, SessionResolver, WorkspaceReader
from kiln.domain.authentication import PersonReader as AuthenticationPersonReader
from kiln.domain.build_steps import BuildLedger
from kiln.domain.builds import EventType, TaskStatus
from kiln.domain.custom_events import CustomEventLog
from kiln.domain.deliveries import DeliveryLog, DeliveryQueue, Webhooks
from kiln.domain.generation import Generator, Question, Repairs
from kiln.domain.live import ConnectionStore, EventReader, Outbox, RunFinder
from kiln.domain.model_generation import Exchange
from kiln.domain.oauth import OAuthRepository, PersonReader
from kiln.domain.operations import (
    ArchiveWorkflow,
    ExportSources,
    Operation,
    OperationKind,
    OperationStatus,
    OperationStore,
    Presigner,
    RunStatusReader,
    SourceResolver,
    Upload,
)
from kiln.domain.people import PeopleRepository, Person
from kiln.domain.previews import DeploymentStore, PreviewDeployer, PreviewWorkflow, RunReader
from kiln.domain.project_bodies import NewProject, ProjectChanges
from kiln.domain.project_records import NewProjectRequest, ProjectChangesRequest
from kiln.domain.projects import (
    CursorRequest,
    CursorResult,
    PageRequest,
    PageResult,
    Project,
    ProjectListFilter,
    ProjectMissing,
    ProjectRepository,
    ProjectStatus,
    ProjectUpdate,
    StatusConflict,
)
from kiln.domain.repository import ObjectStore, RefStore
from kiln.domain.runs import (
    ConcurrencyLimitReached,
    EventFilter,
    EventLog,
    NewRun,
    ProjectReader,
    Run,
    RunChanged,
    RunListFilter,
    RunRepository,
    RunStatus,
    Task,
    WorkflowStarter,
)
from kiln.domain.sessions import SessionRepository, SignInAttempts
from kiln.domain.specs import ChangedConcurrently, SpecRepository, SpecVersion
from kiln.domain.stats import CounterStore
from kiln.domain.verification import Sandbox
from kiln.domain.webhooks import Sender, WebhookRepository
from tests.fakes import (
    FakeAccess,
    FakeCatalog,
    FakeConnections,
    FakeCounters,
    FakeCustomEvents,
    FakeDeliveryLog,
    FakeDeliveryQueue,
    FakeDeployer,
    FakeDeployments,
    FakeEvents,
    FakeExchange,
    FakeGenerator,
    FakeGrants,
    FakeLiveEvents,
    FakeOAuth,
    FakeObjects,
    FakeOperations,
    FakeOutbox,
    FakePeople,
    FakePresigner,
    FakeProjects,
    FakeRefs,
    FakeRepairingGenerator,
    FakeRunFinder,
    FakeRuns,
    FakeSandbox,
    FakeSender,
    FakeSessionResolver,
    FakeSessions,
    FakeSink,
    FakeSpecs,
    FakeStorage,
    FakeSubscriptions,
    FakeUsageKeys,
    FakeWebhooks,
    FakeWorkflow,
    FakeWorld,
    two_tasks,
)

FAKES: dict[type, tuple[type, ...]] = {
    ProjectRepository: (FakeProjects,),
    SpecRepository: (FakeSpecs,),
    RunRepository: (FakeRuns,),
    ProjectReader: (FakeRuns,),
    BuildLedger: (FakeRuns,),
    RunStatusReader: (FakeRuns,),
    EventLog: (FakeEvents,),
    WorkflowStarter: (FakeWorkflow,),
    ArchiveWorkflow: (FakeWorkflow,),
    OperationStore: (FakeOperations,),
    ArchiveLedger: (FakeOperations,),
    ProjectCatalog: (FakeCatalog,),
    Presigner: (FakePresigner,),
    Storage: (FakeStorage,),
    Sink: (FakeSink,),
    ObjectStore: (FakeObjects,),
    RefStore: (FakeRefs,),
    AccessRepository: (FakeAccess,),
    UsageKeys: (FakeUsageKeys,),
    PeopleRepository: (FakePeople,),
    WebhookRepository: (FakeWebhooks,),
    Sender: (FakeSender,),
    CustomEventLog: (FakeCustomEvents,),
    SessionRepository: (FakeSessions,),
    SignInAttempts: (FakeSessions,),
    OAuthRepository: (FakeOAuth,),
    PersonReader: (FakePeople,),
    Generator: (FakeGenerator, FakeRepairingGenerator),
    Repairs: (FakeRepairingGenerator,),
    Sandbox: (FakeSandbox,),
    Exchange: (FakeExchange,),
    DeploymentStore: (FakeDeployments,),
    PreviewDeployer: (FakeDeployer,),
    PreviewWorkflow: (FakeWorkflow,),
    RunReader: (FakeRuns,),
    ConnectionStore: (FakeConnections,),
    Outbox: (FakeOutbox,),
    RunFinder: (FakeRunFinder,),
    EventReader: (FakeLiveEvents, FakeEvents),
    CounterStore: (FakeCounters,),
    DeliveryLog: (FakeDeliveryLog,),
    DeliveryQueue: (FakeDeliveryQueue,),
    Webhooks: (FakeSubscriptions,),
    AuthenticationPersonReader: (FakePeople,),
    WorkspaceReader: (FakeAccess,),
    GrantChecker: (FakeGrants,),
    SessionResolver: (FakeSessionResolver,),
}

# Protocols the domain implements itself, whose implementations run in tests as they are: a
# strategy inside one module, the export resolver that works on the repository and run fakes,
# and the person the credential chain reads (a Protocol of attributes only, so that the chain
# needs nothing else of kiln.domain.people; the real Person is what every test hands it).
IMPLEMENTED_IN_DOMAIN: dict[type, tuple[type, ...]] = {
    git_paths.ContentCheck: (git_paths._GitmodulesCheck, git_paths._GitattributesCheck),
    SourceResolver: (ExportSources,),
    PersonLike: (Person,),
    # A POST or PATCH body: the documented model, or its check's result without pydantic
    # (ProjectCreate's fields are pydantic's, not class attributes: mypy checks that one fits).
    NewProjectRequest: (NewProject,),
    ProjectChangesRequest: (ProjectUpdate, ProjectChanges),
}


def domain_protocols() -> set[type]:
    found: set[type] = set()
    for module_info in pkgutil.walk_packages(kiln.domain.__path__, "kiln.domain."):
        module = importlib.import_module(module_info.name)
        for _, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and getattr(value, "_is_protocol", False)
                and value is not Protocol
            ):
                found.add(value)
    return found


def _members(protocol: type) -> dict[str, Any]:
    names: set[str] = set()
    for base in protocol.__mro__:
        if getattr(base, "_is_protocol", False) and base is not Protocol:
            names |= {name for name in vars(base) if not name.startswith("_")}
    return {name: inspect.getattr_static(protocol, name) for name in sorted(names)}


def _callable(member: Any) -> Any:
    return member.__func__ if isinstance(member, staticmethod | classmethod) else member


def _parameters(function: Any) -> list[inspect.Parameter]:
    parameters = list(inspect.signature(function).parameters.values())
    return parameters[1:] if parameters and parameters[0].name in ("self", "cls") else parameters


def signature_problems(protocol: type, fake: type) -> list[str]:
    """How `fake` fails to fit `protocol` structurally; empty when it fits."""
    problems: list[str] = []
    for name, member in _members(protocol).items():
        try:
            mine = inspect.getattr_static(fake, name)
        except AttributeError:
            problems.append(f"{fake.__name__} has no {name}")
            continue
        if isinstance(member, property):
            if callable(_callable(mine)) and not isinstance(mine, property):
                problems.append(f"{fake.__name__}.{name} is a method; {protocol.__name__} has a property")
            continue
        if not callable(_callable(mine)) or isinstance(mine, property):
            problems.append(f"{fake.__name__}.{name} is not a method")
            continue
        problems += [
            f"{fake.__name__}.{name}: {p}"
            for p in _call_problems(_parameters(_callable(member)), _parameters(_callable(mine)))
        ]
    return problems


def _call_problems(port: list[inspect.Parameter], fake: list[inspect.Parameter]) -> list[str]:
    P = inspect.Parameter
    problems: list[str] = []
    positional = [p for p in port if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    fake_positional = [p for p in fake if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    takes_args = any(p.kind is P.VAR_POSITIONAL for p in fake)
    takes_kwargs = any(p.kind is P.VAR_KEYWORD for p in fake)
    matched: set[str] = set()
    for index, wanted in enumerate(positional):
        if index >= len(fake_positional):
            if not takes_args:
                problems.append(f"takes no positional parameter {index + 1} ({wanted.name})")
            continue
        given = fake_positional[index]
        matched.add(given.name)
        if wanted.kind is P.POSITIONAL_OR_KEYWORD and (given.name != wanted.name or given.kind is P.POSITIONAL_ONLY):
            problems.append(f"parameter {index + 1} is {given.name!r}, the port's is {wanted.name!r}")
        problems += _default_problems(wanted, given)
    for wanted in (p for p in port if p.kind is P.KEYWORD_ONLY):
        given = next(
            (p for p in fake if p.name == wanted.name and p.kind in (P.KEYWORD_ONLY, P.POSITIONAL_OR_KEYWORD)), None
        )
        if given is None:
            if not takes_kwargs:
                problems.append(f"takes no keyword {wanted.name!r}")
            continue
        matched.add(given.name)
        problems += _default_problems(wanted, given)
    for extra in fake:
        if (
            extra.name not in matched
            and extra.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD)
            and extra.default is P.empty
        ):
            problems.append(f"requires {extra.name!r}, which the port does not pass")
    return problems


def _default_problems(wanted: inspect.Parameter, given: inspect.Parameter) -> list[str]:
    if wanted.default is inspect.Parameter.empty:
        return []
    if given.default is inspect.Parameter.empty:
        return [f"{given.name!r} has no default; the port's is {wanted.default!r}"]
    if given.default != wanted.default:
        return [f"{given.name!r} defaults to {given.default!r}; the port's to {wanted.default!r}"]
    return []


# --- the checks -----------------------------------------------------------------------------------


def test_every_port_of_the_domain_has_a_fake():
    ports = domain_protocols()
    assert ports, "no Protocol found in kiln.domain: the discovery is broken"
    missing = sorted(p.__qualname__ for p in ports - set(FAKES) - set(IMPLEMENTED_IN_DOMAIN))
    assert not missing, f"ports without a fake in tests/fakes (add one and list it in FAKES): {missing}"
    stale = sorted(p.__qualname__ for p in (set(FAKES) | set(IMPLEMENTED_IN_DOMAIN)) - ports)
    assert not stale, f"listed here but no longer a Protocol of kiln.domain: {stale}"


@pytest.mark.parametrize(
    "port", sorted({**FAKES, **IMPLEMENTED_IN_DOMAIN}, key=lambda p: p.__qualname__), ids=lambda p: p.__qualname__
)
def test_each_fake_fits_its_port(port):
    for implementation in {**FAKES, **IMPLEMENTED_IN_DOMAIN}[port]:
        assert signature_problems(port, implementation) == [], implementation.__name__


def test_runtime_checkable_ports_recognise_their_fakes():
    assert isinstance(FakeRepairingGenerator(), Repairs)
    assert not isinstance(FakeGenerator(), Repairs)  # the built-in kind: repair declines


# --- the check itself fails when it should ----------------------------------------------------------


class _Port(Protocol):
    @property
    def name(self) -> str: ...

    def get(self, ref: str, consistent: bool = False) -> str | None: ...

    def put(self, data: bytes, /, *, limit: int = 10) -> None: ...


class _Fits:
    name = "a fake may hold the property as a plain attribute"

    def get(self, ref: str, consistent: bool = False, trace: bool = False) -> str | None:
        return None

    def put(self, chunk: bytes, limit: int = 10) -> None:
        return None


class _Wrong:
    def name(self) -> str:
        return ""

    def get(self, key: str, consistent: bool = True) -> str | None:
        return None

    def put(self, data: bytes, /, *, limit: int, strict: bool) -> None:
        return None


def test_the_structural_check_accepts_what_fits_and_names_each_misfit():
    assert signature_problems(_Port, _Fits) == []
    assert signature_problems(_Port, _Wrong) == [
        "_Wrong.get: parameter 1 is 'key', the port's is 'ref'",
        "_Wrong.get: 'consistent' defaults to True; the port's to False",
        "_Wrong.name is a method; _Port has a property",
        "_Wrong.put: 'limit' has no default; the port's is 10",
        "_Wrong.put: requires 'strict', which the port does not pass",
    ]
    assert signature_problems(_Port, object) == ["object has no get", "object has no name", "object has no put"]


# --- and behave as the adapters do -----------------------------------------------------------------------
#
# The same calls against a fake and against its DynamoDB adapter (on moto) must give the same
# answers, refusals included: a fake that accepted what the table refuses would let a use-case
# test pass for a service that fails in production.

WS = "ws_01m885m8rskqxxjknrtpgbxm1p"
STAMP = "2026-11-25T10:00:00.000Z"


def _project(suffix: str, status: str = "draft", **fields: Any) -> Project:
    return Project(
        id=f"proj_01m885m8rskqxxjknrtpgbx{suffix}",
        name=f"Project {suffix}",
        description=f"About {suffix.upper()}",
        status=status,
        createdAt=STAMP,
        updatedAt=STAMP,
        **fields,
    )


def _outcome(call: Callable[[], Any]) -> Any:
    """What a call answered, comparable across implementations: its result or its refusal."""
    try:
        result = call()
    except (StatusConflict, RunChanged) as refusal:
        status = getattr(refusal, "current", None) or getattr(refusal, "project_status", None)
        return type(refusal).__name__, status.value if status else None
    except ChangedConcurrently as refusal:
        return "ChangedConcurrently", refusal.current.status.value if refusal.current else None
    except (ProjectMissing, ConcurrencyLimitReached) as refusal:
        return type(refusal).__name__
    if isinstance(result, list | tuple):
        return [_plain(item) for item in result]
    return _plain(result)


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, PageResult | CursorResult):
        return [p.id for p in value.items]
    return value


def _table_scenario(projects: Any, specs: Any, runs: Any, events: Any) -> list[Any]:
    seen: list[Any] = []
    draft, other, approved = (
        _project("m1a"),
        _project("m1b"),
        _project("m1c", "approved", specVersion=1, approvedAt=STAMP),
    )
    for project in (draft, other, approved):
        projects.insert(WS, project)
    # Guarded updates.
    seen.append(
        _outcome(
            lambda: projects.update(WS, "proj_01m885m8rskqxxjknrtpgbxzzz", {"name": "x"}, frozenset(ProjectStatus))
        )
    )
    seen.append(_outcome(lambda: projects.update(WS, draft.id, {"name": "x"}, frozenset({ProjectStatus.APPROVED}))))
    seen.append(
        _outcome(
            lambda: projects.update(
                WS, other.id, {"status": ProjectStatus.ARCHIVED, "archivedAt": STAMP}, frozenset(ProjectStatus)
            )
        )
    )
    # Listing: newest first, archived left out, search, both modes.
    seen.append(_outcome(lambda: projects.list_page(WS, ProjectListFilter(), PageRequest(1, 5))))
    seen.append(projects.list_page(WS, ProjectListFilter(search="about m1"), PageRequest(2, 1)).total)
    seen.append(
        _outcome(lambda: projects.list_page(WS, ProjectListFilter(status=ProjectStatus.ARCHIVED), PageRequest(1, 5)))
    )
    cursor = projects.list_cursor(WS, ProjectListFilter(), CursorRequest(1, None))
    seen.append([_plain(cursor), _plain(projects.list_cursor(WS, ProjectListFilter(), CursorRequest(1, cursor.after)))])
    # The spec workflow's writes, guarded by the revision.
    state = specs.load(WS, draft.id)
    seen.append(state.revision)
    question = Question(id="audience", question="Who?", type="boolean")
    specs.save_questions(WS, state, [question], {"status": ProjectStatus.CLARIFYING})
    seen.append(_outcome(lambda: specs.save_questions(WS, state, [question], {"status": ProjectStatus.CLARIFYING})))
    fresh = specs.load(WS, draft.id)
    seen.append((fresh.revision, [q.model_dump() for q in fresh.questions]))
    version = SpecVersion(version=1, createdAt=STAMP, generator="fake", documents={"SPEC.md": "# Spec\n"})
    changes = {"status": ProjectStatus.SPEC_REVIEW, "specVersion": 1, "answers": {"audience": True}}
    seen.append(_outcome(lambda: specs.save_version(WS, state, version, changes)))
    specs.save_version(WS, fresh, version, changes)
    seen.append(_outcome(lambda: specs.save_version(WS, specs.load(WS, draft.id), version, changes)))
    seen.append(_outcome(lambda: specs.approve(WS, specs.load(WS, draft.id), 2, {"approvedAt": STAMP})))
    specs.approve(WS, specs.load(WS, draft.id), 1, {"status": ProjectStatus.APPROVED, "approvedAt": STAMP})
    seen.append(_outcome(lambda: specs.list_versions(WS, draft.id)))
    seen.append(specs.load(WS, draft.id).answers)
    # Runs: the creation transaction, guarded status moves, finishing once, the build slots.
    target = runs.load_for_build(WS, approved.id)
    seen.append((target.revision, target.run_count))
    run = Run(
        id="run_01m885m8rskqxxjknrtpgbxm1a",
        projectId=approved.id,
        runNumber=1,
        status=RunStatus.QUEUED,
        trigger="manual",
        callbackId="run_01m885m8rskqxxjknrtpgbxm1a",
        specVersion=1,
        createdAt=STAMP,
        updatedAt=STAMP,
    )
    seen.append(_outcome(lambda: runs.create(WS, NewRun(run, target.revision + 1, None))))
    runs.create(WS, NewRun(run, target.revision, 1))
    second = run.model_copy(
        update={
            "id": "run_01m885m8rskqxxjknrtpgbxm1b",
            "projectId": draft.id,
            "callbackId": "run_01m885m8rskqxxjknrtpgbxm1b",
        }
    )
    seen.append(_outcome(lambda: runs.create(WS, NewRun(second, runs.load_for_build(WS, draft.id).revision, 1))))
    seen.append(runs.set_status(WS, approved.id, run.id, RunStatus.EXECUTING, frozenset({RunStatus.DECOMPOSING})))
    seen.append(
        runs.set_status(
            WS, approved.id, run.id, RunStatus.DECOMPOSING, frozenset({RunStatus.QUEUED}), {"tasksTotal": 2}
        )
    )
    seen.append(
        runs.set_status(
            WS, approved.id, "run_01m885m8rskqxxjknrtpgbxzzz", RunStatus.DECOMPOSING, frozenset({RunStatus.QUEUED})
        )
    )
    plan = two_tasks()
    runs.put_tasks(
        WS,
        [Task(id=t.id, runId=run.id, definition=t, status=TaskStatus.PENDING, branchName=t.branch) for t in plan.tasks],
    )
    seen.append([t.id for t in runs.tasks_named(WS, run.id, ["task-002", "task-404", "task-001"])])
    seen.append(
        runs.update_task(
            WS, run.id, "task-001", {"status": "succeeded"}, only_if_status=frozenset({TaskStatus.RUNNING})
        )
    )
    seen.append(runs.update_task(WS, run.id, "task-001", {"status": "running"}, increment_attempts=True))
    seen.append(
        runs.update_task(WS, run.id, "task-009", {"status": "running"}, only_if_status=frozenset({TaskStatus.PENDING}))
    )
    runs.count_task(WS, approved.id, run.id, "tasksSucceeded")
    seen.append([(t.id, t.status.value, t.attempts) for t in runs.tasks(WS, run.id)])
    for event_type, task_id in (
        (EventType.RUN_STARTED, None),
        (EventType.TASK_STARTED, "task-001"),
        (EventType.TASK_STARTED, "task-002"),
    ):
        seen.append(events.append(WS, approved.id, run.id, event_type, task_id=task_id).id)
    seen.append(
        _outcome(
            lambda: [e.id for e in events.list(WS, run.id, after=1, limit=10, where=EventFilter(task_id="task-002"))]
        )
    )
    seen.append(
        _outcome(
            lambda: [
                e.id
                for e in events.list(WS, run.id, limit=1, where=EventFilter(types=frozenset({EventType.TASK_STARTED})))
            ]
        )
    )
    runs.cancel_tasks(WS, run.id, STAMP)
    seen.append([(t.id, t.status.value) for t in runs.tasks(WS, run.id)])
    projects.update(WS, approved.id, {"name": "Renamed"}, frozenset(ProjectStatus))  # a PATCH while it builds
    seen.append(
        runs.finish(
            WS, approved.id, run.id, RunStatus.CANCELLED, ProjectStatus.APPROVED, {"finishedAt": STAMP, "error": None}
        )
    )
    seen.append(runs.finish(WS, approved.id, run.id, RunStatus.FAILED, ProjectStatus.FAILED, {"finishedAt": STAMP}))
    seen.append(_outcome(lambda: runs.get(WS, approved.id, run.id)))
    seen.append(runs.run_state(WS, approved.id, run.id))
    seen.append(_outcome(lambda: projects.get(WS, approved.id)))
    # The slot came back: another project's run starts under a limit of one.
    seen.append(_outcome(lambda: runs.create(WS, NewRun(second, runs.load_for_build(WS, draft.id).revision, 1))))
    projects.update(WS, draft.id, {"status": ProjectStatus.ARCHIVED}, frozenset(ProjectStatus))
    seen.append(runs.finish(WS, draft.id, second.id, RunStatus.FAILED, ProjectStatus.FAILED, {"finishedAt": STAMP}))
    seen.append((projects.get(WS, draft.id).status.value, runs.get(WS, draft.id, second.id).status.value))
    seen.append(_outcome(lambda: runs.page(WS, draft.id, RunListFilter(), 1, 5)))
    return seen


def test_the_table_fakes_answer_as_the_dynamodb_adapters_do(cloud):
    from kiln.adapters.dynamodb.projects import ProjectStore
    from kiln.adapters.dynamodb.runs import EventStore, RunStore
    from kiln.adapters.dynamodb.specs import SpecStore

    fakes = FakeWorld()
    expected = _table_scenario(ProjectStore(), SpecStore(), RunStore(), EventStore())
    assert _table_scenario(fakes.projects, fakes.specs, fakes.runs, fakes.events) == expected


def _refs_and_operations_scenario(refs: Any, operations: Any) -> list[Any]:
    one, two = "1" * 40, "2" * 40
    seen = [
        refs.compare_and_swap("main", one, two),
        refs.compare_and_swap("main", None, one),
        refs.compare_and_swap("main", None, two),
        refs.compare_and_swap("main", one, two),
        refs.compare_and_swap("main", one, two),  # the SDK's retry of a move whose answer was lost
        refs.compare_and_swap("feat/x", None, one),
        refs.compare_and_swap("feat/x", None, one),
        refs.get("main"),
        refs.list_refs(),
        refs.get("nope"),
    ]
    upload = Upload(
        id="upl_01m885m8rskqxxjknrtpgbxm1p",
        filename="a.zip",
        contentType="application/zip",
        sizeBytes=3,
        objectKey="uploads/a",
        createdAt=STAMP,
        expiresAt=STAMP,
    )
    operations.put_upload(WS, upload)
    first = Operation(
        id="imp_01m885m8rskqxxjknrtpgbxm1a",
        kind=OperationKind.IMPORT,
        status=OperationStatus.PROCESSING,
        uploadId=upload.id,
        createdAt=STAMP,
        updatedAt=STAMP,
    )
    second = first.model_copy(update={"id": "imp_01m885m8rskqxxjknrtpgbxm1b"})
    seen += [
        operations.put_consuming(WS, first, upload.id),
        operations.put_consuming(WS, second, upload.id),
        _plain(operations.get(WS, second.id)),
        _plain(operations.get_upload(WS, upload.id)),
    ]
    done = first.model_copy(update={"status": OperationStatus.SUCCEEDED})
    seen += [
        operations.finish(WS, done),
        operations.finish(WS, done.model_copy(update={"status": OperationStatus.FAILED})),
        operations.finish(WS, second),
        _plain(operations.get(WS, first.id)),
        operations.kind_of(WS, first.id),
        operations.kind_of(WS, second.id),
        operations.remember_kiln_export(WS, "p", "c", "exp_1"),
        operations.current_kiln_export(WS, "p", "c"),
    ]
    return seen


def test_the_ref_and_operation_fakes_answer_as_their_adapters_do(cloud):
    from kiln.adapters.dynamodb.operations import OperationItems
    from kiln.adapters.dynamodb.refs import RefItems

    expected = _refs_and_operations_scenario(RefItems(WS, "proj_01m885m8rskqxxjknrtpgbxm1p"), OperationItems())
    assert _refs_and_operations_scenario(FakeRefs(), FakeOperations()) == expected

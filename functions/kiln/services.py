"""Composition root: the domain services wired to their AWS adapters, one root per container.

    services.current().projects.get(workspace_id, project_id)   # a handler or a worker
    root = services.build(generator=FakeGenerator())            # a test: any dependency replaced
    services.use(root)                                          # ... and handlers see it

`Services` is the whole wiring. Each attribute (an adapter, a port's implementation, a domain
service) is built on first access and kept by that root, so a function builds only what its
requests use: the authorizer and /health never import pydantic or the domain modules they do not
need, and no boto3 client exists before a call needs one. `build(**overrides)` returns a new
root in which the named attributes are given instead of built; everything built from them (the
services over a fake store, the steps over a fake generator) uses them. `current()` is the
container's root, built on first use; `use(root)` installs another and `reset()` forgets it, so
tests swap the whole root instead of clearing caches one by one.

Settings come from kiln.config, read when an attribute is first built, that is after the
function's module has loaded (and checked) its settings at its cold start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from kiln import config

if TYPE_CHECKING:  # imported where used: the authorizer and /health never load pydantic
    from kiln.adapters.apigateway import UsageKeyStore
    from kiln.adapters.dynamodb.access import AccessStore
    from kiln.adapters.dynamodb.catalog import ProjectCatalog
    from kiln.adapters.dynamodb.operations import OperationItems
    from kiln.adapters.dynamodb.people import PeopleStore
    from kiln.adapters.dynamodb.projects import ProjectStore
    from kiln.adapters.dynamodb.runs import EventStore, RunStore
    from kiln.adapters.dynamodb.specs import SpecStore
    from kiln.adapters.lambda_invoke import LambdaSandbox
    from kiln.adapters.s3_transfer import ArchiveStorage, Presigned
    from kiln.adapters.stepfunctions import ArchiveWorkflow, BuildWorkflow
    from kiln.clock import Clock
    from kiln.cursors import CursorCodec
    from kiln.domain.access import AccessService
    from kiln.domain.archive_steps import ArchiveSteps
    from kiln.domain.build_steps import BuildSteps, Verifier
    from kiln.domain.files import FileService
    from kiln.domain.generation import Generator
    from kiln.domain.operations import OperationService
    from kiln.domain.people import PeopleService
    from kiln.domain.projects import ProjectService
    from kiln.domain.repository import Repository
    from kiln.domain.runs import RunService
    from kiln.domain.specs import SpecService

RepositoryFactory = Callable[[str, str], "Repository"]
T = TypeVar("T")


class Services:
    """Everything a Kiln function uses, built lazily; `build()` makes one, `current()` serves it.

    The attributes come in two kinds, and either can be replaced through `build(**overrides)`:
    what talks to the outside world (stores, workflows, storage, the sandbox invoker, the
    generators, the clock, the signing key) and the domain services built over it.
    """

    def __init__(self, **overrides: Any) -> None:
        unknown = sorted(set(overrides) - set(dependencies()))
        if unknown:
            raise TypeError(f"Services has no dependency {', '.join(unknown)}; known: {', '.join(dependencies())}")
        # A given value sits where cached_property would store the built one, so it is never built.
        vars(self).update(overrides)

    # --- time and secrets --------------------------------------------------------------------

    @cached_property
    def clock(self) -> Clock:
        from kiln.clock import utc_now

        return utc_now

    @cached_property
    def sleep(self) -> Callable[[float], None]:
        import time

        return time.sleep

    @cached_property
    def cursor_signing_key(self) -> Callable[[], bytes]:
        """The key that signs list cursors, fetched from Secrets Manager on first use by this root."""
        from kiln.adapters.secrets import cursor_signing_key

        return _once(cursor_signing_key)

    @cached_property
    def openai_api_key(self) -> Callable[[], str | None]:
        """The openai-compatible endpoint's key, fetched on first use by this root."""
        from kiln.adapters.secrets import openai_api_key

        return _once(openai_api_key)

    # --- adapters: one per AWS service and item family ----------------------------------------

    @cached_property
    def project_store(self) -> ProjectStore:
        from kiln.adapters.dynamodb.projects import ProjectStore

        return ProjectStore()

    @cached_property
    def access_store(self) -> AccessStore:
        from kiln.adapters.dynamodb.access import AccessStore

        return AccessStore()

    @cached_property
    def people_store(self) -> PeopleStore:
        from kiln.adapters.dynamodb.people import PeopleStore

        return PeopleStore()

    @cached_property
    def usage_keys(self) -> UsageKeyStore:
        from kiln.adapters.apigateway import UsageKeyStore

        return UsageKeyStore()

    @cached_property
    def spec_store(self) -> SpecStore:
        from kiln.adapters.dynamodb.specs import SpecStore

        return SpecStore()

    @cached_property
    def run_store(self) -> RunStore:
        """Runs and the project reads they need (RunRepository, ProjectReader, BuildLedger,
        RunStatusReader): one adapter over the same items."""
        from kiln.adapters.dynamodb.runs import RunStore

        return RunStore()

    @cached_property
    def event_store(self) -> EventStore:
        from kiln.adapters.dynamodb.runs import EventStore

        return EventStore(self.clock)

    @cached_property
    def operation_store(self) -> OperationItems:
        from kiln.adapters.dynamodb.operations import OperationItems

        return OperationItems()

    @cached_property
    def catalog(self) -> ProjectCatalog:
        from kiln.adapters.dynamodb.catalog import ProjectCatalog

        return ProjectCatalog()

    @cached_property
    def build_workflow(self) -> BuildWorkflow:
        from kiln.adapters.stepfunctions import BuildWorkflow

        return BuildWorkflow()

    @cached_property
    def archive_workflow(self) -> ArchiveWorkflow:
        from kiln.adapters.stepfunctions import ArchiveWorkflow

        return ArchiveWorkflow()

    @cached_property
    def presigner(self) -> Presigned:
        from kiln.adapters.s3_transfer import Presigned

        return Presigned()

    @cached_property
    def archive_storage(self) -> ArchiveStorage:
        from kiln.adapters.s3_transfer import ArchiveStorage

        return ArchiveStorage()

    @cached_property
    def repository(self) -> RepositoryFactory:
        """(workspace_id, project_id) -> a fresh Repository (an empty object cache), one per
        request or task. The caller has already checked that the project is the workspace's."""
        return _s3_repository

    @cached_property
    def sandbox(self) -> LambdaSandbox:
        """Generated code never runs in a build worker: compile and unittest run in the sandbox
        function, invoked through Lambda."""
        from kiln.adapters.lambda_invoke import LambdaSandbox

        return LambdaSandbox()

    @cached_property
    def verifier(self) -> Verifier:
        from kiln.domain.builds import TaskPlan, VerificationResult
        from kiln.domain.verification import verify

        sandbox = self.sandbox

        def verifier(files: dict[str, bytes], plan: TaskPlan) -> VerificationResult:
            return verify(files, plan, timeout_seconds=config.verify_timeout_seconds(), sandbox=sandbox)

        return verifier

    # --- generators ---------------------------------------------------------------------------

    @cached_property
    def generator(self) -> Generator:
        """The configured generator (KILN_GENERATOR), for requests under API Gateway's 29 s."""
        name = config.generator_name()
        if name == "builtin":
            from kiln.domain.generators.builtin import BuiltinGenerator

            return BuiltinGenerator()
        if name == "bedrock":
            from kiln.adapters.bedrock import BedrockGenerator

            return BedrockGenerator()
        if name == "openai-compatible":
            from kiln.adapters.openai_compatible import OpenAICompatibleGenerator

            return OpenAICompatibleGenerator(api_key=self.openai_api_key)
        raise RuntimeError(f"{config.GENERATOR} must be builtin, bedrock or openai-compatible, not {name!r}")

    @cached_property
    def build_generator(self) -> Generator:
        """The generator for build steps: like `generator`, but a model call may take minutes
        (workers run up to 10 minutes, not API Gateway's 29 s)."""
        name = config.generator_name()
        if name == "bedrock":
            from kiln.adapters.bedrock import BedrockGenerator

            return BedrockGenerator(read_timeout=240)
        if name == "openai-compatible":
            from kiln.adapters.openai_compatible import OpenAICompatibleGenerator

            # Both attempts together, inside build_decompose's 300 s (build_task has 600 s).
            return OpenAICompatibleGenerator(api_key=self.openai_api_key, timeout=240)
        return self.generator  # the built-in one answers at once: one instance serves both

    # --- domain services ----------------------------------------------------------------------

    @cached_property
    def projects(self) -> ProjectService:
        from kiln.domain.projects import ProjectService

        return ProjectService(self.project_store, self.clock)

    @cached_property
    def access(self) -> AccessService:
        from kiln.domain.access import AccessService

        return AccessService(self.access_store, self.usage_keys, self.clock, self.sleep)

    @cached_property
    def people(self) -> PeopleService:
        from kiln.domain.people import PeopleService

        return PeopleService(self.people_store, self.access_store, self.clock)

    @cached_property
    def cursors(self) -> CursorCodec:
        from kiln.cursors import CursorCodec

        return CursorCodec(self.cursor_signing_key)

    @cached_property
    def specs(self) -> SpecService:
        from kiln.domain.specs import SpecService

        # A factory: the generator (and its SDK client) is built only by the calls that need it.
        return SpecService(self.spec_store, lambda: self.generator, self.clock)

    @cached_property
    def files(self) -> FileService:
        from kiln.domain.files import FileService

        return FileService(self.projects, self.repository)

    @cached_property
    def runs(self) -> RunService:
        from kiln.domain.runs import RunService

        return RunService(self.run_store, self.run_store, self.event_store, self.build_workflow, self.clock)

    @cached_property
    def build_steps(self) -> BuildSteps:
        from kiln.domain.build_steps import BuildSteps

        return BuildSteps(
            self.run_store,
            self.event_store,
            self.repository,
            lambda: self.build_generator,
            self.verifier,
            self.clock,
            repair_attempts=config.build_repair_attempts(),
        )

    @cached_property
    def operations(self) -> OperationService:
        from kiln.domain.operations import ExportSources, OperationService

        return OperationService(
            self.operation_store,
            self.archive_workflow,
            self.presigner,
            ExportSources(self.repository, self.run_store),
            self.run_store,
            self.clock,
        )

    @cached_property
    def archive_steps(self) -> ArchiveSteps:
        from kiln.domain.archive_steps import ArchiveSteps

        return ArchiveSteps(self.operation_store, self.archive_storage, self.catalog, self.repository, clock=self.clock)


def dependencies() -> tuple[str, ...]:
    """The names `build()` accepts: every attribute of the root."""
    return tuple(name for name, value in vars(Services).items() if isinstance(value, cached_property))


def build(**overrides: Any) -> Services:
    """A new root; each named dependency is the value given instead of the one Kiln builds
    (a TypeError names any that does not exist)."""
    return Services(**overrides)


_current: Services | None = None
_lock = threading.Lock()  # the local cloud serves requests on threads: one root, never two


def current() -> Services:
    """The container's root: built on first use, then the same for every request."""
    global _current
    root = _current
    if root is None:
        with _lock:
            if _current is None:
                _current = build()
            root = _current
    return root


def use(root: Services) -> Services:
    """Serve `root` from now on (tests, benchmarks); returns it."""
    global _current
    with _lock:
        _current = root
    return root


def reset() -> None:
    """Forget the current root: the next `current()` builds a new one, as a new container would."""
    global _current
    with _lock:
        _current = None


def _s3_repository(workspace_id: str, project_id: str) -> Repository:
    from kiln.adapters.dynamodb.refs import RefItems
    from kiln.adapters.objects import S3ObjectStore
    from kiln.domain.repository import Repository

    return Repository(S3ObjectStore(workspace_id, project_id), RefItems(workspace_id, project_id))


def _once(fetch: Callable[[], T]) -> Callable[[], T]:
    """`fetch`, called on first use only: a secret is fetched once per root, not per request."""
    lock = threading.Lock()
    fetched: list[T] = []

    def value() -> T:
        if not fetched:
            with lock:
                if not fetched:
                    fetched.append(fetch())
        return fetched[0]

    return value

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
    from kiln.adapters.apigateway_management import ConnectionOutbox
    from kiln.adapters.dynamodb.access import AccessStore
    from kiln.adapters.dynamodb.catalog import ProjectCatalog
    from kiln.adapters.dynamodb.connections import ConnectionItems
    from kiln.adapters.dynamodb.custom_events import CustomEventItems
    from kiln.adapters.dynamodb.deliveries import DeliveryItems
    from kiln.adapters.dynamodb.live import RunLocator
    from kiln.adapters.dynamodb.oauth import OAuthStore
    from kiln.adapters.dynamodb.operations import OperationItems
    from kiln.adapters.dynamodb.people import PeopleStore
    from kiln.adapters.dynamodb.previews import DeploymentItems
    from kiln.adapters.dynamodb.projects import ProjectStore
    from kiln.adapters.dynamodb.runs import EventStore, RunStore
    from kiln.adapters.dynamodb.sessions import SessionStore
    from kiln.adapters.dynamodb.specs import SpecStore
    from kiln.adapters.dynamodb.stats import CounterItems
    from kiln.adapters.dynamodb.webhooks import WebhookStore
    from kiln.adapters.lambda_invoke import LambdaSandbox
    from kiln.adapters.s3_transfer import ArchiveStorage, Presigned
    from kiln.adapters.sqs import DeliveryQueue
    from kiln.adapters.stepfunctions import ArchiveWorkflow, BuildWorkflow, PreviewWorkflow
    from kiln.adapters.webhook_http import WebhookSender
    from kiln.clock import Clock
    from kiln.cursors import CursorCodec
    from kiln.domain.access import AccessService
    from kiln.domain.archive_steps import ArchiveSteps
    from kiln.domain.authentication import Authenticator
    from kiln.domain.build_steps import BuildSteps, Verifier
    from kiln.domain.custom_events import CustomEventService
    from kiln.domain.deliveries import DeliveryService
    from kiln.domain.files import FileService
    from kiln.domain.generation import Generator
    from kiln.domain.live import LiveService
    from kiln.domain.oauth import OAuthService
    from kiln.domain.operations import OperationService
    from kiln.domain.people import PeopleService
    from kiln.domain.previews import PreviewDeployer, PreviewService, PreviewSteps
    from kiln.domain.project_records import ProjectService
    from kiln.domain.repository import Repository
    from kiln.domain.runs import RunService
    from kiln.domain.sessions import SessionService
    from kiln.domain.specs import SpecService
    from kiln.domain.stats import StatsService
    from kiln.domain.tokens import KeySet, PublicKeyCache
    from kiln.domain.url_safety import Resolver
    from kiln.domain.webhooks import WebhookService

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
    def session_store(self) -> SessionStore:
        """Sessions and the sign-in throttle's counters (SessionRepository and SignInAttempts)."""
        from kiln.adapters.dynamodb.sessions import SessionStore

        return SessionStore()

    @cached_property
    def webhook_store(self) -> WebhookStore:
        from kiln.adapters.dynamodb.webhooks import WebhookStore

        return WebhookStore()

    @cached_property
    def custom_event_store(self) -> CustomEventItems:
        from kiln.adapters.dynamodb.custom_events import CustomEventItems

        return CustomEventItems()

    @cached_property
    def resolver(self) -> Resolver:
        """Host name -> addresses (the system resolver), for the webhook URL rules."""
        from kiln.adapters.webhook_http import resolve

        return resolve

    @cached_property
    def webhook_sender(self) -> WebhookSender:
        """The SSRF-safe sender of webhook deliveries (the address rules checked on every attempt)."""
        from kiln.adapters.webhook_http import WebhookSender

        return WebhookSender(allow_loopback=config.webhook_allow_loopback(), resolve=self.resolver)

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
        from kiln.domain.project_records import ProjectService

        return ProjectService(self.project_store, self.clock)

    @cached_property
    def access(self) -> AccessService:
        from kiln.domain.access import AccessService

        return AccessService(self.access_store, self.usage_keys, self.clock, self.sleep)

    @cached_property
    def token_keys(self) -> PublicKeyCache:
        """The public keys access tokens are verified with, read from Secrets Manager on first
        use and again only for an unknown kid (at most once per cooldown)."""
        import time

        from kiln.adapters.secrets import signing_keys
        from kiln.domain.tokens import KeySet, PublicKeyCache

        return PublicKeyCache(lambda: KeySet.from_json(signing_keys()).public_keys(), time.monotonic)

    @cached_property
    def signing_key_set(self) -> Callable[[], KeySet]:
        """The whole key set, private keys included, for the routes that sign access tokens: read
        from Secrets Manager at most once per SERVER_CACHE_SECONDS, so a promoted key signs
        within that time of its promotion (it was published long before, kiln.domain.tokens)."""
        import time

        from kiln.adapters.secrets import signing_keys
        from kiln.domain.tokens import SERVER_CACHE_SECONDS, KeySet

        lock = threading.Lock()
        held: dict[str, Any] = {}

        def key_set() -> KeySet:
            with lock:
                now = time.monotonic()
                if "set" not in held or now - held["at"] >= SERVER_CACHE_SECONDS:
                    held.update(set=KeySet.from_json(signing_keys()), at=now)
                key_set: KeySet = held["set"]
                return key_set

        return key_set

    @cached_property
    def oauth_store(self) -> OAuthStore:
        from kiln.adapters.dynamodb.oauth import OAuthStore

        return OAuthStore()

    @cached_property
    def oauth(self) -> OAuthService:
        from kiln.domain.oauth import OAuthService

        return OAuthService(
            self.oauth_store,
            self.people_store,
            self.signing_key_set,
            self.clock,
            refresh_lifetime_seconds=config.oauth_refresh_lifetime_seconds(),
        )

    @cached_property
    def authenticator(self) -> Authenticator:
        """The authorizer's credential chain, with its answers cached for this root's life."""
        from kiln.domain.authentication import Authenticator

        return Authenticator(
            keys=self.access.authenticate,
            token_keys=lambda: self.token_keys,
            people=self.people_store,
            workspaces=self.access_store,
            grants=lambda: self.oauth,
            sessions=lambda: self.sessions,
            cache_seconds=config.authorizer_cache_seconds(),
        )

    @cached_property
    def people(self) -> PeopleService:
        from kiln.domain.people import PeopleService

        # Ends a person's sessions when they are deleted or their password changes; a function,
        # since the session service checks passwords with this one (each built on first use only).
        return PeopleService(
            self.people_store,
            self.access_store,
            self.clock,
            end_sessions=lambda workspace_id, user_id: self.sessions.end_all(workspace_id, user_id),
            end_grants=lambda workspace_id, user_id: self.oauth.end_all_grants(workspace_id, user_id),
        )

    @cached_property
    def sessions(self) -> SessionService:
        from kiln.domain.sessions import SessionService

        return SessionService(
            self.session_store,
            self.session_store,
            self.people,
            self.people_store,
            self.clock,
            ttl_seconds=config.session_ttl_seconds(),
            idle_seconds=config.session_idle_seconds(),
        )

    @cached_property
    def webhooks(self) -> WebhookService:
        from datetime import timedelta

        from kiln.domain.webhooks import DEFAULT_SECRET_OVERLAP, WebhookService

        seconds = config.webhook_secret_overlap_seconds()
        return WebhookService(
            self.webhook_store,
            self.access_store,
            self.resolver,
            self.clock,
            allow_loopback=config.webhook_allow_loopback(),
            secret_overlap=DEFAULT_SECRET_OVERLAP if seconds is None else timedelta(seconds=seconds),
        )

    @cached_property
    def custom_events(self) -> CustomEventService:
        from kiln.domain.custom_events import CustomEventService

        return CustomEventService(self.custom_event_store, self.clock)

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

    # --- real time and stats (CONTRACT section 8) ---------------------------------------------

    @cached_property
    def connection_store(self) -> ConnectionItems:
        from kiln.adapters.dynamodb.connections import ConnectionItems

        return ConnectionItems()

    @cached_property
    def outbox(self) -> ConnectionOutbox:
        """PostToConnection on the WebSocket API (the local cloud's gateway answers it locally)."""
        from kiln.adapters.apigateway_management import ConnectionOutbox

        return ConnectionOutbox()

    @cached_property
    def run_locator(self) -> RunLocator:
        from kiln.adapters.dynamodb.live import RunLocator

        return RunLocator()

    @cached_property
    def live(self) -> LiveService:
        from kiln.domain.authentication import Credentials
        from kiln.domain.live import Identity, LiveService

        def authenticate(token: str) -> Identity | None:
            # The REST authorizer's chain (API keys, access tokens), so a WebSocket accepts exactly
            # the bearer credentials the REST API does.
            found = self.authenticator.authenticate(
                Credentials(f"Bearer {token}"), base_url=config.live_token_audience()
            )
            if found is None:
                return None
            who = found.principal
            return Identity(who.workspace_id, who.key_id, frozenset(who.scopes), tuple(who.allowed_paths))

        clock = self.clock
        return LiveService(
            self.connection_store,
            self.outbox,
            self.run_locator,
            self.event_store,
            authenticate,
            lambda: int(clock().timestamp() * 1000),
        )

    @cached_property
    def counter_store(self) -> CounterItems:
        from kiln.adapters.dynamodb.stats import CounterItems

        return CounterItems()

    @cached_property
    def stats(self) -> StatsService:
        from kiln.adapters.dynamodb.stats import state_of
        from kiln.domain.stats import StatsService

        return StatsService(self.counter_store, state_of)

    # --- webhook deliveries (kiln.domain.deliveries) ---------------------------------------------

    @cached_property
    def delivery_log(self) -> DeliveryItems:
        from kiln.adapters.dynamodb.deliveries import DeliveryItems

        return DeliveryItems()

    @cached_property
    def delivery_queue(self) -> DeliveryQueue:
        from kiln.adapters.sqs import DeliveryQueue

        return DeliveryQueue()

    @cached_property
    def deliveries(self) -> DeliveryService:
        """Fan-out of workspace events, attempts and the delivery log (the stream consumer, the
        delivery worker and the webhooks API's deliveries routes)."""
        from kiln.domain.deliveries import DeliveryService

        return DeliveryService(
            self.delivery_log,
            self.delivery_queue,
            self.webhooks,
            self.webhook_sender,
            self.clock,
            retry_scale=config.webhook_retry_scale(),
        )

    # --- deploy previews (kiln.domain.previews) ---------------------------------------------------

    @cached_property
    def deployment_store(self) -> DeploymentItems:
        from kiln.adapters.dynamodb.previews import DeploymentItems

        return DeploymentItems()

    @cached_property
    def preview_workflow(self) -> PreviewWorkflow:
        from kiln.adapters.stepfunctions import PreviewWorkflow

        return PreviewWorkflow()

    @cached_property
    def preview_deployers(self) -> Callable[[str], PreviewDeployer]:
        """provider -> its deployer, built on first use: Lambda functions when deployed, the
        local cloud's process manager locally (only the workers call it)."""
        built: dict[str, PreviewDeployer] = {}

        def deployer(provider: str) -> PreviewDeployer:
            if provider not in built:
                if provider == "aws-lambda":
                    from kiln.adapters.preview_lambda import LambdaPreviewDeployer

                    built[provider] = LambdaPreviewDeployer(config.preview_function_prefix(), config.preview_role_arn())
                elif provider == "local":
                    from kiln.adapters.preview_local import LocalPreviewDeployer

                    built[provider] = LocalPreviewDeployer(config.local_previews_url())
                else:
                    raise ValueError(f"no preview provider {provider!r}")
            return built[provider]

        return deployer

    @cached_property
    def previews(self) -> PreviewService:
        from datetime import timedelta

        from kiln.domain.previews import PreviewService

        return PreviewService(
            self.deployment_store,
            self.preview_workflow,
            self.run_store,
            self.clock,
            ttl=timedelta(seconds=config.preview_ttl_seconds()),
            providers=config.preview_providers(),
        )

    @cached_property
    def preview_steps(self) -> PreviewSteps:
        from kiln.domain.previews import PreviewSteps

        return PreviewSteps(self.deployment_store, self.preview_deployers, self.repository, self.clock)


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

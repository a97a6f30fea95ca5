"""Composition root: domain services wired to their AWS adapters, once per container.

Handlers get their services from here; unit tests build services with fakes instead.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from kiln import config

if TYPE_CHECKING:  # imported where used: the authorizer and /health never load pydantic
    from kiln.cursors import CursorCodec
    from kiln.domain.access import AccessService
    from kiln.domain.archive_steps import ArchiveSteps
    from kiln.domain.build_steps import BuildSteps
    from kiln.domain.generation import Generator
    from kiln.domain.operations import OperationService
    from kiln.domain.projects import ProjectService
    from kiln.domain.repository import Repository
    from kiln.domain.runs import RunService
    from kiln.domain.specs import SpecService


@cache
def projects() -> ProjectService:
    from kiln.adapters.dynamodb.projects import ProjectStore
    from kiln.domain.projects import ProjectService

    return ProjectService(ProjectStore())


@cache
def access() -> AccessService:
    from kiln.adapters.apigateway import UsageKeyStore
    from kiln.adapters.dynamodb.access import AccessStore
    from kiln.domain.access import AccessService

    return AccessService(AccessStore(), UsageKeyStore())


@cache
def cursors() -> CursorCodec:
    from kiln.adapters.secrets import cursor_signing_key
    from kiln.cursors import CursorCodec

    return CursorCodec(cursor_signing_key)


@cache
def generator() -> Generator:
    """The configured generator (KILN_GENERATOR): built once per container, on first use."""
    name = config.generator_name()
    if name == "builtin":
        from kiln.domain.generators.builtin import BuiltinGenerator

        return BuiltinGenerator()
    if name == "bedrock":
        from kiln.adapters.bedrock import BedrockGenerator

        return BedrockGenerator()
    if name == "openai-compatible":
        from kiln.adapters.openai_compatible import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator()
    raise RuntimeError(f"{config.GENERATOR} must be builtin, bedrock or openai-compatible, not {name!r}")


@cache
def specs() -> SpecService:
    from kiln.adapters.dynamodb.specs import SpecStore
    from kiln.domain.specs import SpecService

    return SpecService(SpecStore(), generator)


def repository(workspace_id: str, project_id: str) -> Repository:
    """A fresh Repository (empty object cache) for one project: one per request or task.

    Not cached: a repository is bound to one project. The caller has already checked that
    the project belongs to the workspace.
    """
    from kiln.adapters.dynamodb.refs import RefItems
    from kiln.adapters.objects import S3ObjectStore
    from kiln.domain.repository import Repository

    return Repository(S3ObjectStore(workspace_id, project_id), RefItems(workspace_id, project_id))


def repository_at(workspace_id: str, project_id: str, ref: str) -> tuple[Repository, str]:
    """The project's repository and the commit `ref` names; 404 for another workspace's
    project (as for a missing one) and for an unknown ref."""
    from kiln.domain.repository import RefNotFound
    from kiln.envelope import not_found

    projects().get(workspace_id, project_id)
    opened = repository(workspace_id, project_id)
    try:
        return opened, opened.resolve(ref)
    except RefNotFound:
        raise not_found("ref", ref) from None


@cache
def runs() -> RunService:
    from kiln.adapters.dynamodb.runs import EventStore, RunStore
    from kiln.adapters.stepfunctions import BuildWorkflow
    from kiln.domain.runs import RunService

    store = RunStore()
    return RunService(store, store, EventStore(), BuildWorkflow())


def build_generator() -> Generator:
    """The generator for build steps: like generator(), but a model call may take minutes
    (workers run up to 10 minutes, not API Gateway's 29 s)."""
    if config.generator_name() == "bedrock":
        return _bedrock_for_builds()
    if config.generator_name() == "openai-compatible":
        return _openai_for_builds()
    return generator()


@cache
def _bedrock_for_builds() -> Generator:
    from kiln.adapters.bedrock import BedrockGenerator

    return BedrockGenerator(read_timeout=240)


@cache
def _openai_for_builds() -> Generator:
    from kiln.adapters.openai_compatible import OpenAICompatibleGenerator

    # Both attempts together, inside build_decompose's 300 s (build_task has 600 s).
    return OpenAICompatibleGenerator(timeout=240)


@cache
def build_steps() -> BuildSteps:
    from kiln.adapters.dynamodb.runs import EventStore, RunStore
    from kiln.adapters.lambda_invoke import LambdaSandbox
    from kiln.domain.build_steps import BuildSteps
    from kiln.domain.builds import TaskPlan, VerificationResult
    from kiln.domain.verification import verify

    # Generated code never runs in a build worker: compile and unittest run in the sandbox function.
    sandbox = LambdaSandbox()

    def verifier(files: dict[str, bytes], plan: TaskPlan) -> VerificationResult:
        return verify(files, plan, timeout_seconds=config.verify_timeout_seconds(), sandbox=sandbox)

    return BuildSteps(RunStore(), EventStore(), repository, build_generator, verifier,
                      repair_attempts=config.build_repair_attempts())


@cache
def operations() -> OperationService:
    from kiln.adapters.dynamodb.operations import OperationItems
    from kiln.adapters.dynamodb.runs import RunStore
    from kiln.adapters.s3_transfer import Presigned
    from kiln.adapters.stepfunctions import ArchiveWorkflow
    from kiln.domain.operations import ExportSources, OperationService

    runs_store = RunStore()
    return OperationService(OperationItems(), ArchiveWorkflow(), Presigned(), ExportSources(repository, runs_store),
                            runs_store)


@cache
def archive_steps() -> ArchiveSteps:
    from kiln.adapters.dynamodb.catalog import ProjectCatalog
    from kiln.adapters.dynamodb.operations import OperationItems
    from kiln.adapters.s3_transfer import ArchiveStorage
    from kiln.domain.archive_steps import ArchiveSteps

    return ArchiveSteps(OperationItems(), ArchiveStorage(), ProjectCatalog(), repository)

"""Composition root: domain services wired to their AWS adapters, once per container.

Handlers get their services from here; unit tests build services with fakes instead.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from kiln import config

if TYPE_CHECKING:  # imported where used: the authorizer and /health never load pydantic
    from kiln.domain.access import AccessService
    from kiln.domain.archive_steps import ArchiveSteps
    from kiln.domain.build_steps import BuildSteps
    from kiln.domain.generation import Generator
    from kiln.domain.operations import OperationService
    from kiln.domain.projects import ProjectService
    from kiln.domain.repository import Repository
    from kiln.domain.runs import RunService
    from kiln.domain.specs import SpecService
    from kiln.http.pagination import CursorCodec


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
    from kiln.http.pagination import CursorCodec

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
    raise RuntimeError(f"KILN_GENERATOR must be builtin or bedrock, not {name!r}")


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
    return generator()


@cache
def _bedrock_for_builds() -> Generator:
    from kiln.adapters.bedrock import BedrockGenerator

    return BedrockGenerator(read_timeout=240)


@cache
def build_steps() -> BuildSteps:
    from kiln.adapters.dynamodb.runs import EventStore, RunStore
    from kiln.domain.build_steps import BuildSteps
    from kiln.domain.verification import verify

    def verifier(files, plan):
        return verify(files, plan, timeout_seconds=config.verify_timeout_seconds())

    return BuildSteps(RunStore(), EventStore(), repository, build_generator, verifier)


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

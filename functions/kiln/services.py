"""Composition root: domain services wired to their AWS adapters, once per container.

Handlers get their services from here; unit tests build services with fakes instead.
"""

from __future__ import annotations

from functools import cache

from kiln.domain.access import AccessService
from kiln.domain.projects import ProjectService
from kiln.http.pagination import CursorCodec


@cache
def projects() -> ProjectService:
    from kiln.adapters.dynamodb import ProjectStore

    return ProjectService(ProjectStore())


@cache
def access() -> AccessService:
    from kiln.adapters.apigateway import UsageKeyStore
    from kiln.adapters.dynamodb import AccessStore

    return AccessService(AccessStore(), UsageKeyStore())


@cache
def cursors() -> CursorCodec:
    from kiln.adapters.secrets import cursor_signing_key

    return CursorCodec(cursor_signing_key)

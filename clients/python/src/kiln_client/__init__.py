"""Kiln's Python client: a typed SDK (`Kiln`, `AsyncKiln`), the `kiln` command line and an MCP
server, over the same REST API.

The names below are imported on first use (PEP 562), not with the package: the MCP function
imports `kiln_client.mcp_server` on its cold start and must not pay for the models and the
HTTP client (about 100 ms) before a tool is actually called."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiln_client._api import Page
    from kiln_client._oauth import OAuth, OAuthTokens, TokenStore
    from kiln_client._retry import RetryPolicy
    from kiln_client.aio import AsyncKiln
    from kiln_client.client import Kiln
    from kiln_client.errors import (
        APIError,
        AuthenticationError,
        BadRequestError,
        ConfigurationError,
        ConflictError,
        KilnConnectionError,
        KilnError,
        NotFoundError,
        OperationFailedError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
        UnprocessableError,
        WaitTimeout,
    )

__version__ = "0.1.0"
__all__ = [
    "APIError",
    "AsyncKiln",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "Kiln",
    "KilnConnectionError",
    "KilnError",
    "NotFoundError",
    "OAuth",
    "OAuthTokens",
    "OperationFailedError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "TokenStore",
    "UnprocessableError",
    "WaitTimeout",
]

# Where each public name lives; the rest of __all__ are the errors.
_HOMES = {
    "Page": "kiln_client._api",
    "OAuth": "kiln_client._oauth",
    "OAuthTokens": "kiln_client._oauth",
    "TokenStore": "kiln_client._oauth",
    "RetryPolicy": "kiln_client._retry",
    "AsyncKiln": "kiln_client.aio",
    "Kiln": "kiln_client.client",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name, "kiln_client.errors" if name in __all__ else None)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

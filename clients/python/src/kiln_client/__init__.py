"""Kiln's Python client: a typed SDK (`Kiln`, `AsyncKiln`), the `kiln` command line and an MCP
server, over the same REST API."""

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

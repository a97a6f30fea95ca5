"""The answer of POST /mcp (kiln.handlers.mcp): a JSON-RPC 2.0 response of the Model Context
Protocol, written by the MCP SDK, not by Kiln. Named by the handler as a "module:Class" string:
the generator documents it; the integration tests validate real answers against it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class JsonRpcError(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    code: int = Field(description="JSON-RPC's error code (-32602: invalid params, -32601: unknown method...).")
    message: str
    data: Any = None


class JsonRpcAnswer(BaseModel):
    """One JSON-RPC response: `result` (e.g. `tools/list`'s tools, a `tools/call`'s content and
    `isError`) or `error`, never both. The protocol's own fields may grow: unknown ones are kept."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    jsonrpc: Literal["2.0"]
    id: str | int | None = Field(description="The request's id.")
    result: dict[str, Any] | None = None
    error: JsonRpcError | None = None

"""Kiln's tools for AI assistants, served with the official MCP SDK (2.x, `MCPServer`).

The set is small on purpose (some clients send a model only the first few dozen tools) and
covers the loop: find or create a project, run the specification workflow, approve, build and
watch it, read files, export. `read_only=True` registers no tool that changes anything; tools
that do are annotated, and archiving is marked destructive."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from kiln_client.errors import APIError, KilnError

# The client (its models and HTTP stack) is imported by the first tool call, not with the server:
# `initialize` and `tools/list` never use it, and the MCP function's cold start would pay for it.
if TYPE_CHECKING:
    from kiln_client._oauth import OAuth
    from kiln_client.aio import AsyncKiln

INSTRUCTIONS = (
    "Kiln turns a project description into a specification and then into a verified codebase. "
    "The loop: create_project -> clarify (returns questions) -> answer_questions -> get_spec -> "
    "approve_spec -> start_build -> get_build until it is succeeded or failed -> list_files / "
    "read_file -> export_project (returns a download URL)."
)
READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)


def plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


_CALLER: ContextVar[AsyncKiln] = ContextVar("kiln_mcp_caller")


class KilnTools:
    """The tools, as methods; each call talks to the API with a client of its caller's.

    Over stdio the caller is whoever started `kiln mcp` (its key). Over HTTP (`api_key=None`)
    each request brings its own `Authorization: Bearer` credential, which the tools pass on,
    so the API applies that key's scopes and allowed paths to everything a tool does."""

    def __init__(self, api_key: str | None, base_url: str, oauth: OAuth | None = None) -> None:
        self.api_key, self.base_url, self.oauth = api_key, base_url, oauth

    def client(self, ctx: Context) -> AsyncKiln:
        from kiln_client.aio import AsyncKiln

        if self.oauth is not None:  # one grant for every call: they share its refresh lock
            return AsyncKiln(base_url=self.base_url, oauth=self.oauth)
        return AsyncKiln(self.credential(ctx), self.base_url)

    def credential(self, ctx: Context) -> str:
        if self.api_key is not None:
            return self.api_key
        authorization = (ctx.headers or {}).get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ToolError("UNAUTHORIZED (401): send Authorization: Bearer with a Kiln API key")
        return token.strip()

    @property
    def kiln(self) -> AsyncKiln:
        return _CALLER.get()

    # Read
    async def find_projects(
        self, search: str | None = None, status: str | None = None, limit: int = 20
    ) -> dict[str, Any]:
        """Find projects by text in their name or description and/or by status (draft, clarifying,
        spec_review, approved, building, built, failed, archived); newest first."""
        page = await self.kiln.list_projects(search=search, status=status, limit=max(1, min(limit, 100)))
        return {"projects": plain(page.items), "hasMore": bool(page.pagination.get("hasMore"))}

    async def get_project(self, project_id: str) -> dict[str, Any]:
        """A project: its name, description, status and approved spec version."""
        return plain(await self.kiln.get_project(project_id))

    async def get_spec(self, project_id: str, version: int | None = None) -> dict[str, Any]:
        """The specification's documents (SPEC.md, ACCEPTANCE.md, ROUTES.md, DATA.md) of the latest
        version, or of `version`, with the list of every version."""
        return plain(await self.kiln.get_spec(project_id, version))

    async def get_build(self, project_id: str, run_id: str) -> dict[str, Any]:
        """A build (run): its status (queued ... succeeded, failed, cancelled), each task and its
        state, the counts, and the verification result once it ran."""
        run = plain(await self.kiln.get_run(project_id, run_id))
        run.pop("specSnapshot", None)  # the whole spec again: read it with get_spec
        run.pop("tasksJson", None)
        return run

    async def list_build_events(
        self, project_id: str, run_id: str, after: int | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """The build's events in order (RUN_STARTED, TASK_STARTED, FILE_CREATED, TASK_COMPLETED,
        VERIFICATION_COMPLETED, RUN_COMPLETED ...); pass the last id as `after` for the next ones."""
        from kiln_client import _api

        page = await self.kiln.call(_api.list_events(project_id, run_id, after=after, limit=max(1, min(limit, 100))))
        return {"events": plain(page.items), "nextAfter": page.pagination.get("nextCursor")}

    async def list_files(self, project_id: str, path: str = "/", ref: str = "main") -> dict[str, Any]:
        """A directory of the generated code at `ref` (a branch or commit; default main)."""
        return plain(await self.kiln.list_files(project_id, path, ref))

    async def read_file(self, project_id: str, path: str, ref: str = "main") -> dict[str, Any]:
        """A file of the generated code (text, or base64 for binary files)."""
        return plain(await self.kiln.get_file(project_id, path, ref))

    # Write
    async def create_project(self, name: str, description: str) -> dict[str, Any]:
        """Create a project from a name and a plain-language description (status draft)."""
        return plain(await self.kiln.create_project(name, description))

    async def clarify(self, project_id: str) -> dict[str, Any]:
        """Ask for the clarifying questions of a draft project. Each has an id, a type
        (single_choice, multi_choice, boolean, text), options, and whether it is required."""
        return plain(await self.kiln.clarify(project_id))

    async def answer_questions(self, project_id: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
        """Answer the clarifying questions: [{"questionId": ..., "answer": ...}] where answer is an
        option (single_choice), a list of options (multi_choice), true/false or text. Writes spec
        version 1 (status spec_review)."""
        return plain(await self.kiln.answer(project_id, answers))

    async def regenerate_spec(self, project_id: str, feedback: str) -> dict[str, Any]:
        """Write a new specification version that applies the feedback."""
        return plain(await self.kiln.regenerate(project_id, feedback))

    async def approve_spec(self, project_id: str, version: int | None = None) -> dict[str, Any]:
        """Approve a specification version (default: the latest) so the project can be built."""
        return plain(await self.kiln.approve(project_id, version))

    async def start_build(self, project_id: str) -> dict[str, Any]:
        """Start building an approved project; follow it with get_build and list_build_events."""
        return plain(await self.kiln.create_run(project_id))

    async def export_project(self, project_id: str, format: Literal["zip", "tar.gz", "kiln"] = "zip") -> dict[str, Any]:
        """Export the project's code (zip, tar.gz) or all of it (kiln) and return a download URL
        valid for a few minutes."""
        operation = await self.kiln.create_export(project_id, format)
        finished = await self.kiln.wait_for_export(project_id, operation.id, timeout=120)
        return plain(finished)

    async def archive_project(self, project_id: str) -> dict[str, Any]:
        """Archive a project (soft delete: it leaves the lists; its data is kept)."""
        return plain(await self.kiln.archive_project(project_id))


READ_TOOLS = ("find_projects", "get_project", "get_spec", "get_build", "list_build_events", "list_files", "read_file")
WRITE_TOOLS = (
    "create_project",
    "clarify",
    "answer_questions",
    "regenerate_spec",
    "approve_spec",
    "start_build",
    "export_project",
)
DESTRUCTIVE_TOOLS = ("archive_project",)


def _tool(
    tools: KilnTools, method: Callable[..., Awaitable[dict[str, Any]]]
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The method as a tool: run with a client of the caller's, API errors turned into tool
    errors the model can read (code, message, details) rather than crashes."""

    @functools.wraps(method)
    async def call(*args: Any, ctx: Context, **kwargs: Any) -> dict[str, Any]:
        try:
            async with tools.client(ctx) as kiln:
                token = _CALLER.set(kiln)
                try:
                    return await method(*args, **kwargs)
                finally:
                    _CALLER.reset(token)
        except APIError as error:
            raise ToolError(f"{error.code} ({error.status}): {error.message} {error.details or ''}".strip()) from error
        except KilnError as error:
            raise ToolError(str(error)) from error

    # The SDK reads the signature (types resolved here, as this module postpones annotations) to
    # build the input schema and to inject the Context.
    hints = typing.get_type_hints(method)
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(method).parameters.values()
    ]
    context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    call.__signature__ = inspect.Signature([*parameters, context], return_annotation=hints.get("return"))  # type: ignore[attr-defined]
    call.__annotations__ = {**hints, "ctx": Context}
    return call


def build_server(
    api_key: str | None, base_url: str, *, read_only: bool = False, oauth: OAuth | None = None
) -> MCPServer:
    tools = KilnTools(api_key, base_url, oauth)
    server: MCPServer = MCPServer("kiln", instructions=INSTRUCTIONS)
    groups = [(READ_TOOLS, READ)] + ([] if read_only else [(WRITE_TOOLS, WRITE), (DESTRUCTIVE_TOOLS, DESTRUCTIVE)])
    for names, hints in groups:
        for name in names:
            server.add_tool(_tool(tools, getattr(tools, name)), name=name, annotations=hints)
    return server


def serve_stdio(api_key: str | None, base_url: str, *, read_only: bool = False, oauth: OAuth | None = None) -> None:
    build_server(api_key, base_url, read_only=read_only, oauth=oauth).run("stdio")

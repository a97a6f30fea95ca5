"""The MCP server through the official MCP client, over stdio (`kiln mcp`) and over streamable
HTTP (the local cloud's /mcp, behind the authorizer): list the tools, take a project to a
finished build, read a file; read-only mode offers no tool that writes and refuses to run one."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
import requests
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.integration.conftest import LocalCloudProcess
from tests.integration.test_spec_workflow import EXAMPLE

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

KILN = str(Path(sys.executable).parent / "kiln")
# Generous: the build shares the machine with whatever else runs.
BUILD_DEADLINE_SECONDS = 600
WRITES = {"create_project", "clarify", "answer_questions", "regenerate_spec", "approve_spec", "start_build"}


def server(cloud: LocalCloudProcess, *flags: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    env.update({"KILN_API_KEY": cloud.admin_key, "KILN_BASE_URL": cloud.url})
    return StdioServerParameters(command=KILN, args=["mcp", *flags], env=env)


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def answer_for(question: dict[str, Any]) -> Any:
    return {"boolean": True, "single_choice": question.get("options", [""])[0]}.get(
        question["type"], question.get("options", [])[:2] if question["type"] == "multi_choice" else "A web app."
    )


def connect(cloud: LocalCloudProcess, transport: str) -> Client:
    if transport == "stdio":
        return Client(server(cloud))
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {cloud.admin_key}"}, timeout=120)
    return Client(streamable_http_client(f"{cloud.url}/mcp", http_client=http))


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_an_assistant_builds_a_project(local_cloud: LocalCloudProcess, transport: str) -> None:
    async def session() -> None:
        async with connect(local_cloud, transport) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert WRITES | {"get_build", "read_file", "export_project", "archive_project"} <= set(tools)
            assert tools["archive_project"].annotations.destructive_hint is True
            assert tools["read_file"].annotations.read_only_hint is True
            assert tools["create_project"].input_schema["required"] == ["name", "description"]
            assert all(tool.description for tool in tools.values())

            project = await call(client, "create_project", name=f"MCP build over {transport}", description=EXAMPLE)
            questions = (await call(client, "clarify", project_id=project["id"]))["questions"]
            answers = [{"questionId": q["id"], "answer": answer_for(q)} for q in questions]
            assert (await call(client, "answer_questions", project_id=project["id"], answers=answers))["status"] == (
                "spec_review"
            )
            assert (await call(client, "approve_spec", project_id=project["id"]))["status"] == "approved"
            run = await call(client, "start_build", project_id=project["id"])
            deadline = time.monotonic() + BUILD_DEADLINE_SECONDS
            while (build := await call(client, "get_build", project_id=project["id"], run_id=run["id"]))[
                "status"
            ] not in ("succeeded", "failed", "cancelled"):
                assert time.monotonic() < deadline, build
                await asyncio.sleep(2)
            assert build["status"] == "succeeded" and build["verificationResult"]["passed"] is True
            events = await call(client, "list_build_events", project_id=project["id"], run_id=run["id"], limit=100)
            assert events["events"][-1]["eventType"] == "RUN_COMPLETED"
            readme = await call(client, "read_file", project_id=project["id"], path="README.md")
            assert readme["encoding"] == "utf-8" and readme["content"].strip()
            exported = await call(client, "export_project", project_id=project["id"], format="zip")
            assert exported["status"] == "succeeded" and exported["downloadUrl"].startswith("http")

            missing = await client.call_tool("get_project", {"project_id": "proj_00000000000000000000000000"})
            assert missing.is_error and "NOT_FOUND (404)" in json.dumps([c.model_dump() for c in missing.content])

    asyncio.run(session())


def test_read_only_mode_exposes_and_runs_no_write(local_cloud: LocalCloudProcess) -> None:
    async def session() -> None:
        async with Client(server(local_cloud, "--read-only")) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert tools and not (WRITES | {"archive_project", "export_project"}) & set(tools)
            assert all(tool.annotations.read_only_hint for tool in tools.values())
            refused = await client.call_tool("create_project", {"name": "no", "description": "Nothing changes."})
            assert refused.is_error
            found = await call(client, "find_projects", search="Nothing changes")
            assert found["projects"] == []

    asyncio.run(session())


def test_mcp_over_http_needs_a_valid_bearer_credential(local_cloud: LocalCloudProcess) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {"Accept": "application/json, text/event-stream"}
    missing = requests.post(f"{local_cloud.url}/mcp", json=initialize, headers=headers, timeout=30)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "UNAUTHORIZED"
    wrong = requests.post(
        f"{local_cloud.url}/mcp", json=initialize, headers={**headers, "Authorization": "Bearer kiln_" + "x" * 43}
    )
    assert wrong.status_code == 401 and wrong.headers["X-Request-Id"]
    allowed = requests.post(
        f"{local_cloud.url}/mcp",
        json=initialize,
        headers={**headers, "Authorization": f"Bearer {local_cloud.admin_key}"},
        timeout=30,
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["result"]["serverInfo"]["name"] == "kiln"


def test_the_mcp_route_holds_the_api_policy(local_cloud: LocalCloudProcess) -> None:
    """POST /mcp is a route of the table (kiln.handlers.mcp), deployed as its own function: the
    credential's scopes and allow-list apply to it, a body over 1 MiB is refused in the envelope,
    a session cookie (which the tools could not pass on) is refused, and what the tools do runs
    with the caller's own credential: a read-only key lists projects but cannot create one."""
    from kiln.domain.mcp_views import JsonRpcAnswer
    from tests.integration.oauth_helpers import new_person, signed_in

    url, accept = f"{local_cloud.url}/mcp", {"Accept": "application/json, text/event-stream"}

    def key(scopes: list[str], allowed_paths: list[str] | None = None) -> str:
        body: dict[str, Any] = {"name": "mcp", "scopes": scopes}
        if allowed_paths:
            body["allowedPaths"] = allowed_paths
        made = local_cloud.session().post(f"{local_cloud.url}/v1/api-keys", json=body, timeout=30)
        assert made.status_code == 201, made.text
        return made.json()["data"]["secret"]

    def rpc(credential: dict[str, str], method: str, params: dict[str, Any], **kw: Any) -> requests.Response:
        message = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
        return requests.post(url, json=message, headers={**accept, **credential}, timeout=60, **kw)

    no_read = {"Authorization": f"Bearer {key(['ai:invoke'])}"}
    refused = rpc(no_read, "tools/list", {})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert 'scope="project:read"' in refused.headers["WWW-Authenticate"]

    elsewhere = {"Authorization": f"Bearer {key(['project:read'], ['/v1/projects*'])}"}
    hidden = rpc(elsewhere, "tools/list", {})
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "ENDPOINT_NOT_FOUND"

    reader = {"Authorization": f"Bearer {key(['project:read'])}"}
    oversized = b"{" + b" " * (1024 * 1024) + b"}"
    big = requests.post(
        url, data=oversized, headers={**accept, **reader, "Content-Type": "application/json"}, timeout=60
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    person = new_person(local_cloud, scopes=("project:read",))
    cookie, csrf = signed_in(local_cloud, person["email"])
    session = {"Cookie": f"__Host-kiln_session={cookie}", "X-CSRF-Token": csrf}
    assert rpc(session, "tools/list", {}).status_code == 401

    listed = rpc(reader, "tools/list", {})
    assert listed.status_code == 200, listed.text
    answer = JsonRpcAnswer.model_validate(listed.json())
    assert answer.result is not None
    assert {t["name"] for t in answer.result["tools"]} >= {"find_projects", "create_project"}
    found = JsonRpcAnswer.model_validate(rpc(reader, "tools/call", {"name": "find_projects", "arguments": {}}).json())
    assert found.result is not None and found.result.get("isError") is not True
    create = {"name": "create_project", "arguments": {"name": "Nope", "description": EXAMPLE}}
    denied = JsonRpcAnswer.model_validate(rpc(reader, "tools/call", create).json())
    assert denied.result is not None and denied.result["isError"] is True
    assert "FORBIDDEN (403)" in json.dumps(denied.result["content"])

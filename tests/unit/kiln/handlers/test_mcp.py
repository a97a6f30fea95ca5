"""POST /mcp called as Lambda would call it: the route's checks answer in the envelope before the
MCP server is ever built, the server's answer goes back as it is, the tools' API URL comes from
configuration only, and `tools/list` runs through the real MCP SDK (it calls no API)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kiln import config
from kiln.domain.mcp_views import JsonRpcAnswer
from kiln.handlers import mcp
from tests.unit.conftest import principal_context, proxy_event

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Authorization": "Bearer kiln_test"}


def event(body: Any = INITIALIZE, **overrides: Any) -> dict[str, Any]:
    return proxy_event("POST", "/mcp", body=body, headers={**HEADERS, **overrides.pop("headers", {})}, **overrides)


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(base_url: str) -> Any:
        raise AssertionError("the MCP server must not be reached")

    monkeypatch.setattr(mcp, "_server", refuse)


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize(
    "authorizer, status, code",
    [
        ({}, 401, "UNAUTHORIZED"),
        (principal_context(scopes="ai:invoke"), 403, "FORBIDDEN"),
        (principal_context(allowed_paths=["/v1/projects*"]), 404, "ENDPOINT_NOT_FOUND"),
        ({**principal_context(), "credential": "session", "userId": "usr_1"}, 401, "UNAUTHORIZED"),
    ],
)
def test_the_route_checks_answer_in_the_envelope(authorizer: dict[str, Any], status: int, code: str) -> None:
    answer = mcp.handler(event(authorizer=authorizer))
    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["error"]["code"] == code
    assert answer["headers"]["X-Request-Id"]
    if status == 403:
        assert 'scope="project:read"' in answer["headers"]["WWW-Authenticate"]


@pytest.mark.usefixtures("no_server")
def test_a_body_over_1_mib_is_413() -> None:
    answer = mcp.handler(event(body=None, raw_body="x" * (1024 * 1024 + 1)))
    assert answer["statusCode"] == 413
    assert json.loads(answer["body"])["error"]["details"]["limitBytes"] == 1024 * 1024


def test_the_api_url_comes_from_configuration_never_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.OAUTH_ISSUER, raising=False)
    monkeypatch.delenv(config.API_URL, raising=False)
    seen: list[str] = []

    class Fake:
        def handle(self, method: str, path: str, query: str, headers: list, body: bytes) -> tuple:
            return 200, [("content-type", "application/json"), ("content-length", "2")], b"{}"

    monkeypatch.setattr(mcp, "_server", lambda base_url: seen.append(base_url) or Fake())
    broken = mcp.handler(event(headers={"Host": "evil.example"}))
    assert broken["statusCode"] == 500 and seen == []  # not configured: no call at all

    monkeypatch.setenv(config.API_URL, "https://abc.execute-api.eu-west-1.amazonaws.com/prod/")
    answer = mcp.handler(event(headers={"Host": "evil.example"}))
    assert answer["statusCode"] == 200 and answer["body"] == "{}"
    assert answer["headers"]["Cache-Control"] == "no-store" and "content-length" not in answer["headers"]
    monkeypatch.setenv(config.OAUTH_ISSUER, "https://api.example.com")
    mcp.handler(event())
    assert seen == ["https://abc.execute-api.eu-west-1.amazonaws.com/prod", "https://api.example.com"]


def test_tools_list_through_the_real_mcp_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.API_URL, "http://kiln.invalid")  # tools/list calls no API
    started = mcp.handler(event())
    assert started["statusCode"] == 200, started["body"]
    assert JsonRpcAnswer.model_validate_json(started["body"]).result["serverInfo"]["name"] == "kiln"  # type: ignore[index]
    listed = mcp.handler(event({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}))
    tools = JsonRpcAnswer.model_validate_json(listed["body"]).result["tools"]  # type: ignore[index]
    assert {"find_projects", "create_project", "archive_project"} <= {tool["name"] for tool in tools}

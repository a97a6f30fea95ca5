"""POST /mcp's cold start: `initialize` and `tools/list` are answered by the real MCP SDK in a
fresh process without loading the Python client's models or HTTP stack (kiln_client.aio,
models, _api, _oauth), which only a tool call needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiln import config
from tests.unit.conftest import principal_context, proxy_event

FUNCTIONS = Path(__file__).resolve().parents[4] / "functions"
HEADERS = {"Accept": "application/json, text/event-stream", "Authorization": "Bearer kiln_test"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
# What answering may load of the client: the package, its errors, and the MCP modules themselves.
MCP_ONLY = ["kiln_client", "kiln_client.errors", "kiln_client.mcp_http", "kiln_client.mcp_server"]

SCRIPT = """\
import json, sys
from kiln.handlers import mcp
answer = mcp.handler(json.loads(sys.argv[1]), None)
print(json.dumps({"answer": answer, "client": sorted(m for m in sys.modules if m.startswith("kiln_client"))}))
"""


def first_request(body: dict[str, Any]) -> dict[str, Any]:
    event = proxy_event("POST", "/mcp", body=body, headers=HEADERS, authorizer=principal_context())
    env = {**os.environ, config.API_URL: "http://kiln.invalid"}  # nothing here calls the API
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(event)], cwd=FUNCTIONS, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("body", [INITIALIZE, TOOLS_LIST], ids=["initialize", "tools/list"])
def test_a_cold_container_answers_without_the_client_library(body: dict[str, Any]) -> None:
    seen = first_request(body)
    answer = json.loads(seen["answer"]["body"])
    assert seen["answer"]["statusCode"] == 200 and answer["id"] == body["id"]
    if body["method"] == "initialize":
        assert answer["result"]["serverInfo"]["name"] == "kiln"
    else:
        assert {"find_projects", "create_project", "archive_project"} <= {t["name"] for t in answer["result"]["tools"]}
    assert seen["client"] == MCP_ONLY


PREPARED = """\
import json, sys
from kiln.handlers import mcp
print(json.dumps({"servers": sorted(mcp._servers), "sdk": "mcp" in sys.modules}))
"""


@pytest.mark.parametrize(
    ("initialization", "prepared"),
    [("snap-start", True), ("provisioned-concurrency", True), ("on-demand", False), (None, False)],
)
def test_a_container_initialized_ahead_of_requests_builds_the_server_then(initialization, prepared) -> None:
    env = {**os.environ, config.API_URL: "http://kiln.invalid"}
    env.pop("AWS_LAMBDA_INITIALIZATION_TYPE", None)
    if initialization:
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = initialization
    done = subprocess.run([sys.executable, "-c", PREPARED], cwd=FUNCTIONS, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen == ({"servers": ["http://kiln.invalid"], "sdk": True} if prepared else {"servers": [], "sdk": False})

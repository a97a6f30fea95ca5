"""The local preview provider: a process per preview on 127.0.0.1, its HTTP API as the preview
workers call it (kiln.adapters.preview_local), a clean environment, and everything stopped with it."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request

import pytest

from kiln.adapters.preview_local import LocalPreviewDeployer
from kiln.domain.previews import PreviewSpec
from local.previews import LocalPreviews

# A service the size of a generated one's entry point: answers its environment as JSON.
SERVER = b"""
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        data = json.dumps({"path": self.path, "env": sorted(os.environ)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

print("starting", flush=True)
ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
"""
CRASHES = (
    b"import sys\n"
    b"print('loading routes', flush=True)\n"
    b"raise SystemExit('ImportError: no module named app.routes.task')\n"
)


def _spec(deployment_id: str, server: bytes) -> PreviewSpec:
    files = {"app/__init__.py": b"", "app/server.py": server}
    return PreviewSpec(deployment_id, "ws_1", "proj_1", "run_1", "2026-01-01T00:00:00.000Z", files)


def _get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.read()


def _until(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.fixture
def previews(monkeypatch):
    monkeypatch.setenv("KILN_TABLE_NAME", "must-not-leak")
    manager = LocalPreviews()
    manager.start()
    yield manager
    manager.stop()


def test_a_preview_runs_on_127_0_0_1_with_a_clean_environment_until_torn_down(previews):
    deployer = LocalPreviewDeployer(previews.url)
    url = deployer.deploy(_spec("dep_a", SERVER))
    assert url.startswith("http://127.0.0.1:")
    assert _until(lambda: deployer.check("dep_a", url).state == "ready")
    answer = _get(url + "/teams")
    assert b'"/teams"' in answer
    assert b"KILN_TABLE_NAME" not in answer and b"AWS_" not in answer  # nothing of the cloud leaks in

    deployer.teardown("dep_a")
    with pytest.raises(urllib.error.URLError):
        _get(url + "/teams")
    assert deployer.check("dep_a", url).state == "failed"  # gone
    deployer.teardown("dep_a")  # nothing left to remove is not an error


def test_a_preview_that_exits_fails_with_its_last_output_lines(previews):
    deployer = LocalPreviewDeployer(previews.url)
    url = deployer.deploy(_spec("dep_b", CRASHES))
    readiness = _until(lambda: (r := deployer.check("dep_b", url)).state == "failed" and r)
    assert readiness, "the crashed process was never reported"
    assert "exited with 1" in readiness.reason
    assert "loading routes" in readiness.reason and "ImportError: no module named app.routes.task" in readiness.reason


def test_stopping_the_manager_stops_every_preview_and_the_api_needs_its_token(previews):
    deployer = LocalPreviewDeployer(previews.url)
    urls = [deployer.deploy(_spec(f"dep_{n}", SERVER)) for n in range(2)]
    assert all(_until(lambda u=u, n=n: deployer.check(f"dep_{n}", u).state == "ready") for n, u in enumerate(urls))
    assert sorted(previews.processes.running()) == ["dep_0", "dep_1"]

    base, _, token = previews.url.rpartition("/")
    with pytest.raises(urllib.error.HTTPError) as caught:
        _get(f"{base}/{'x' * len(token)}/previews/dep_0")
    assert caught.value.code == 404

    previews.stop()
    for url in urls:
        with pytest.raises(urllib.error.URLError):
            _get(url)


def test_a_tree_cannot_write_outside_its_directory(previews):
    with pytest.raises(ValueError, match="not a relative path"):
        previews.processes.start("dep_c", {"../escape.py": b"x"})
    with pytest.raises(ValueError, match="not a deployment id"):
        previews.processes.start("../dep", {"a.py": b"x"})
    assert not os.path.exists(os.path.join(os.path.dirname(str(previews.processes._root)), "escape.py"))

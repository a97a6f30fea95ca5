"""The `local` preview provider: each deploy preview is the generated service running as a
process of its own on a free 127.0.0.1 port, until it expires, is deleted or the local cloud stops.

The preview workers run inside the local cloud (local.aws answers their Invoke calls), but
kiln/ never imports local/: they reach this process manager through a small HTTP API on
127.0.0.1, at a URL holding a random token (KILN_LOCAL_PREVIEWS_URL), the way the deployed
workers reach Lambda's API. kiln.adapters.preview_local is its client.

    PUT    <base>/previews/<deploymentId>  {"files": {path: base64}}  -> {"url"}   (re)start it
    GET    <base>/previews/<deploymentId>  -> {"state": running|exited|missing, "url", "output"}
    DELETE <base>/previews/<deploymentId>  -> 204                                   stop it

A preview process starts with a clean environment (like the build sandbox's, local.lambda_runtime):
it sees none of the local cloud's settings, fake AWS credentials or admin key, and listens on
127.0.0.1 only. That keeps it away from the cloud's data by accident, not by force: the local
cloud is a development tool, not a security boundary, and generated code runs with your user's
rights (docs/deploy.md).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from local.server import BackgroundServer

# What a preview process inherits from the local cloud: the locale and PATH only.
_INHERITED = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ")
_DEPLOYMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ROUTE = re.compile(r"^/(?P<token>[A-Za-z0-9_-]+)/previews/(?P<id>[^/]+)$")
OUTPUT_LINES = 20
MAX_OUTPUT_BYTES = 64 * 1024
STOP_SECONDS = 5


@dataclass
class _Preview:
    process: subprocess.Popen[bytes]
    directory: Path
    log_path: Path
    url: str


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _safe_path(root: Path, raw: str) -> Path:
    path = PurePosixPath(raw)
    if path.is_absolute() or not path.parts or any(part in ("..", ".", "") for part in path.parts):
        raise ValueError(f"not a relative path inside the tree: {raw!r}")
    return root.joinpath(*path.parts)


class PreviewProcesses:
    """One process per live preview, keyed by deployment id."""

    def __init__(self, root: Path | None = None, command: Iterable[str] = (sys.executable, "-m", "app.server")) -> None:
        self._root = Path(root or tempfile.mkdtemp(prefix="kiln-previews-"))
        self._command = tuple(command)
        self._previews: dict[str, _Preview] = {}
        self._lock = threading.Lock()

    def start(self, deployment_id: str, files: dict[str, bytes]) -> str:
        """Write the tree and start the service on a free port; returns its URL. A preview of
        the same id (a retried step) is stopped and replaced."""
        if not _DEPLOYMENT_ID.match(deployment_id):
            raise ValueError(f"not a deployment id: {deployment_id!r}")
        self.stop(deployment_id)
        directory = self._root / deployment_id
        shutil.rmtree(directory, ignore_errors=True)
        tree = directory / "tree"
        for raw, content in files.items():
            path = _safe_path(tree, raw)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        tree.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
        env.update(
            {
                "PORT": str(port),
                "HOST": "127.0.0.1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONUNBUFFERED": "1",
                "TMPDIR": str(directory),
            }
        )
        log_path = directory / "output.log"
        with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would block the service
            process = subprocess.Popen(
                list(self._command),
                cwd=tree,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopping it stops what it started
            )
        url = f"http://127.0.0.1:{port}"
        with self._lock:
            self._previews[deployment_id] = _Preview(process, directory, log_path, url)
        return url

    def state(self, deployment_id: str) -> dict[str, Any]:
        with self._lock:
            preview = self._previews.get(deployment_id)
        if preview is None:
            return {"state": "missing", "url": None, "output": ""}
        code = preview.process.poll()
        output = self._output(preview)
        if code is None:
            return {"state": "running", "url": preview.url, "output": output}
        return {"state": "exited", "url": preview.url, "exitCode": code, "output": output}

    @staticmethod
    def _output(preview: _Preview) -> str:
        try:
            with preview.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - MAX_OUTPUT_BYTES))
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join([line for line in text.splitlines() if line.strip()][-OUTPUT_LINES:])

    def stop(self, deployment_id: str) -> bool:
        """Stop the preview and everything it started; False when there was none."""
        with self._lock:
            preview = self._previews.pop(deployment_id, None)
        if preview is None:
            return False
        _stop_group(preview.process)
        shutil.rmtree(preview.directory, ignore_errors=True)
        return True

    def running(self) -> list[str]:
        with self._lock:
            return [id_ for id_, preview in self._previews.items() if preview.process.poll() is None]

    def stop_all(self) -> None:
        with self._lock:
            ids = list(self._previews)
        for deployment_id in ids:
            self.stop(deployment_id)
        shutil.rmtree(self._root, ignore_errors=True)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):  # the group is gone already
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def control_app(processes: PreviewProcesses, token: str) -> WSGIApp:
    """The process manager's HTTP API (see the module docstring)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        match = _ROUTE.match(environ.get("PATH_INFO", ""))
        if not match or not secrets.compare_digest(match.group("token"), token):
            return _answer(start_response, 404, {"message": "not found"})
        deployment_id = match.group("id")
        method = environ.get("REQUEST_METHOD")
        try:
            if method == "PUT":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(length) or b"{}")
                files = {path: base64.b64decode(content, validate=True) for path, content in body["files"].items()}
                return _answer(start_response, 200, {"url": processes.start(deployment_id, files)})
            if method == "GET":
                return _answer(start_response, 200, processes.state(deployment_id))
            if method == "DELETE":
                processes.stop(deployment_id)
                return _answer(start_response, 204, None)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
            return _answer(start_response, 400, {"message": str(error)})
        return _answer(start_response, 405, {"message": "method not allowed"})

    return app


def _answer(start_response: Callable[..., Any], status: int, body: Any) -> list[bytes]:
    reasons = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    data = b"" if body is None else json.dumps(body).encode()
    start_response(
        f"{status} {reasons[status]}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def stop_executions(stepfunctions: Any, state_machine_arn: str) -> int:
    """Stop the preview workflow's running executions (each waits until its preview expires),
    so stopping the local cloud ends them rather than waiting for them; how many were stopped."""
    stopped = 0
    pages = stepfunctions.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="RUNNING"
    )
    for page in pages:
        for execution in page.get("executions", []):
            with contextlib.suppress(Exception):  # it ended meanwhile
                stepfunctions.stop_execution(executionArn=execution["executionArn"], cause="the local cloud stopped")
                stopped += 1
    return stopped


class _QuietHandler(WSGIRequestHandler):
    """No access log: the request path holds the API's token."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass


class LocalPreviews(BackgroundServer):
    """The process manager and its HTTP API on 127.0.0.1; `stop()` ends every preview too."""

    thread_name = "previews"

    def __init__(self, processes: PreviewProcesses | None = None) -> None:
        self.processes = processes or PreviewProcesses()
        self._token = secrets.token_urlsafe(24)
        app = control_app(self.processes, self._token)
        super().__init__(make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler))

    @property
    def url(self) -> str:
        """The base URL the preview workers call (KILN_LOCAL_PREVIEWS_URL)."""
        return f"http://127.0.0.1:{self.port}/{self._token}"

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.processes.stop_all()

"""Integration fixtures: a real local cloud (`python -m local`) in a subprocess, over HTTP.

The subprocess is started exactly as a developer starts it, so these tests cover the
command line, the environment, provisioning and shutdown, not just the WSGI apps.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.unit.kiln.adapters.fake_chat_completions import MODEL, FakeChatCompletions

REPO = Path(__file__).resolve().parents[2]
# The bearer key the openai-compatible local cloud sends to the scripted endpoint.
CHAT_API_KEY = "sk-integration-test"
READY_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 10


def new_admin_key() -> str:
    """A key of the documented format: kiln_ + 43 URL-safe base64 characters."""
    return "kiln_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


@dataclass
class LocalCloudProcess:
    url: str
    moto_url: str
    admin_key: str
    process: subprocess.Popen
    log_path: Path
    _sessions: list[requests.Session] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def aws(self, service: str) -> Any:
        """A boto3 client of the cloud's emulated AWS."""
        return boto3.client(
            service,
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def session(self, key: str | None = None) -> requests.Session:
        """A session sending `Authorization: Bearer <admin key>` (or the given key)."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {key or self.admin_key}"
        self._sessions.append(session)
        return session

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stop like Ctrl-C (or the given signal); kill after 10 s. Returns the exit code."""
        for session in self._sessions:
            session.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_local_cloud(
    workdir: Path,
    port: int,
    moto_port: int,
    admin_key: str | None = None,
    env: dict[str, str] | None = None,
) -> LocalCloudProcess:
    """Start `python -m local` and return once /health answers 200."""
    admin_key = admin_key or new_admin_key()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KILN_", "MOTO_"))}
    child_env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)]),
            "PYTHONUNBUFFERED": "1",
            "KILN_LOCAL_ADMIN_KEY": admin_key,
        }
    )
    child_env.update(env or {})
    log_path = workdir / f"local-cloud-{port}.log"
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [sys.executable, "-m", "local", "--port", str(port), "--moto-port", str(moto_port)],
            cwd=REPO,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    cloud = LocalCloudProcess(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{moto_port}", admin_key, process, log_path)
    try:
        _wait_until_healthy(cloud)
    except BaseException:
        cloud.stop()  # never leave a server behind, whatever interrupted the wait
        raise
    return cloud


PORT_ATTEMPTS = 3


def start_on_free_ports(
    workdir: Path, free_port: Callable[[], int], admin_key: str | None = None, env: dict[str, str] | None = None
) -> LocalCloudProcess:
    """`start_local_cloud` on ports found free, again on others if one was taken before the cloud
    bound it (a free port is only free when asked: another worker's server, a preview, may take
    it in between)."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return start_local_cloud(workdir, free_port(), free_port(), admin_key, env)
        except RuntimeError as error:
            if "Address already in use" not in str(error) or attempt == PORT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _wait_until_healthy(cloud: LocalCloudProcess) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if cloud.process.poll() is not None:
            raise RuntimeError(f"the local cloud exited with {cloud.process.returncode}:\n{cloud.log()}")
        try:
            if requests.get(f"{cloud.url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or accepted but still provisioning
        time.sleep(0.1)
    raise RuntimeError(f"the local cloud was not healthy within {READY_TIMEOUT_SECONDS} s:\n{cloud.log()}")


@pytest.fixture(scope="session")
def local_cloud_factory(
    tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int]
) -> Iterator[Callable[..., LocalCloudProcess]]:
    """Starts extra local clouds (own ports, own data); all are stopped at the session's end."""
    started: list[LocalCloudProcess] = []
    workdir = tmp_path_factory.mktemp("local-cloud")

    def start(admin_key: str | None = None, env: dict[str, str] | None = None) -> LocalCloudProcess:
        cloud = start_on_free_ports(workdir, free_port, admin_key, env)
        started.append(cloud)
        return cloud

    yield start
    for cloud in started:
        cloud.stop()


@pytest.fixture(scope="session")
def local_cloud(local_cloud_factory: Callable[..., LocalCloudProcess]) -> Iterator[LocalCloudProcess]:
    """The shared local cloud of this test worker: `.url`, `.admin_key`, `.moto_url`."""
    cloud = local_cloud_factory()
    yield cloud
    cloud.stop()  # now rather than at the session's end


@pytest.fixture
def api(local_cloud: LocalCloudProcess) -> requests.Session:
    """A requests session with the admin key; prefix paths with `local_cloud.url`."""
    return local_cloud.session()


@pytest.fixture(scope="module")
def chat() -> Iterator[FakeChatCompletions]:
    """A scripted chat-completions endpoint on 127.0.0.1, one per test module (its queue and
    its recorded requests are that module's own)."""
    fake = FakeChatCompletions()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def model_cloud(
    chat: FakeChatCompletions, local_cloud_factory: Callable[..., LocalCloudProcess]
) -> Iterator[LocalCloudProcess]:
    """A local cloud of its own whose generator is `openai-compatible`, talking to `chat`
    (model MODEL, key CHAT_API_KEY)."""
    cloud = local_cloud_factory(
        env={
            "KILN_GENERATOR": "openai-compatible",
            "KILN_OPENAI_BASE_URL": chat.base_url,
            "KILN_OPENAI_MODEL": MODEL,
            "KILN_OPENAI_API_KEY": CHAT_API_KEY,
        }
    )
    yield cloud
    cloud.stop()  # now rather than at the session's end

"""The `local` preview provider's client: the local cloud's preview process manager over HTTP.

The local cloud runs each preview as a process on 127.0.0.1 (local/previews.py); the preview
workers, which run inside it, reach that manager at KILN_LOCAL_PREVIEWS_URL. Only the local
cloud sets it (kiln.config refuses it when deployed).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from kiln.adapters.preview_lambda import probe
from kiln.domain.previews import PreviewSpec, Readiness

TIMEOUT_SECONDS = 30


class LocalPreviewDeployer:
    """kiln.domain.previews.PreviewDeployer for the `local` provider."""

    def __init__(self, base_url: str, probe: Callable[[str], int | None] = probe) -> None:
        self._base = base_url.rstrip("/")
        self._probe = probe

    def _call(self, method: str, deployment_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self._base}/previews/{deployment_id}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"the local preview manager answered {error.code}: {error.read()[:500]!r}") from None
        return json.loads(raw) if raw else {}

    def deploy(self, spec: PreviewSpec) -> str:
        files = {path: base64.b64encode(content).decode() for path, content in spec.files.items()}
        return str(self._call("PUT", spec.deployment_id, {"files": files})["url"])

    def check(self, deployment_id: str, url: str) -> Readiness:
        state = self._call("GET", deployment_id)
        if state.get("state") == "missing":
            return Readiness("failed", "the preview process is gone")
        if state.get("state") == "exited":
            output = str(state.get("output") or "").strip() or "(it printed nothing)"
            return Readiness("failed", f"the preview process exited with {state.get('exitCode')}:\n{output}")
        status = self._probe(url)
        if status is None:
            output = str(state.get("output") or "").strip()
            said = f"; its output:\n{output}" if output else ""
            return Readiness("starting", "the process does not answer yet" + said)
        return Readiness("ready")

    def teardown(self, deployment_id: str) -> None:
        self._call("DELETE", deployment_id)

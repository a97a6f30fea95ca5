"""A werkzeug server on a background thread: the shape shared by the AWS emulator and the gateway."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer


class BackgroundServer:
    """Bound at construction (a port conflict fails early), served on a daemon thread."""

    thread_name = "server"

    def __init__(self, server: BaseWSGIServer) -> None:
        self._server = server
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_port

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name=self.thread_name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

"""Fixtures shared by every test directory."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import pytest

from kiln import config

# Tests import handler and worker modules (for their models and constants, or to call them), and
# those check their function's settings as they are imported, the cold start check: give them a
# valid local environment before any test module is collected. Tests that need more set it.
for _name, _value in (
    (config.ENVIRONMENT, "local"),
    (config.TABLE_NAME, "kiln-unit"),
    (config.BUCKET_NAME, "kiln-unit-bucket"),
    (config.CONNECTIONS_TABLE, "kiln-unit-connections"),
    (config.WEBSOCKET_ENDPOINT, "http://127.0.0.1:9/ws"),
):
    os.environ.setdefault(_name, _value)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """Returns a function giving a port free on 127.0.0.1 right now (servers bind it next)."""
    return _free_port

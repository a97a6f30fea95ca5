"""The package's public names load on first use: each resolves to the class its module defines,
an unknown name is still an error, and importing a submodule (the MCP server) does not load the
models and the HTTP client with it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kiln_client
from kiln_client import aio, client, errors


def test_every_public_name_is_the_one_its_module_defines() -> None:
    for name in kiln_client.__all__:
        assert getattr(kiln_client, name).__name__ == name
    from kiln_client import APIError, AsyncKiln, Kiln

    assert (AsyncKiln, Kiln, APIError) == (aio.AsyncKiln, client.Kiln, errors.APIError)
    assert set(kiln_client.__all__) <= set(dir(kiln_client))


def test_an_unknown_name_is_still_an_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Kilm'"):
        kiln_client.Kilm  # noqa: B018
    with pytest.raises(ImportError):
        from kiln_client import Kilm  # type: ignore[attr-defined]  # noqa: F401


def test_the_mcp_server_loads_without_the_models_or_the_http_client() -> None:
    script = (
        "import sys\n"
        "import kiln_client.mcp_server\n"
        "print(sorted(m for m in sys.modules if m.startswith('kiln_client')))\n"
        "from kiln_client import AsyncKiln\n"
        "print('kiln_client.models' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    before, after = out.splitlines()
    assert before == "['kiln_client', 'kiln_client.errors', 'kiln_client.mcp_server']"
    assert after == "True"  # asked for: loaded then

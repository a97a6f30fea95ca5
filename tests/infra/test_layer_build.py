"""layers/build.py: skip when current, never leave a half-built layer, strip what Lambda provides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from layers import build

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("pydantic==2.14.4\n")
    return path


def fake_pip(calls: list[list[str]], *, fail: bool = False):
    def run(command: list[str], check: bool) -> None:
        calls.append(command)
        if fail:
            raise subprocess.CalledProcessError(1, command)
        target = Path(command[command.index("--target") + 1])
        for name in ("pydantic", "boto3", "botocore", "s3transfer", "bin"):
            (target / name).mkdir()
        (target / "pydantic" / "__pycache__").mkdir()
        (target / "pydantic" / "__init__.py").write_text("")
        (target / "pydantic-2.14.4.dist-info").mkdir()
        (target / "botocore-1.40.0.dist-info").mkdir()

    return run


@pytest.fixture
def no_target_python(monkeypatch) -> None:
    """No CPython of the runtime's version on this machine: the layer ships sources only."""
    monkeypatch.setattr(build, "target_python", lambda: None)


@pytest.mark.usefixtures("no_target_python")
def test_build_prunes_and_stamps_then_skips(tmp_path: Path, requirements: Path, monkeypatch, capsys) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(build.subprocess, "run", fake_pip(calls))
    out = tmp_path / "layer"

    assert build.main(requirements, out) == 0
    assert len(calls) == 1
    command = calls[0]
    for flag, value in (
        ("--platform", "manylinux_2_28_aarch64"),
        ("--python-version", "3.13"),
        ("--implementation", "cp"),
        ("-r", str(requirements)),
    ):
        assert command[command.index(flag) + 1] == value
    assert "--only-binary=:all:" in command
    assert sorted(p.name for p in (out / "python").iterdir()) == ["pydantic", "pydantic-2.14.4.dist-info"]
    assert not list(out.rglob("__pycache__"))
    assert build.is_current(requirements, out)

    assert build.main(requirements, out) == 0
    assert len(calls) == 1, "a second build with the same requirements does nothing"
    assert "nothing to do" in capsys.readouterr().out

    requirements.write_text("pydantic==2.14.5\n")
    assert not build.is_current(requirements, out)


@pytest.mark.usefixtures("no_target_python")
def test_failed_build_keeps_the_previous_layer(tmp_path: Path, requirements: Path, monkeypatch) -> None:
    out = tmp_path / "layer"
    monkeypatch.setattr(build.subprocess, "run", fake_pip([]))
    build.main(requirements, out)
    requirements.write_text("pydantic==9.9.9\n")
    monkeypatch.setattr(build.subprocess, "run", fake_pip([], fail=True))

    assert build.main(requirements, out) == 1
    assert (out / "python" / "pydantic").is_dir()
    assert not out.with_name("layer.partial").exists()


def test_requirements_pin_the_project_runtime_dependencies() -> None:
    import tomllib

    pyproject = tomllib.loads((build.ROOT / "pyproject.toml").read_text())
    runtime = {d for d in pyproject["project"]["dependencies"] if not d.startswith(("boto3", "botocore"))}
    listed = {
        line.strip()
        for line in build.REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert listed == runtime


def test_the_layer_ships_unchecked_bytecode_of_the_target_interpreter(
    tmp_path: Path, requirements: Path, monkeypatch
) -> None:
    # This interpreter stands in for the runtime's: what matters is whose bytecode ships.
    monkeypatch.setattr(build, "target_python", lambda: sys.executable)
    real_run = subprocess.run

    def pip_or_compile(command: list[str], **kwargs):
        if "--target" in command:
            return fake_pip([])(command, check=kwargs["check"])
        return real_run(command, **kwargs)

    monkeypatch.setattr(build.subprocess, "run", pip_or_compile)
    out = tmp_path / "layer"
    assert build.main(requirements, out) == 0
    (compiled,) = (out / "python" / "pydantic" / "__pycache__").iterdir()
    assert compiled.name == f"__init__.{sys.implementation.cache_tag}.pyc"
    # PEP 552 flags: hash-based (bit 0) without checking the source (bit 1 clear).
    assert int.from_bytes(compiled.read_bytes()[4:8], "little") == 0b01
    assert (out / build.BYTECODE_NAME).is_file() and build.is_current(requirements, out)


def test_a_layer_without_bytecode_is_rebuilt_once_an_interpreter_exists(
    tmp_path: Path, requirements: Path, monkeypatch
) -> None:
    monkeypatch.setattr(build, "target_python", lambda: None)
    monkeypatch.setattr(build.subprocess, "run", fake_pip([]))
    out = tmp_path / "layer"
    build.main(requirements, out)
    assert build.is_current(requirements, out)
    monkeypatch.setattr(build, "target_python", lambda: sys.executable)
    assert not build.is_current(requirements, out)


def test_the_target_interpreter_is_the_runtime_version_or_none(monkeypatch) -> None:
    found = build.target_python()
    if found is not None:
        version = subprocess.run(
            [found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        assert version.stdout.strip() == "(3, 13)"
    monkeypatch.setenv(build.TARGET_PYTHON, sys.executable)  # a 3.11 is not the runtime's: refused
    if sys.version_info[:2] != (3, 13):
        assert build.target_python() != sys.executable


def test_the_mcp_layer_copies_kiln_client_and_rebuilds_when_it_changes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(build, "target_python", lambda: None)
    base = tmp_path / "requirements.txt"
    base.write_text("pydantic==2.14.4\n")
    mcp = tmp_path / "requirements-mcp.txt"
    mcp.write_text("-r requirements.txt\nmcp==2.3.0\n")
    package = tmp_path / "src" / "kiln_client"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__pycache__" / "stale.pyc").write_bytes(b"")
    calls: list[list[str]] = []
    monkeypatch.setattr(build.subprocess, "run", fake_pip(calls))
    out = tmp_path / "layer-mcp"

    assert build.main(mcp, out, (package,)) == 0
    assert calls[0][calls[0].index("-r") + 1] == str(mcp)
    shipped = out / "python" / "kiln_client"
    assert (shipped / "__init__.py").is_file() and not (shipped / "__pycache__").exists()
    assert build.is_current(mcp, out, (package,))
    (package / "__init__.py").write_text("# changed\n")
    assert not build.is_current(mcp, out, (package,)), "a change to kiln_client rebuilds the layer"
    (package / "__init__.py").write_text("")
    assert build.is_current(mcp, out, (package,))
    base.write_text("pydantic==2.14.5\n")
    assert not build.is_current(mcp, out, (package,)), "so does a change to the requirements it includes"


def test_the_mcp_requirements_pin_what_the_clients_package_needs() -> None:
    import tomllib

    client = tomllib.loads((build.ROOT / "clients" / "python" / "pyproject.toml").read_text())
    listed = {
        line.strip()
        for line in build.MCP_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-r"))
    }
    assert {"mcp", "httpx"} <= {line.split("==")[0] for line in listed}
    assert listed <= set(client["project"]["dependencies"])
    assert "-r requirements.txt" in build.MCP_REQUIREMENTS.read_text()
    requirements, _, packages = build.LAYERS["mcp"]
    assert requirements == build.MCP_REQUIREMENTS and packages == (build.CLIENT_PACKAGE,)
    assert (build.CLIENT_PACKAGE / "mcp_http.py").is_file()

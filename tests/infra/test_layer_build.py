"""layers/build.py: skip when current, never leave a half-built layer, strip what Lambda provides."""

from __future__ import annotations

import subprocess
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

"""Build the Lambda dependency layers into .build/layer (every function) and .build/layer-mcp
(the MCP function: the same plus the MCP SDK and kiln_client) without Docker.

pip downloads manylinux aarch64 wheels for CPython 3.13 (the functions' runtime and
architecture) into .build/layer/python, the directory layout Lambda expects for Python layers.
The build is skipped when the stamp file holds the sha256 of layers/requirements.txt, so
repeated builds are instant; delete .build/layer to force one. A failed build leaves the
previous layer untouched.

Bytecode: Lambda's /opt and /var/task are read-only, so modules shipped without __pycache__
are compiled from source at every cold start (about 150 ms for Kiln and this layer, measured
with `python -m tests.bench --only cold --no-bytecode`). When a CPython 3.13 interpreter is
found (`target_python`), the layer, and the functions asset (infra/lambdas.py), are compiled
with it. The bytecode is hash-based and unchecked (PEP 552): a zip does not keep the sources'
modification times, which a timestamp-based .pyc would need to match, and the code and its
bytecode ship together and never change apart, so there is nothing for the runtime to check.
Without such an interpreter nothing is compiled and the build says so; another CPython's
bytecode would be ignored by the runtime (its magic number differs).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "layers" / "requirements.txt"
OUT = ROOT / ".build" / "layer"
# The second layer, for the one function that serves MCP (kiln.handlers.mcp): the first one's
# requirements plus the MCP SDK, and the kiln_client package copied from the source tree (it is
# not on an index, and pip's --only-binary cannot build it). Other functions never load it.
MCP_REQUIREMENTS = ROOT / "layers" / "requirements-mcp.txt"
MCP_OUT = ROOT / ".build" / "layer-mcp"
CLIENT_PACKAGE = ROOT / "clients" / "python" / "src" / "kiln_client"
# name -> (requirements, output directory, source packages copied in as they are)
LAYERS: dict[str, tuple[Path, Path, tuple[Path, ...]]] = {
    "dependencies": (REQUIREMENTS, OUT, ()),
    "mcp": (MCP_REQUIREMENTS, MCP_OUT, (CLIENT_PACKAGE,)),
}
STAMP_NAME = ".requirements.sha256"

# Lambda's arm64 Python 3.13 runtime (Amazon Linux 2023, glibc 2.34) runs any of these
# manylinux tags. pip matches --platform tags literally, so each one a wheel may carry is
# listed: many projects (pydantic-core among them) publish only manylinux2014/2_17 wheels.
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64")
PYTHON_VERSION = "3.13"
# Provided by the Lambda runtime; a second copy would only grow the layer and shadow the
# runtime's version.
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")
# Written next to the stamp when the layer holds bytecode for the runtime's interpreter.
BYTECODE_NAME = ".bytecode"
TARGET_PYTHON = "KILN_TARGET_PYTHON"  # an explicit interpreter to compile with


def digest(requirements: Path, packages: tuple[Path, ...] = ()) -> str:
    """What the layer is built from: the requirements, the files they include with `-r`, and the
    sources of the packages copied in, so a change to any of them rebuilds it."""
    hashed = hashlib.sha256(requirements.read_bytes())
    for line in requirements.read_text().splitlines():
        if line.strip().startswith("-r "):
            hashed.update((requirements.parent / line.strip()[3:].strip()).read_bytes())
    for package in packages:
        for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            hashed.update(str(path.relative_to(package.parent)).encode() + b"\0" + path.read_bytes())
    return hashed.hexdigest()


def is_current(requirements: Path = REQUIREMENTS, out: Path = OUT, packages: tuple[Path, ...] = ()) -> bool:
    """Built from these requirements, and with bytecode unless no interpreter could compile it."""
    stamp = out / STAMP_NAME
    current = digest(requirements, packages)
    if not (stamp.is_file() and (out / "python").is_dir() and stamp.read_text().strip() == current):
        return False
    return (out / BYTECODE_NAME).is_file() or target_python() is None


def _reports_version(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2], sys.implementation.name)"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.split() == [PYTHON_VERSION, "cpython"]


def target_python() -> str | None:
    """A CPython of the runtime's version (KILN_TARGET_PYTHON, python3.13 on PATH, pyenv's), or None."""
    candidates = [os.environ.get(TARGET_PYTHON), shutil.which(f"python{PYTHON_VERSION}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted((str(p) for p in pyenv.glob(f"{PYTHON_VERSION}.*/bin/python{PYTHON_VERSION}")), reverse=True)
    return next((c for c in candidates if c and _reports_version(c)), None)


def compile_bytecode(directory: Path, python: str) -> bool:
    """Compile every module under `directory` with `python`, as unchecked hash-based .pyc files.

    A module that does not compile (a template shipped as .py, code for another version) keeps
    no .pyc and is compiled at import as before, if it is ever imported; the rest still count.
    """
    command = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(directory)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"bytecode: some modules under {directory} did not compile:\n{done.stdout[-2000:]}", file=sys.stderr)
    return any(directory.rglob("*.pyc"))


def _distribution(entry: Path) -> str:
    name = entry.name.lower()
    if name.endswith((".dist-info", ".egg-info")):
        name = name.rsplit(".", 1)[0].split("-")[0]
    return name.replace("-", "_")


def prune(target: Path) -> list[str]:
    """Delete runtime-provided packages, console scripts and bytecode caches; return what went."""
    removed: list[str] = []
    for entry in sorted(target.iterdir()):
        if _distribution(entry) in PROVIDED_BY_RUNTIME or entry.name == "bin":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            removed.append(entry.name)
    for cache in sorted(target.rglob("__pycache__"), reverse=True):
        if cache.is_dir():
            shutil.rmtree(cache)
            removed.append(str(cache.relative_to(target)))
    return removed


def pip_command(requirements: Path, target: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
        "--only-binary=:all:",
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]


def build(requirements: Path = REQUIREMENTS, out: Path = OUT, packages: tuple[Path, ...] = ()) -> None:
    """pip into a staging directory, then swap it in: a failed build never leaves a half layer."""
    staging = out.with_name(out.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    target = staging / "python"
    target.mkdir(parents=True)
    command = pip_command(requirements, target)
    print("layer: pip install " + " ".join(command[5:]), flush=True)
    started = time.monotonic()
    try:
        subprocess.run(command, check=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    removed = prune(target)
    for package in packages:
        shutil.copytree(package, target / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    python = target_python()
    if python is None:
        print(
            f"layer: no CPython {PYTHON_VERSION} found (set {TARGET_PYTHON}); shipped without bytecode, "
            "so Lambda compiles the layer at every cold start"
        )
    elif compile_bytecode(target, python):
        (staging / BYTECODE_NAME).write_text(f"{python}\n")
        print(f"layer: compiled to bytecode with {python} (unchecked hash-based .pyc)")
    (staging / STAMP_NAME).write_text(digest(requirements, packages) + "\n")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)

    shown = [r for r in removed if "__pycache__" not in r]
    if shown:
        print(f"layer: removed {', '.join(shown)} (provided by the Lambda runtime or not needed)")
    if len(removed) > len(shown):
        print(f"layer: removed {len(removed) - len(shown)} __pycache__ directories")
    files = [p for p in (out / "python").rglob("*") if p.is_file()]
    distributions = sorted(p.name.removesuffix(".dist-info") for p in (out / "python").glob("*.dist-info"))
    print(
        f"layer: built {out} ({sum(p.stat().st_size for p in files) / 1e6:.1f} MB, "
        f"{len(distributions)} distributions) in {time.monotonic() - started:.1f}s"
    )
    for name in distributions:
        print(f"layer:   {name}")


def main(requirements: Path = REQUIREMENTS, out: Path = OUT, packages: tuple[Path, ...] = ()) -> int:
    if is_current(requirements, out, packages):
        print(
            f"layer: {out} is up to date with {requirements.name} "
            f"(sha256 {digest(requirements, packages)[:12]}); nothing to do"
        )
        return 0
    try:
        build(requirements, out, packages)
    except subprocess.CalledProcessError as exc:
        print(
            f"layer: pip failed (exit code {exc.returncode}); it needs an index serving "
            f"{' or '.join(PLATFORMS)} wheels for CPython {PYTHON_VERSION} of every pinned package. "
            f"{out} was left as it was.",
            file=sys.stderr,
        )
        return exc.returncode or 1
    return 0


def main_all(names: list[str]) -> int:
    """Build the named layers (all of them by default), stopping at the first failure."""
    for name in names or list(LAYERS):
        if name not in LAYERS:
            print(f"layer: no layer named {name!r} (known: {', '.join(LAYERS)})", file=sys.stderr)
            return 2
        code = main(*LAYERS[name])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main_all(sys.argv[1:]))

"""Build the Lambda dependency layer into .build/layer without Docker.

pip downloads manylinux aarch64 wheels for CPython 3.13 (the functions' runtime and
architecture) into .build/layer/python, the directory layout Lambda expects for Python layers.
The build is skipped when the stamp file holds the sha256 of layers/requirements.txt, so
repeated builds are instant; delete .build/layer to force one. A failed build leaves the
previous layer untouched.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "layers" / "requirements.txt"
OUT = ROOT / ".build" / "layer"
STAMP_NAME = ".requirements.sha256"

# Lambda's arm64 Python 3.13 runtime (Amazon Linux 2023, glibc 2.34) runs any of these
# manylinux tags. pip matches --platform tags literally, so each one a wheel may carry is
# listed: many projects (pydantic-core among them) publish only manylinux2014/2_17 wheels.
PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64")
PYTHON_VERSION = "3.13"
# Provided by the Lambda runtime; a second copy would only grow the layer and shadow the
# runtime's version.
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")


def digest(requirements: Path) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def is_current(requirements: Path = REQUIREMENTS, out: Path = OUT) -> bool:
    stamp = out / STAMP_NAME
    return stamp.is_file() and (out / "python").is_dir() and stamp.read_text().strip() == digest(requirements)


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
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        *[arg for platform in PLATFORMS for arg in ("--platform", platform)],
        "--only-binary=:all:",
        "--python-version", PYTHON_VERSION,
        "--implementation", "cp",
        "--target", str(target),
        "-r", str(requirements),
    ]


def build(requirements: Path = REQUIREMENTS, out: Path = OUT) -> None:
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
    (staging / STAMP_NAME).write_text(digest(requirements) + "\n")
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)

    shown = [r for r in removed if "__pycache__" not in r]
    if shown:
        print(f"layer: removed {', '.join(shown)} (provided by the Lambda runtime or not needed)")
    if len(removed) > len(shown):
        print(f"layer: removed {len(removed) - len(shown)} __pycache__ directories")
    files = [p for p in (out / "python").rglob("*") if p.is_file()]
    packages = sorted(p.name.removesuffix(".dist-info") for p in (out / "python").glob("*.dist-info"))
    print(f"layer: built {out} ({sum(p.stat().st_size for p in files) / 1e6:.1f} MB, "
          f"{len(packages)} distributions) in {time.monotonic() - started:.1f}s")
    for name in packages:
        print(f"layer:   {name}")


def main(requirements: Path = REQUIREMENTS, out: Path = OUT) -> int:
    if is_current(requirements, out):
        print(f"layer: {out} is up to date with {requirements.name} (sha256 {digest(requirements)[:12]}); "
              "nothing to do")
        return 0
    try:
        build(requirements, out)
    except subprocess.CalledProcessError as exc:
        print(f"layer: pip failed (exit code {exc.returncode}); it needs an index serving {' or '.join(PLATFORMS)} wheels "
              f"for CPython {PYTHON_VERSION} of every pinned package. {out} was left as it was.", file=sys.stderr)
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

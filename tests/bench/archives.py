"""Export throughput against `zip -r` of the same tree, and peak memory of an export whose
project is 4x larger than a memory budget.

ours      kiln.domain.archive_steps.ArchiveSteps.run_export (zip) from a repository held in
          memory into a sink that discards (S3 is not measured, the archive writing is)
baseline  `zip -r -q` of the same tree on disk (Python's zipfile when `zip` is not installed)
The ratio is ours / baseline wall time. Peak memory: a subprocess exports a project of
4 x BUDGET_MIB with tracemalloc on; the peak is compared with the budget.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from tests.unit.kiln.domain.test_archive_steps import WORKSPACE

TREE_MIB = 64
BUDGET_MIB = 64
FILE_KIB = 512


def _tree(total_mib: int) -> dict[str, bytes]:
    """Half compressible text, half random bytes, in FILE_KIB files."""
    files = {}
    count = total_mib * 1024 // FILE_KIB
    text = (b"def handler(event, context):\n    return {'statusCode': 200}\n" * 10_000)[: FILE_KIB * 1024]
    for i in range(count):
        files[f"src/module_{i // 32:03d}/file_{i:05d}.{'py' if i % 2 else 'bin'}"] = (
            text if i % 2 else os.urandom(FILE_KIB * 1024)
        )
    return files


def _prepared(files: dict[str, bytes]):
    """The export steps over the shared in-memory fakes holding `files` on main, and the operation id."""
    from tests.unit.kiln.domain.test_archive_steps import export_operation, main_of, world

    fakes = world(keep_bodies=False)  # the archive is counted as it streams, not kept
    operation = export_operation("zip", main_of(fakes, files))
    fakes.operations.put(WORKSPACE, operation)
    return fakes.archive_steps(), operation.id


def _export(files: dict[str, bytes]) -> float:
    steps, operation_id = _prepared(files)
    started = time.perf_counter()
    steps.run_export(WORKSPACE, operation_id)
    return time.perf_counter() - started


def _baseline(files: dict[str, bytes]) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "tree"
        for path, data in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        out = Path(directory) / "out.zip"
        started = time.perf_counter()
        if shutil.which("zip"):
            subprocess.run(["zip", "-r", "-q", str(out), "."], cwd=root, check=True)
            return time.perf_counter() - started, "zip -r"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(files):
                archive.write(root / path, path)
        return time.perf_counter() - started, "Python zipfile (zip is not installed)"


_PEAK_SCRIPT = """
import sys, tracemalloc
sys.path[:0] = ["functions", "."]
from tests.bench.archives import _tree, _prepared
steps, operation_id = _prepared(_tree(int(sys.argv[1])))
tracemalloc.start()  # the export only: the repository held in memory stands in for S3
steps.run_export("ws_01m885m8rskqxxjknrtpgbxm1p", operation_id)
print(tracemalloc.get_traced_memory()[1])
"""


def run() -> tuple[str, float]:
    files = _tree(TREE_MIB)
    ours = min(_export(files) for _ in range(2))
    baseline, label = _baseline(files)
    baseline = min(baseline, _baseline(files)[0])
    peak = int(
        subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, str(4 * BUDGET_MIB)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        ).stdout.strip()
    )
    ratio = ours / baseline
    lines = [
        "Exports (zip of a repository tree)",
        "==================================",
        f"  tree: {TREE_MIB} MiB in {len(files)} files, half text, half random",
        f"  Kiln export (streaming, deterministic):  {ours:6.2f} s  {TREE_MIB / ours:6.1f} MiB/s",
        f"  {label:<40} {baseline:6.2f} s  {TREE_MIB / baseline:6.1f} MiB/s",
        f"  ratio Kiln / baseline:                   {ratio:6.2f}x",
        f"  peak memory exporting {4 * BUDGET_MIB} MiB (4x a {BUDGET_MIB} MiB budget): {peak / 2**20:.1f} MiB traced",
    ]
    return "\n".join(lines) + "\n", ratio

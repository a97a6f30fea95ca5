"""(a) Cold start: import a handler module fresh and serve its first request, ours vs bare.

The handlers in bare/ repeat the same few lines on purpose: each must be the smallest
self-contained module doing the same AWS work, so a helper shared between them would become
part of what is measured.

Every sample is a new Python process. Inside it, t0 is taken before the handler module is
imported and t1 after its first invocation returns, so interpreter start-up is left out of
both sides alike. The AWS calls are real HTTP calls to a moto server run by the bench
process (AWS_ENDPOINT_URL), so both sides build their boto3 clients and make the same calls.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench import routes
from tests.bench.report import median, ratio, table, times
from tests.bench.world import (
    AWS_ENV,
    BARE_DIR,
    FUNCTIONS,
    ROOT,
    Scenario,
    World,
    cold_scenarios,
    environment,
    provision,
)

TARGET = 1.2  # issue 18's cold-start target, ours / bare (the summary's COLD_TARGET)

# Runs in the fresh process. Nothing but `sys` and `time` is imported before t0; the event is a
# literal compiled with the code, so building it costs no import either.
CHILD = """\
import sys, time
event = {event!r}
t0 = time.perf_counter()
__import__({module!r})
handler = sys.modules[{module!r}].handler
t1 = time.perf_counter()
try:
    result = handler(event, None)
except Exception as error:
    result = {{"error": repr(error)}}
t2 = time.perf_counter()
status = result.get("statusCode", 200 if "principalId" in result else result.get("error", 0))
print("BENCH", t1 - t0, t2 - t0, repr(status).replace(" ", "_"))
"""

# --no-bytecode: the way Lambda runs the code. layers/build.py installs the layer with
# --no-compile and prunes __pycache__, the function asset excludes them, and /var/task and /opt
# are read-only: every cold start compiles Kiln's modules and the layer's packages from source.
# boto3 comes with the runtime and keeps its bytecode here.
LAYER_REQUIREMENTS = ROOT / "layers" / "requirements.txt"
PROVIDED_BY_RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
_NO_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


@dataclass
class Samples:
    total: list[float] = field(default_factory=list)  # seconds, import + first invocation
    imports: list[float] = field(default_factory=list)  # seconds, import only


@dataclass
class ColdResult:
    name: str
    label: str
    ours: Samples | None
    bare: Samples | None
    calls_aws: bool = True
    failed: str = ""  # why the scenario could not be measured
    expected: str = ""  # the status both sides must answer, and why when it is not the success status

    @property
    def ratio(self) -> float:
        if not self.ours or not self.bare:
            return float("nan")
        return ratio(median(self.ours.total), median(self.bare.total))

    @property
    def ms(self) -> tuple[float, float]:
        """Median milliseconds, ours and bare."""
        if not self.ours or not self.bare:
            return float("nan"), float("nan")
        return median(self.ours.total) * 1e3, median(self.bare.total) * 1e3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _layer_distributions() -> list[str]:
    """layers/requirements.txt and what they require (extras aside), as installed in this venv."""
    from importlib.metadata import PackageNotFoundError, distribution

    pending = [
        _name(line)
        for line in LAYER_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    found: list[str] = []
    while pending:
        name = pending.pop()
        if name in found or name in PROVIDED_BY_RUNTIME:
            continue
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        found.append(name)
        pending += [_name(r) for r in requires if "extra ==" not in r]
    return found


def stage_as_shipped(into: Path, functions: Path = FUNCTIONS) -> Path:
    """A copy of Kiln's code as the build ships it: with the OpenAPI document the build writes
    (kiln.openapi.package), which GET /v1/openapi.json serves instead of generating it from the
    source tree on its first request. Bytecode caches are copied along (their source times too)."""
    from kiln import openapi

    code = into / "task"
    shutil.copytree(functions / "kiln", code / "kiln", ignore=shutil.ignore_patterns("*.egg-info"))
    openapi.package(code)
    return code


def stage_without_bytecode(into: Path, functions: Path = FUNCTIONS) -> list[Path]:
    """Copies of Kiln's code and of the layer's packages without any bytecode; the PYTHONPATH to use."""
    from importlib.metadata import distribution

    from kiln import openapi

    code, layer = into / "task", into / "opt-python"
    shutil.copytree(functions / "kiln", code / "kiln", ignore=_NO_BYTECODE)
    openapi.package(code)
    layer.mkdir(parents=True)
    for name in _layer_distributions():
        dist = distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in sorted(tops):
            if top.endswith((".dist-info", ".egg-info", ".pth")) or top in ("..", "bin", "__pycache__"):
                continue
            source = Path(str(dist.locate_file(top)))
            if source.is_dir():
                shutil.copytree(source, layer / top, ignore=_NO_BYTECODE, dirs_exist_ok=True)
            elif source.suffix in (".py", ".so", ".pyd"):
                shutil.copy2(source, layer / top)
    return [code, layer]


def _child_env(
    endpoint: str, world: World, bare_dir: Path, code_path: list[Path], no_bytecode: bool = False
) -> dict[str, str]:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    missing = str(bare_dir / "no-such-aws-file")  # no ~/.aws files: Lambda has none either
    env.update(AWS_ENV)
    env.update(world.env)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_CONFIG_FILE": missing,
            "AWS_SHARED_CREDENTIALS_FILE": missing,
            # Both sides search the same path: Kiln's functions, then the bare modules.
            "PYTHONPATH": os.pathsep.join(str(p) for p in [*code_path, bare_dir]),
            # As infra/lambdas.py deploys Kiln's functions (no plugin scan on the first model).
            "PYDANTIC_DISABLE_PLUGINS": "__all__",
        }
    )
    if no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(module: str, event: dict[str, Any], env: dict[str, str]) -> tuple[float, float, str]:
    code = CHILD.format(event=event, module=module)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"cold sample of {module} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    _, imported, total, status = lines[-1].split(" ", 3)
    return float(total), float(imported), status


def _interpreter_start(env: dict[str, str], samples: int) -> float:
    """Median wall time of `python -c pass` in the same environment (excluded from the figures)."""
    walls = []
    for _ in range(samples):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        walls.append(time.perf_counter() - start)
    return median(walls)


def _sample(scenario: Scenario, world: World, env: dict[str, str], bare: bool) -> tuple[float, float]:
    module = f"bare_{scenario.bare}" if bare else scenario.module
    total, imported, status = _run(module, scenario.event(world), env)
    if status != str(scenario.status):
        side = "bare" if bare else "ours"
        raise RuntimeError(f"cold sample of {scenario.label} ({side}) answered {status}, expected {scenario.status}")
    return total, imported


def run(
    samples: int,
    progress: bool = True,
    no_bytecode: bool = False,
    functions: Path = FUNCTIONS,
    only_routes: frozenset[str] | None = None,
) -> tuple[str, list[ColdResult]]:
    """`functions`: the directory holding the `kiln` package to measure (a copy with a change to try);
    `only_routes`: the route names to measure (None: every route and the authorizer)."""
    from moto.server import ThreadedMotoServer

    from local import atomic

    # No access log per AWS call, nor moto's traceback when a twin replays a write the service
    # refuses (moto answers DeleteUsagePlanKey of a key already removed with a 500): expected.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    # DynamoDB's atomic conditions and transactions, as in the local cloud: the limiter's checks
    # run on threads, and moto's own TransactWriteItems is not safe against a concurrent write.
    atomic.install()
    rows = cold_scenarios()
    if only_routes is not None:
        unknown = only_routes - {name for name, _, _ in rows}
        if unknown:
            raise SystemExit(f"--routes: no route named {', '.join(sorted(unknown))}")
        rows = [row for row in rows if row[0] in only_routes]
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    bare_dir = Path(tempfile.mkdtemp(prefix="kiln-bench-bare-"))
    try:
        for source in BARE_DIR.glob("*.py"):
            shutil.copy(source, bare_dir / f"bare_{source.name}")
        staged = bare_dir / "staged"
        code_path = stage_without_bytecode(staged, functions) if no_bytecode else [stage_as_shipped(staged, functions)]
        endpoint = f"http://127.0.0.1:{port}"
        with environment({**AWS_ENV, "AWS_ENDPOINT_URL": endpoint}):
            world = provision(archivable=2 * (samples + 1))
            # The routes without a hand-written twin get a generated one (tests/bench/routes.py).
            generated, unseeded = routes.scenarios(world, bare_dir, {name for name, _, s in rows if s is None})
            scenarios = [(name, label, s or generated.get(name)) for name, label, s in rows]
            env = _child_env(endpoint, world, bare_dir, code_path, no_bytecode)
            results = {
                name: ColdResult(
                    name,
                    s.label if s else label,
                    Samples() if s else None,
                    Samples() if s else None,
                    s.calls_aws if s else True,
                    failed=unseeded.get(name, "") if s is None else "",
                    expected=f"{s.status}{' (' + s.refusal + ')' if s.refusal else ''}" if s else "",
                )
                for name, label, s in scenarios
            }
            # Round 0 warms the bytecode caches, the OS file cache and moto; it is not counted.
            for round_ in range(samples + 1):
                if progress:
                    print(
                        f"  cold: round {round_}/{samples}{' (warm-up, not counted)' if round_ == 0 else ''}",
                        file=sys.stderr,
                        flush=True,
                    )
                for name, _, scenario in scenarios:
                    if scenario is None or results[name].failed:
                        continue
                    order = (False, True) if round_ % 2 else (True, False)  # alternate who goes first
                    for bare in order:
                        try:
                            total, imported = _sample(scenario, world, env, bare)
                        except RuntimeError as failure:  # shown in its row; the others are still measured
                            results[name].failed = str(failure).splitlines()[0][:90]
                            results[name].ours = results[name].bare = None
                            break
                        if round_ == 0:
                            continue
                        side = results[name].bare if bare else results[name].ours
                        assert side is not None
                        side.total.append(total)
                        side.imports.append(imported)
            interpreter = _interpreter_start(env, max(3, samples))
    finally:
        server.stop()
        shutil.rmtree(bare_dir, ignore_errors=True)
    text = render(list(results.values()), samples, interpreter, no_bytecode, functions)
    return text, list(results.values())


def render(
    results: list[ColdResult], samples: int, interpreter: float, no_bytecode: bool = False, functions: Path = FUNCTIONS
) -> str:
    rows: list[list[Any]] = []
    for r in results:
        if r.ours is None or r.bare is None:
            why = f"FAILED: {r.failed}" if r.failed else "no scenario (tests/bench/routes.py CASES)"
            rows.append([r.label, r.expected or "-", "-", "-", "-", "-", "-", "-", "-", why])
            continue
        ours, bare = median(r.ours.total) * 1e3, median(r.bare.total) * 1e3
        ours_imp, bare_imp = median(r.ours.imports) * 1e3, median(r.bare.imports) * 1e3
        rows.append(
            [
                r.label,
                r.expected,
                ours,
                bare,
                times(r.ratio),
                ours_imp,
                ours - ours_imp,
                bare_imp,
                bare - bare_imp,
                f"{min(r.ours.total) * 1e3:.0f}-{max(r.ours.total) * 1e3:.0f} / "
                f"{min(r.bare.total) * 1e3:.0f}-{max(r.bare.total) * 1e3:.0f}",
            ]
        )
    headers = [
        "route",
        "status",
        "ours ms",
        "bare ms",
        "ratio",
        "ours import",
        "ours 1st call",
        "bare import",
        "bare 1st call",
        "range ours / bare",
    ]
    note = (
        f"Median of {samples} fresh processes per side, import of the handler module + its first invocation\n"
        f"(real HTTP AWS calls to a local moto server). Interpreter start-up, excluded on both sides:\n"
        f"{interpreter * 1e3:.0f} ms per process (`python -c pass`, same environment)."
    )
    if functions != FUNCTIONS:
        note += f"\nKiln's code measured: {functions}/kiln (--code)."
    title = "(a) Cold start: import + first invocation (ms)"
    if no_bytecode:
        title += ", without bytecode caches (as deployed)"
        note += (
            "\n--no-bytecode: Kiln's code and the layer's packages are staged without __pycache__ and run with\n"
            "PYTHONDONTWRITEBYTECODE=1, so they compile from source in every process, as on Lambda; boto3\n"
            "(provided by the runtime) keeps its bytecode."
        )
    return table(title, headers, rows, note) + coverage(results)


def coverage(results: list[ColdResult]) -> str:
    """How many routes have a measured row, which could not be measured, and which miss the target."""
    measured = [r for r in results if r.ratio == r.ratio]
    unmeasured = [r for r in results if r.ratio != r.ratio]
    slow = sorted((r for r in measured if r.ratio > TARGET), key=lambda r: -r.ratio)
    lines = [
        "",
        f"Routes measured: {len(measured)} of {len(results)} (every route of kiln.routes.ROUTES, then the authorizer).",
    ]
    lines += [f"  not measured: {r.label}: {r.failed or 'no scenario'}" for r in unmeasured]
    lines.append(f"Above the {TARGET}x cold-start target: {len(slow)} of {len(measured)} measured.")
    for r in slow:
        ours_ms, bare_ms = r.ms
        lines.append(f"  {r.label:<62} {times(r.ratio):>7}  {ours_ms - bare_ms:+5.0f} ms")
    return "\n".join(lines) + "\n"

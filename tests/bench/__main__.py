"""`make bench`: Kiln's handlers side by side with bare handlers doing the same AWS work.

    python -m tests.bench [--samples N] [--iterations N] [--quick]
                          [--only cold,warm,calls,builds,scale,concurrent,archives,pages,transactions]
                          [--no-bytecode] [--code DIR]

(a) cold start per handler, (b) warm per-request time, (c) AWS API calls and sequential round
trips per request, (d) builds: the example, by plan size (scale) and many at once across
workspaces (concurrent), (f) page mode at two workspace sizes, (g) the local cloud's transactions
against moto's, then a summary against the targets.
A benchmark, not a test: nothing here fails on a timing.
See docs/performance.md for what each figure means.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from tests.bench.report import times

COLD_TARGET = 1.2
WARM_TARGET = 1.5
PARTS = ("cold", "warm", "calls", "builds", "scale", "concurrent", "archives", "pages", "transactions")
CONCURRENT_BUILDS = 50  # --quick: 10


def _parts(value: str) -> tuple[str, ...]:
    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, help="fresh processes per handler and side for cold starts (5)")
    parser.add_argument("--iterations", type=int, help="requests per side for each warm measurement (2000)")
    parser.add_argument("--quick", action="store_true", help="3 samples and 500 iterations unless given")
    parser.add_argument("--only", type=_parts, default=PARTS, help="comma-separated parts: " + ",".join(PARTS))
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="cold starts compile Kiln and the layer's packages from source, as on Lambda",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=None,
        metavar="DIR",
        help="cold starts of the `kiln` package in DIR (e.g. a copy with a change), not functions/",
    )
    parser.add_argument(
        "--routes",
        type=lambda value: frozenset(filter(None, value.split(","))),
        default=None,
        metavar="NAMES",
        help="cold starts of these routes only (comma-separated route names, e.g. projects_get,authorizer)",
    )
    args = parser.parse_args(argv)
    samples = args.samples or (3 if args.quick else 5)
    iterations = args.iterations or (500 if args.quick else 2000)
    if samples < 1 or iterations < 20:
        parser.error("--samples must be >= 1 and --iterations >= 20")
    if args.code and not (args.code / "kiln" / "__init__.py").is_file():
        parser.error(f"--code {args.code}: no kiln package there")

    started = time.perf_counter()
    print(
        f"Kiln bench: Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.platform(terse=True)}; {samples} cold samples, {iterations} warm iterations per side\n",
        flush=True,
    )
    cold_results, warm_results, calls_results = [], [], []
    if "cold" in args.only:
        from tests.bench import cold

        text, cold_results = cold.run(
            samples,
            no_bytecode=args.no_bytecode,
            functions=(args.code or cold.FUNCTIONS).resolve(),
            only_routes=args.routes,
        )
        print(text, flush=True)
    if "warm" in args.only:
        from tests.bench import warm

        text, warm_results = warm.run(iterations)
        print(text, flush=True)
    if "calls" in args.only:
        from tests.bench import calls

        text, calls_results = calls.run()
        print(text, flush=True)
    build_result = None
    if "builds" in args.only:
        from tests.bench import builds

        text, build_result = builds.run(1 if args.quick else 2)
        print(text, flush=True)
    scale_result = None
    if "scale" in args.only:
        from tests.bench import builds

        text, scale_result = builds.scale(builds.QUICK_SCALE_TASKS if args.quick else builds.SCALE_TASKS)
        print(text, flush=True)
    concurrent_result = None
    if "concurrent" in args.only:
        from tests.bench import concurrent_builds

        text, concurrent_result = concurrent_builds.run(10 if args.quick else CONCURRENT_BUILDS)
        print(text, flush=True)
    if "archives" in args.only:
        from tests.bench import archives

        text, _ = archives.run()
        print(text, flush=True)
    if "pages" in args.only:
        from tests.bench import pages

        text, _ = pages.run(2_000 if args.quick else pages.LARGE)
        print(text, flush=True)
    if "transactions" in args.only:
        from tests.bench import transactions

        text, _ = transactions.run()
        print(text, flush=True)
    print(
        summary(
            cold_results, warm_results, args.no_bytecode, build_result, calls_results, scale_result, concurrent_result
        )
    )
    print(f"(bench took {time.perf_counter() - started:.0f} s)")
    return 0


def _verdict(value: float, target: float) -> str:
    if value != value:
        return "not measured"
    return "meets target" if value <= target else f"MISSES target by {value / target - 1:.0%}"


def _number(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def _round_trip_target(label: str) -> int | None:
    """Round trips a request may make on its critical path: 1 for a read, 2 for a write."""
    method = label.split(" ", 1)[0]
    if method == "GET" and label.startswith("GET /v1/"):
        return 1
    if method in ("POST", "PATCH", "DELETE", "PUT"):
        return 2
    return None


def summary(
    cold_results: list,
    warm_results: list,
    no_bytecode: bool = False,
    build_result=None,
    calls_results=(),
    scale_result=None,
    concurrent_result=None,
) -> str:
    lines = ["Summary", "======="]
    measured_calls = [r for r in calls_results if not r.failed and _round_trip_target(r.label) is not None]
    if measured_calls:
        lines.append("Round trips on the critical path, next request (target: a read 1, a write <= 2):")
        for r in measured_calls:
            target = _round_trip_target(r.label)
            verdict = "meets target" if r.sequential <= target else f"MISSES target ({target})"
            lines.append(f"  {r.label:<46} {r.sequential:>2} of {len(r.then)} calls  {verdict}")
    if build_result is not None:
        lines.append(
            f"Build of the example project ({build_result.tasks} tasks): workflow / sequential in-process "
            f"{times(build_result.ratio)} (orchestration overhead; no target)"
            + (f" FAILED: {build_result.failed}" if build_result.failed else ".")
        )
    if scale_result is not None:
        built = scale_result.measured()
        sizes = " and ".join(f"{p.tasks}" for p in built) or "-"
        ratios = ", ".join(f"{times(p.ratio)} at {p.tasks}" for p in built) or "-"
        lines.append(
            f"Build time per task at {sizes} tasks, largest / smallest (target: linear, 1.00x): workflow "
            f"{times(scale_result.growth('workflow'))}, sequential {times(scale_result.growth('sequential'))}; "
            f"workflow / sequential {ratios}."
        )
        for p in scale_result.points:
            if p.failed:
                lines.append(f"  {p.asked} tasks: FAILED: {p.failed}")
    if concurrent_result is not None:
        r = concurrent_result
        lines.append(
            f"{r.builds} concurrent builds across workspaces: {r.succeeded} succeeded, {len(r.failed)} FAILED, "
            f"{_number(r.per_minute)} builds/minute; task p50/p99 {_number(r.percentile('task', 50), 2)}/"
            f"{_number(r.percentile('task', 99), 2)} s, run p50/p99 {_number(r.percentile('run', 50))}/"
            f"{_number(r.percentile('run', 99))} s (no target)."
        )
    if cold_results:
        how = ", without bytecode caches" if no_bytecode else ""
        lines.append(f"Cold start{how}, ours / bare (target <= {COLD_TARGET}):")
        for r in cold_results:
            ours_ms, bare_ms = r.ms
            line = f"  {r.label:<28} {times(r.ratio):>7}  {_verdict(r.ratio, COLD_TARGET)}"
            if not r.calls_aws:
                line += (
                    f" (no AWS call on either side: {ours_ms:.0f} ms vs {bare_ms:.0f} ms is Kiln's pipeline"
                    f" imports vs `import json`)"
                )
            else:
                line += f" ({ours_ms - bare_ms:+.0f} ms)"
            lines.append(line)
        met = [r for r in cold_results if r.ratio == r.ratio and r.ratio <= COLD_TARGET]
        measured = [r for r in cold_results if r.ratio == r.ratio]
        lines.append(f"  -> {len(met)} of {len(measured)} handlers meet the cold-start target.")
    if warm_results:
        lines.append(f"Warm per request, ours / bare (target <= {WARM_TARGET}):")
        for r in warm_results:
            label = f"{r.label} [{r.stub} stub]"
            lines.append(f"  {label:<56} {times(r.ratio):>7}  {_verdict(r.ratio, WARM_TARGET)}")
        for level in ("client method", "botocore"):
            get = next((r for r in warm_results if r.label.startswith("GET /v1/projects/") and r.stub == level), None)
            if get:
                lines.append(
                    f"  -> GET /v1/projects/{{id}} with the {level} stub: {times(get.ratio)}, "
                    f"{get.ours_us - get.bare_us:+.0f} us per request: {_verdict(get.ratio, WARM_TARGET)}."
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

"""Concurrent builds across workspaces in one local cloud: per-step latency under load.

N workspaces (admin API, enterprise tier, a key of their own each) hold one approved small
project each (a synthetic spec of `ENTITIES` entities imported as a `.kiln`, so every build
plans the same ENTITIES + 2 tasks). All N runs are started at once, each with its workspace's
key, and waited for; then each run's events say how long every step took:

  plan     RUN_STARTED (the run is queued) -> the first TASK_STARTED: starting the workflow,
           planning and the first task's dispatch
  task     TASK_STARTED -> TASK_COMPLETED of each task
  verify   the last TASK_COMPLETED -> VERIFICATION_COMPLETED (the generated tests run in the
           build sandbox, a process of its own)
  merge    VERIFICATION_COMPLETED -> RUN_COMPLETED (branches merged into main, run recorded)
  run      RUN_STARTED -> RUN_COMPLETED: queued to completed

p50 and p99 are nearest-rank percentiles over the successful builds (over every task for
`task`). Event times are the server's, to the millisecond. Everything here shares the
machine's cores with the emulated AWS services and the sandboxes, as the local cloud does.
A build that fails or is still unfinished at the deadline is counted and printed as FAILED.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.bench.builds import (
    STEPS,
    BuildFailed,
    deadline_for,
    epoch,
    import_approved,
    local_cloud,
    outcome,
    percentile,
    run_events,
    session_for,
    step_durations,
    synthetic_documents,
)
from tests.bench.report import table

if TYPE_CHECKING:
    import requests

ENTITIES = 2  # a small project: scaffold, two entities, server (4 tasks)
POLL_SECONDS = 1.0  # one pass over every unfinished run, then this pause
DEADLINE_PER_BUILD_S = 15.0  # on top of one build's own deadline, for the whole batch


@dataclass
class Build:
    workspace_id: str
    session: requests.Session
    project_id: str = ""
    run_id: str = ""
    started_at: float = 0.0  # time.time() when its POST .../runs was sent
    finished_at: float = math.nan  # its last event (RUN_COMPLETED), server time (epoch seconds)
    tasks: int = 0
    failed: str = ""
    steps: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})


@dataclass
class ConcurrentResult:
    builds: int
    tasks_per_build: int
    wall_s: float
    steps: dict[str, list[float]]
    failed: list[str]

    @property
    def succeeded(self) -> int:
        return self.builds - len(self.failed)

    @property
    def per_minute(self) -> float:
        return self.succeeded / self.wall_s * 60 if self.wall_s == self.wall_s and self.wall_s > 0 else math.nan

    def percentile(self, step: str, p: float) -> float:
        return percentile(self.steps[step], p)


def _workspaces(admin: requests.Session, url: str, count: int) -> list[Build]:
    builds = []
    for number in range(1, count + 1):
        created = admin.post(f"{url}/v1/workspaces", json={"name": f"Bench {number:02d}", "tier": "enterprise"})
        if created.status_code != 201:
            raise BuildFailed(f"POST /v1/workspaces answered {created.status_code}: {created.text[:160]}")
        workspace_id = created.json()["data"]["id"]
        minted = admin.post(
            f"{url}/v1/api-keys",
            json={"name": "bench", "scopes": ["project:read", "project:write"], "workspaceId": workspace_id},
        )
        if minted.status_code != 201:
            raise BuildFailed(f"POST /v1/api-keys answered {minted.status_code}: {minted.text[:160]}")
        builds.append(Build(workspace_id, session_for(minted.json()["data"]["secret"])))
    return builds


def _start_all(builds: list[Build], url: str) -> None:
    """POST .../runs for every build at once: each thread waits at a barrier, then posts."""
    gate = threading.Barrier(len(builds))

    def start(build: Build) -> None:
        gate.wait()
        build.started_at = time.time()
        try:
            response = build.session.post(f"{url}/v1/projects/{build.project_id}/runs", timeout=120)
        except Exception as error:  # noqa: BLE001 - recorded as this build's failure
            build.failed = f"POST runs: {error}"[:160]
            return
        if response.status_code != 201:
            build.failed = f"POST runs answered {response.status_code}: {response.text[:120]}"
        else:
            build.run_id = response.json()["data"]["id"]

    with ThreadPoolExecutor(max_workers=len(builds)) as pool:
        list(pool.map(start, builds))


def _wait_all(builds: list[Build], url: str, deadline_s: float) -> None:
    pending = [b for b in builds if not b.failed]
    give_up = time.monotonic() + deadline_s
    while pending:
        for build in list(pending):
            response = build.session.get(f"{url}/v1/projects/{build.project_id}/runs/{build.run_id}", timeout=60)
            if response.status_code != 200:
                continue  # a passing refusal (a limit, a busy emulator): asked again next pass
            detail = response.json()["data"]
            if detail["status"] in ("succeeded", "failed", "cancelled"):
                pending.remove(build)
                build.failed = outcome(detail)
                build.tasks = int(detail["tasksSummary"]["total"])
        if pending and time.monotonic() > give_up:
            for build in pending:
                build.failed = f"timeout: unfinished after {deadline_s:.0f} s"
            return
        if pending:
            time.sleep(POLL_SECONDS)


def run(count: int) -> tuple[str, ConcurrentResult]:
    builds: list[Build] = []
    setup_failed = ""
    try:
        with local_cloud() as cloud:
            assert cloud.admin_key is not None
            admin = session_for(cloud.admin_key)
            admin.get(f"{cloud.url}/v1/projects").raise_for_status()  # warms the authorizer
            builds = _workspaces(admin, cloud.url, count)
            documents = synthetic_documents(ENTITIES)
            for number, build in enumerate(builds, start=1):
                build.project_id = import_approved(build.session, cloud.url, documents, f"Small {number:02d}")
            _start_all(builds, cloud.url)
            _wait_all(builds, cloud.url, deadline_for(ENTITIES + 2) + DEADLINE_PER_BUILD_S * count)
            for build in builds:
                if build.failed:
                    continue
                try:
                    events = run_events(build.session, cloud.url, build.project_id, build.run_id)
                    build.steps = step_durations(events)
                    # The run's last event, not its finishedAt: RUN_COMPLETED is written after it.
                    build.finished_at = max(epoch(e["createdAt"]) for e in events)
                except Exception as error:  # noqa: BLE001 - this build's row says FAILED
                    build.failed = str(error)[:160]
    except Exception as error:  # noqa: BLE001 - setup failed: the whole part says FAILED
        setup_failed = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
    return report(count, builds, setup_failed)


def report(count: int, builds: list[Build], setup_failed: str = "") -> tuple[str, ConcurrentResult]:
    if setup_failed:  # builds the failure left unmeasured fail with it
        for build in builds:
            if not build.failed and not build.steps["run"]:
                build.failed = f"not measured: {setup_failed}"
    done = [b for b in builds if not b.failed]
    failed = [f"{b.workspace_id}: {b.failed}" for b in builds if b.failed]
    failed += [f"(no workspace): {setup_failed or 'not created'}"] * (count - len(builds))
    steps = {step: [value for b in done for value in b.steps[step]] for step in STEPS}
    started = min((b.started_at for b in builds if b.started_at), default=math.nan)
    wall = max((b.finished_at for b in done), default=math.nan) - started
    result = ConcurrentResult(count, done[0].tasks if done else 0, wall, steps, failed)
    rows = [
        [
            step,
            len(steps[step]),
            result.percentile(step, 50),
            result.percentile(step, 99),
            percentile(steps[step], 100),
        ]
        for step in STEPS
    ]
    note = [
        f"{count} builds across {count} workspaces ({ENTITIES + 2}-task plans), started at once: "
        f"{result.succeeded} succeeded, {len(failed)} FAILED; wall {_fmt(wall)} s from the first POST to the "
        f"last finish, {_fmt(result.per_minute)} builds/minute."
    ]
    # One line per distinct reason: fifty builds failing the same way say it once.
    reasons = Counter(line.split(": ", 1)[1] for line in failed)
    note += [f"FAILED x{n}: {reason}" for reason, n in reasons.most_common(10)]
    text = table(
        f"Concurrent builds: {count} workspaces, one local cloud (step latency, s)",
        ["step", "samples", "p50 s", "p99 s", "max s"],
        rows,
        "\n".join(note),
    )
    return text, result


def _fmt(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"

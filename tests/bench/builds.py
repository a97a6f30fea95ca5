"""Build runs: the orchestration overhead of the Step Functions workflow against the same steps
run sequentially in-process, on the example project and at growing plan sizes.

Both sides run in one local cloud, in this process, on the same approved spec:
  workflow    POST /v1/projects/{id}/runs over HTTP, then poll the run until it is terminal
              (moto's Step Functions interpreter invokes the five workers through Lambda's
              Invoke API, task waves as Map states)
  sequential  kiln.domain.build_steps.run_sequentially: the same steps and workers' code,
              one task after another, no workflow engine
The ratio workflow / sequential is the orchestration overhead (state machine interpretation,
Lambda invocations over HTTP, the Map's parallelism counts in the workflow's favour).

`run` builds the example project (its spec written by the built-in generator from the
description). `scale` builds specs of N identical entities (`synthetic_documents`), imported
as an approved `.kiln` like any hand-written spec: the built-in plan is a scaffold, one task
per entity and a server task, so the plan has N + 2 tasks that each do the same work, and the
time per task at two sizes shows whether orchestration grows linearly with the plan.

A failed build or one past its deadline is printed as FAILED in its row; nothing raises.
"""

from __future__ import annotations

import atexit
import io
import json
import math
import socket
import statistics
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tests.bench.report import table, times
from tests.bench.world import sample_answer

if TYPE_CHECKING:
    import requests

    from local.cloud import LocalCloud

EXAMPLE = "A project management tool with team collaboration features, task boards, and time tracking."
POLL_SECONDS = 0.2
TERMINAL = ("succeeded", "failed", "cancelled")
# Plan sizes of `scale`, in tasks. A plan holds at most kiln.domain.builds.MAX_TASKS (60) tasks,
# so 200 is asked for to show what the product answers (a planning failure), not to time it.
SCALE_TASKS = (20, 60, 200)
QUICK_SCALE_TASKS = (10, 30, 200)  # the same 3x between the sizes built, in about a third of the time
# A build's deadline: generous, so that a slow machine is measured rather than cut short.
BASE_DEADLINE_S = 120.0
DEADLINE_PER_TASK_S = 6.0
# The steps a run's events time (see step_durations) and the events that time them.
STEPS = ("plan", "task", "verify", "merge", "run")
TIMED_EVENTS = "RUN_STARTED,TASK_STARTED,TASK_COMPLETED,VERIFICATION_COMPLETED,RUN_COMPLETED"


class BuildFailed(Exception):
    """A build that ended other than succeeded, or did not end in time (printed as FAILED)."""


def nan() -> float:
    return float("nan")


@dataclass
class BuildResult:
    workflow_s: list[float]
    sequential_s: list[float]
    tasks: int
    failed: str = ""

    @property
    def ratio(self) -> float:
        if self.failed or not self.workflow_s or not self.sequential_s:
            return nan()
        return statistics.median(self.workflow_s) / statistics.median(self.sequential_s)


@dataclass
class ScalePoint:
    asked: int  # tasks the synthetic spec plans to
    tasks: int = 0  # tasks the run reported (0 when it failed before planning)
    workflow_s: float = field(default_factory=nan)
    sequential_s: float = field(default_factory=nan)
    failed: str = ""
    # The workflow run's steps (step_durations); "task" in completion order, the server task last.
    steps: dict[str, list[float]] = field(default_factory=dict)

    @property
    def workflow_per_task(self) -> float:
        return self.workflow_s / self.tasks if self.tasks and not self.failed else nan()

    @property
    def sequential_per_task(self) -> float:
        return self.sequential_s / self.tasks if self.tasks and not self.failed else nan()

    @property
    def ratio(self) -> float:
        return self.workflow_s / self.sequential_s if not self.failed else nan()


@dataclass
class ScaleResult:
    points: list[ScalePoint]

    def measured(self) -> list[ScalePoint]:
        return [p for p in self.points if not p.failed]

    def growth(self, side: str) -> float:
        """Time per task at the largest measured size / at the smallest: 1.00 is linear."""
        done = self.measured()
        if len(done) < 2:
            return nan()
        small, large = done[0], done[-1]
        return getattr(large, f"{side}_per_task") / getattr(small, f"{side}_per_task")

    def marginal(self, side: str) -> float:
        """Seconds each task added between the smallest and the largest measured size cost."""
        done = self.measured()
        if len(done) < 2:
            return nan()
        small, large = done[0], done[-1]
        return (getattr(large, f"{side}_s") - getattr(small, f"{side}_s")) / (large.tasks - small.tasks)


# --- helpers shared with tests.bench.concurrent_builds --------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_cloud: LocalCloud | None = None


@contextmanager
def local_cloud() -> Iterator[LocalCloud]:
    """The bench's one local cloud, started on first use and stopped when the process exits.

    One per process because moto's backends live in the process: a second cloud would find
    the first one's table and fail to provision. So the build parts share it (their projects
    are fresh imports either way), in the order the bench runs them."""
    global _cloud
    if _cloud is None:
        from local.cloud import LocalCloud

        cloud = LocalCloud(port=free_port())
        cloud.start()
        atexit.register(cloud.stop)
        _cloud = cloud
    yield _cloud


def session_for(key: str) -> requests.Session:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


def deadline_for(tasks: int) -> float:
    return BASE_DEADLINE_S + DEADLINE_PER_TASK_S * tasks


def _approved_project(session: requests.Session, url: str) -> str:
    project = session.post(f"{url}/v1/projects", json={"name": "Bench", "description": EXAMPLE}).json()["data"]
    base = f"{url}/v1/projects/{project['id']}"
    questions = session.post(f"{base}/clarify").json()["data"]["questions"]
    session.post(
        f"{base}/answers", json={"answers": [{"questionId": q["id"], "answer": sample_answer(q)} for q in questions]}
    ).raise_for_status()
    session.post(f"{base}/approve").raise_for_status()
    return str(project["id"])


def synthetic_documents(entities: int) -> dict[str, str]:
    """The four spec documents of a service of `entities` entities of one shape: six fields
    (a bounded integer and an enum among them) and the five CRUD routes each, no relations.
    The built-in generator plans them to `entities + 2` tasks of equal work."""
    title = f"Scale {entities}"
    data = [f"# Data model: {title}", ""]
    routes = [f"# HTTP routes: {title}", ""]
    for number in range(1, entities + 1):
        name = f"Part{number:03d}"
        collection, item = f"/part{number:03d}s", f"/part{number:03d}s/{{part{number:03d}Id}}"
        data += [
            f"## Entity: {name}",
            "",
            f"Description: One kind of record of the service ({number} of {entities}).",
            "",
            "| field | type | required | unique | values | description |",
            "| --- | --- | --- | --- | --- | --- |",
            "| id | uuid | yes | yes | | Primary key |",
            "| title | string | yes | no | | What it is called |",
            "| quantity | integer | no | no | | How many, from 0 to 1000 |",
            "| status | enum | yes | no | open, closed | Where it stands |",
            "| created_at | datetime | yes | no | | When it was created |",
            "| updated_at | datetime | yes | no | | When it last changed |",
            "",
            "### Relations",
            "",
            "- none",
            "",
        ]
        routes += [
            f"## {name}",
            "",
            "| method | path | summary |",
            "| --- | --- | --- |",
            f"| GET | `{collection}` | List {name} records |",
            f"| POST | `{collection}` | Create a {name} |",
            f"| GET | `{item}` | Get a {name} |",
            f"| PATCH | `{item}` | Update a {name} |",
            f"| DELETE | `{item}` | Delete a {name} |",
            "",
        ]
    return {
        "SPEC.md": f"# {title}\n\n## Overview\n\n{entities} kinds of records, the same five routes each.\n",
        "ACCEPTANCE.md": f"# Acceptance: {title}\n\nEvery route answers as ROUTES.md says.\n",
        "DATA.md": "\n".join(data),
        "ROUTES.md": "\n".join(routes),
    }


def import_approved(session: requests.Session, url: str, documents: dict[str, str], name: str) -> str:
    """Import a `.kiln` holding one approved spec version and no files; the project's id."""
    document = {
        "formatVersion": "1.0",
        "project": {"name": name, "description": "Imported by the build bench."},
        "spec": {
            "versions": [
                {
                    "version": 1,
                    "createdAt": "2026-01-01T10:00:00.000Z",
                    "approvedAt": "2026-01-01T11:00:00.000Z",
                    "documents": documents,
                }
            ],
            "latestVersion": 1,
        },
        "files": [],
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as kiln:
        kiln.writestr("kiln.json", json.dumps(document))
    response = session.post(
        f"{url}/v1/projects/import",
        data=archive.getvalue(),
        headers={"Content-Type": "application/vnd.kiln+zip"},
        timeout=120,
    )
    if response.status_code != 201:
        raise BuildFailed(f"import answered {response.status_code}: {response.text[:200]}")
    project = response.json()["data"]
    status = session.get(f"{url}/v1/projects/{project['id']}", timeout=60).json()["data"]["status"]
    if status != "approved":
        raise BuildFailed(f"the imported project is {status}, not approved")
    return str(project["id"])


def wait_for_run(
    session: requests.Session, url: str, project_id: str, run_id: str, deadline_s: float, poll_s: float = POLL_SECONDS
) -> dict[str, Any]:
    """The run's detail once terminal; BuildFailed past the deadline.

    Polls the project, whose status leaves `building` in the transaction that ends the run, not
    the run's detail: the detail reads every task item, which at 200 tasks costs the emulator
    seconds per read, and polling it would load the machine the build is measured on."""
    give_up = time.monotonic() + deadline_s
    while True:
        project = session.get(f"{url}/v1/projects/{project_id}", timeout=60).json()["data"]
        if project["status"] != "building":
            response = session.get(f"{url}/v1/projects/{project_id}/runs/{run_id}", timeout=120)
            detail: dict[str, Any] = response.json()["data"]
            if detail["status"] in TERMINAL:
                return detail
        if time.monotonic() > give_up:
            raise BuildFailed(f"timeout: the project is still {project['status']} after {deadline_s:.0f} s")
        time.sleep(poll_s)


def outcome(detail: dict[str, Any]) -> str:
    """Why a terminal run did not succeed, in one line; empty when it did."""
    if detail["status"] == "succeeded":
        return ""
    error = detail.get("error") or {}
    return f"{detail['status']}: {error.get('reason', '?')}: {error.get('message', '')}"[:160]


def _workflow_build(
    session: requests.Session, url: str, project_id: str, deadline_s: float
) -> tuple[float, dict[str, Any]]:
    """Seconds from the run's creation to its end, as the run records them (createdAt to
    finishedAt: neither the polling's interval nor the last detail read counts), and its detail."""
    response = session.post(f"{url}/v1/projects/{project_id}/runs", timeout=60)
    if response.status_code != 201:
        raise BuildFailed(f"POST runs answered {response.status_code}: {response.text[:200]}")
    detail = wait_for_run(session, url, project_id, response.json()["data"]["id"], deadline_s)
    failure = outcome(detail)
    if failure:
        raise BuildFailed(failure)
    return _seconds_between(detail["createdAt"], detail["finishedAt"]), detail


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _sequential_build(cloud: LocalCloud, project_id: str) -> float:
    """Seconds to run the same steps in-process, one after another, for a fresh run."""
    from kiln import services
    from kiln.domain.build_steps import RunRef, run_sequentially
    from kiln.domain.runs import RunCreate
    from tests.fakes import FakeWorkflow

    authenticated = services.current().access.authenticate(f"Bearer {cloud.admin_key}")
    assert authenticated is not None, "the local cloud's admin key does not authenticate"
    workspace_id = authenticated.principal.workspace_id
    # The same wiring as the local cloud's functions, but no workflow: the steps run here.
    root = services.build(build_workflow=FakeWorkflow())
    started = time.perf_counter()
    created = root.runs.create(workspace_id, project_id, RunCreate(), None)
    result = run_sequentially(root.build_steps, RunRef(workspace_id, project_id, created.id))
    elapsed = time.perf_counter() - started
    if result["status"] != "succeeded":
        raise BuildFailed(f"the sequential run ended {result}"[:160])
    return elapsed


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]


# --- step latencies from a run's events -----------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0-100]; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def step_durations(events: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Seconds each step of one successful run took, from its events (oldest first)."""
    steps: dict[str, list[float]] = {step: [] for step in STEPS}
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    started: dict[str, float] = {}
    for event in events:
        kind, at = event["eventType"], epoch(event["createdAt"])
        first.setdefault(kind, at)
        last[kind] = at
        if kind == "TASK_STARTED":
            started[event["taskId"]] = at
        elif kind == "TASK_COMPLETED" and event["taskId"] in started:
            steps["task"].append(at - started.pop(event["taskId"]))
    needed = ("RUN_STARTED", "TASK_STARTED", "TASK_COMPLETED", "VERIFICATION_COMPLETED", "RUN_COMPLETED")
    missing = [kind for kind in needed if kind not in first]
    if missing:
        raise BuildFailed(f"no {', '.join(missing)} event")
    steps["plan"].append(first["TASK_STARTED"] - first["RUN_STARTED"])
    steps["verify"].append(last["VERIFICATION_COMPLETED"] - last["TASK_COMPLETED"])
    steps["merge"].append(last["RUN_COMPLETED"] - last["VERIFICATION_COMPLETED"])
    steps["run"].append(last["RUN_COMPLETED"] - first["RUN_STARTED"])
    return steps


def run_events(session: requests.Session, url: str, project_id: str, run_id: str) -> list[dict[str, Any]]:
    """The run's events that time its steps, oldest first (every page)."""
    base = f"{url}/v1/projects/{project_id}/runs/{run_id}/events"
    events: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params = {"type": TIMED_EVENTS, "limit": "1000", **({"after": after} if after else {})}
        response = session.get(base, params=params, timeout=60)
        if response.status_code != 200:
            raise BuildFailed(f"events answered {response.status_code}: {response.text[:160]}")
        body = response.json()
        events += body["data"]
        after = body["pagination"].get("nextCursor")
        if not after:
            return events


# --- the example project --------------------------------------------------------------------


def run(samples: int) -> tuple[str, BuildResult]:
    workflow_s: list[float] = []
    sequential_s: list[float] = []
    tasks, failed = 0, ""
    try:
        with local_cloud() as cloud:
            assert cloud.admin_key is not None
            session = session_for(cloud.admin_key)
            session.get(f"{cloud.url}/v1/projects").raise_for_status()  # warms the authorizer
            for _ in range(samples):
                elapsed, detail = _workflow_build(
                    session, cloud.url, _approved_project(session, cloud.url), deadline_for(60)
                )
                workflow_s.append(elapsed)
                tasks = int(detail["tasksSummary"]["total"])
                sequential_s.append(_sequential_build(cloud, _approved_project(session, cloud.url)))
    except Exception as error:  # noqa: BLE001 - a bench row reports any failure and goes on
        failed = _first_line(error)
    result = BuildResult(workflow_s, sequential_s, tasks, failed)
    lines = [
        "Build runs (the example project, local cloud)",
        "=============================================",
        f"  tasks per run: {result.tasks}; {samples} run(s) per side, medians",
    ]
    if failed:
        lines.append(f"  FAILED: {failed}")
    else:
        lines += [
            f"  end to end through the workflow (POST .../runs to terminal): {statistics.median(workflow_s):6.2f} s",
            f"  the same steps sequentially in-process:                      {statistics.median(sequential_s):6.2f} s",
            f"  orchestration overhead, workflow / sequential:               {result.ratio:6.2f}x",
        ]
    return "\n".join(lines) + "\n", result


# --- plan size ------------------------------------------------------------------------------


def scale(sizes: tuple[int, ...] = SCALE_TASKS) -> tuple[str, ScaleResult]:
    """One build per side at each plan size (in tasks), smallest first, in one local cloud."""
    points = [ScalePoint(asked=size) for size in sizes]
    try:
        with local_cloud() as cloud:
            assert cloud.admin_key is not None
            session = session_for(cloud.admin_key)
            session.get(f"{cloud.url}/v1/projects").raise_for_status()  # warms the authorizer
            for point in points:
                documents = synthetic_documents(point.asked - 2)
                try:
                    project_id = import_approved(session, cloud.url, documents, f"Scale {point.asked}")
                    point.workflow_s, detail = _workflow_build(
                        session, cloud.url, project_id, deadline_for(point.asked)
                    )
                    point.tasks = int(detail["tasksSummary"]["total"])
                    point.steps = step_durations(run_events(session, cloud.url, project_id, detail["id"]))
                    project_id = import_approved(session, cloud.url, documents, f"Scale {point.asked} again")
                    point.sequential_s = _sequential_build(cloud, project_id)
                except Exception as error:  # noqa: BLE001 - the row says FAILED and the next size runs
                    point.failed = _first_line(error)
    except Exception as error:  # noqa: BLE001 - the cloud itself failed: every unmeasured row says so
        for point in points:
            if not point.failed and point.sequential_s != point.sequential_s:
                point.failed = _first_line(error)
    result = ScaleResult(points)
    rows = [
        [p.asked, "FAILED", "-", "-", "-", "-", "-", "-", "-", "-", "-"]
        if p.failed
        else [
            p.asked,
            p.tasks,
            p.workflow_s,
            p.workflow_per_task,
            percentile(p.steps["task"][:-1], 50),
            p.steps["task"][-1],
            p.steps["verify"][0],
            p.steps["merge"][0],
            p.sequential_s,
            p.sequential_per_task,
            times(p.ratio),
        ]
        for p in points
    ]
    notes = [
        "Specs of N - 2 identical entities imported as approved .kiln archives; one build per side and size.",
        "task p50: an entity task, TASK_STARTED to TASK_COMPLETED; server task: the last one, which starts from",
        "every entity branch merged; verify and merge: the steps after the tasks (the workflow run's events).",
        f"Time per task, largest / smallest size built (1.00x = linear): workflow {times(result.growth('workflow'))}, "
        f"sequential {times(result.growth('sequential'))}.",
        f"Each task added costs: workflow {_seconds(result.marginal('workflow'))}, "
        f"sequential {_seconds(result.marginal('sequential'))}.",
    ]
    notes += [f"FAILED at {p.asked} tasks: {p.failed}" for p in points if p.failed]
    note = "\n".join(notes)
    text = table(
        "Build orchestration by plan size (local cloud)",
        [
            "tasks asked",
            "tasks",
            "workflow s",
            "s/task",
            "task p50 s",
            "server task s",
            "verify s",
            "merge s",
            "sequential s",
            "s/task",
            "workflow / sequential",
        ],
        rows,
        note,
    )
    return text, result


def _seconds(value: float) -> str:
    return "-" if value != value else f"{value:.3f} s"

"""Build runs: the example project end to end through the local cloud, and the orchestration
overhead of the Step Functions workflow against the same steps run sequentially in-process.

Both sides run in one local cloud, in this process, on the same approved spec:
  workflow    POST /v1/projects/{id}/runs over HTTP, then poll the run until it is terminal
              (moto's Step Functions interpreter invokes the five workers through Lambda's
              Invoke API, task waves as Map states)
  sequential  kiln.domain.build_steps.run_sequentially: the same steps and workers' code,
              one task after another, no workflow engine
The ratio workflow / sequential is the orchestration overhead (state machine interpretation,
Lambda invocations over HTTP, the Map's parallelism counts in the workflow's favour).
"""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import dataclass

EXAMPLE = "A project management tool with team collaboration features, task boards, and time tracking."
POLL_SECONDS = 0.2


@dataclass
class BuildResult:
    workflow_s: list[float]
    sequential_s: list[float]
    tasks: int

    @property
    def ratio(self) -> float:
        return statistics.median(self.workflow_s) / statistics.median(self.sequential_s)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answer(question: dict):
    return {
        "boolean": True,
        "single_choice": (question.get("options") or [""])[0],
        "multi_choice": (question.get("options") or [])[:2],
    }.get(question["type"], "Keep it simple.")


def _approved_project(session, url: str) -> str:
    project = session.post(f"{url}/v1/projects", json={"name": "Bench", "description": EXAMPLE}).json()["data"]
    base = f"{url}/v1/projects/{project['id']}"
    questions = session.post(f"{base}/clarify").json()["data"]["questions"]
    session.post(
        f"{base}/answers", json={"answers": [{"questionId": q["id"], "answer": _answer(q)} for q in questions]}
    ).raise_for_status()
    session.post(f"{base}/approve").raise_for_status()
    return project["id"]


def run(samples: int) -> tuple[str, BuildResult]:
    import requests

    from local.cloud import LocalCloud

    cloud = LocalCloud(port=_free_port())
    cloud.start()
    try:
        from kiln import services
        from kiln.domain.build_steps import RunRef, run_sequentially
        from kiln.domain.runs import RunCreate
        from tests.fakes import FakeWorkflow

        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {cloud.admin_key}"
        session.get(f"{cloud.url}/v1/projects").raise_for_status()  # warms the authorizer
        workflow_s, sequential_s, tasks = [], [], 0
        for _ in range(samples):
            project_id = _approved_project(session, cloud.url)
            started = time.perf_counter()
            run = session.post(f"{cloud.url}/v1/projects/{project_id}/runs").json()["data"]
            while True:
                detail = session.get(f"{cloud.url}/v1/projects/{project_id}/runs/{run['id']}").json()["data"]
                if detail["status"] in ("succeeded", "failed", "cancelled"):
                    break
                time.sleep(POLL_SECONDS)
            workflow_s.append(time.perf_counter() - started)
            if detail["status"] != "succeeded":
                raise RuntimeError(f"the workflow run ended {detail['status']}: {detail.get('error')}")
            tasks = detail["tasksSummary"]["total"]

            project_id = _approved_project(session, cloud.url)
            workspace_id = services.current().access.authenticate(f"Bearer {cloud.admin_key}").principal.workspace_id

            # The same wiring as the local cloud's functions, but no workflow: the steps run here.
            root = services.build(build_workflow=FakeWorkflow())
            started = time.perf_counter()
            created = root.runs.create(workspace_id, project_id, RunCreate(), None)
            outcome = run_sequentially(root.build_steps, RunRef(workspace_id, project_id, created.id))
            sequential_s.append(time.perf_counter() - started)
            if outcome["status"] != "succeeded":
                raise RuntimeError(f"the sequential run ended {outcome}")
        result = BuildResult(workflow_s, sequential_s, tasks)
    finally:
        cloud.stop()
    lines = [
        "Build runs (the example project, local cloud)",
        "=============================================",
        f"  tasks per run: {result.tasks}; {samples} run(s) per side, medians",
        f"  end to end through the workflow (POST .../runs to terminal): {statistics.median(workflow_s):6.2f} s",
        f"  the same steps sequentially in-process:                      {statistics.median(sequential_s):6.2f} s",
        f"  orchestration overhead, workflow / sequential:               {result.ratio:6.2f}x",
    ]
    return "\n".join(lines) + "\n", result

"""README.md's "Walk-through with curl", run as written against the local cloud.

The ```bash block after the heading is taken from the README and run whole by one
`bash -Eeuo pipefail` (traced with `set -x`), in a temporary directory, with only two lines
changed: `export KILN=` gets this session's cloud and `export KEY=` a fresh admin key of a
fresh workspace (so the walk-through's `?search=saas` finds its own project only). A preamble
makes `curl` fail on any HTTP error (`--fail-with-body`), so a step that answers an error stops
the run there; only the last section, whose calls fail on purpose, runs with a plain curl whose
answers are checked here. Afterwards the test checks what a reader would: the stream ended with
204 after the run's last event, the archives are real, the imports made projects.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import REPO, LocalCloudProcess

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

README = REPO / "README.md"
HEADING = "## Walk-through with curl"
ERRORS_SECTION = "# Errors come in one envelope"
RUN_TIMEOUT_SECONDS = 110
# The local cloud holds a stream response up to 20 s; an answer that has nothing to wait for
# comes long before that.
PROMPT_SECONDS = 8.0

# Where the walk-through got to (also on failure, from the ERR trap).
SAVE_STATE = """printf "%s\\n" "${PROJECT-}" "${RUN-}" "${LAST-}" > state.txt"""
PREAMBLE = """\
set -Eeuo pipefail  # -E: the ERR trap fires in the curl function too
trap 'echo "walk-through failed at script line $LINENO (exit $?)" >&2; SAVE_STATE' ERR
# Any HTTP error fails the call, and with it the walk-through.
curl() { command curl --fail-with-body --show-error "$@"; }
set -x
""".replace("SAVE_STATE", SAVE_STATE)
# The calls below this fail on purpose: record their answers (body, then status) instead.
ERRORS_PREAMBLE = """\
set +x
curl() { command curl --write-out '\\n%{http_code}\\n' "$@" | tee -a errors.txt; }
set -x
"""
STATE = "\nset +x\n" + SAVE_STATE + "\n"


def walkthrough_block() -> str:
    text = README.read_text()
    assert HEADING in text, f"README.md has no {HEADING!r}"
    block = re.search(r"```bash\n(.*?)```", text.split(HEADING, 1)[1], re.S)
    assert block, "no ```bash block after the walk-through heading"
    return block.group(1)


def script_for(block: str, url: str, key: str) -> str:
    lines = block.splitlines()
    kiln = [i for i, line in enumerate(lines) if line.startswith("export KILN=")]
    keys = [i for i, line in enumerate(lines) if line.startswith("export KEY=")]
    errors = [i for i, line in enumerate(lines) if line.startswith(ERRORS_SECTION)]
    assert len(kiln) == len(keys) == len(errors) == 1, "the walk-through's export lines or errors section moved"
    lines[kiln[0]] = f"export KILN={url}"
    lines[keys[0]] = f"export KEY={key}"
    lines.insert(errors[0], ERRORS_PREAMBLE)
    return PREAMBLE + "\n".join(lines) + STATE


def fresh_admin_key(cloud: LocalCloudProcess) -> tuple[str, requests.Session]:
    admin = cloud.session()
    workspace = admin.post(f"{cloud.url}/v1/workspaces", json={"name": "Walk-through", "tier": "enterprise"})
    assert workspace.status_code == 201, workspace.text
    minted = admin.post(
        f"{cloud.url}/v1/api-keys",
        json={
            "name": "walk-through",
            "scopes": ["project:read", "project:write", "ai:invoke", "admin"],
            "workspaceId": workspace.json()["data"]["id"],
        },
    )
    assert minted.status_code == 201, minted.text
    secret = minted.json()["data"]["secret"]
    return secret, cloud.session(secret)


def build_outcome(api: requests.Session, url: str, workdir: Path) -> str:
    """The walk-through's run as the API tells it, when it got that far: a failed build stops
    the walk-through at the files on main, far from the cause."""
    state = workdir / "state.txt"
    project_id, run_id = ([*state.read_text().splitlines(), "", ""][:2]) if state.exists() else ("", "")
    if not (project_id and run_id):
        return ""
    run = api.get(f"{url}/v1/projects/{project_id}/runs/{run_id}").json().get("data") or {}
    checks = [c for c in (run.get("verificationResult") or {}).get("checks", []) if not c.get("passed")]
    return f" (its build: {run.get('status')}, {run.get('error')}, failed checks {checks})"


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "python3", "awk")),
    reason="the walk-through needs bash, curl, python3 and awk",
)
def test_the_readme_walkthrough_runs_as_written(local_cloud, tmp_path: Path):
    key, api = fresh_admin_key(local_cloud)
    script = tmp_path / "walkthrough.sh"
    script.write_text(script_for(walkthrough_block(), local_cloud.url, key))
    started = time.monotonic()
    try:
        result = subprocess.run(
            ["bash", str(script)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as timeout:
        output = timeout.output.decode(errors="replace") if isinstance(timeout.output, bytes) else timeout.output
        pytest.fail(f"the walk-through took over {RUN_TIMEOUT_SECONDS} s:\n{(output or '')[-6000:]}")
    took = time.monotonic() - started
    (tmp_path / "walkthrough.log").write_text(result.stdout)  # the whole trace, for a failure's post-mortem
    if result.returncode != 0:
        pytest.fail(
            f"exit {result.returncode} after {took:.0f} s{build_outcome(api, local_cloud.url, tmp_path)}:\n"
            f"{result.stdout[-8000:]}"
        )

    # The stream loop stopped on 204, right after the run's terminal event.
    project_id, run_id, last = (tmp_path / "state.txt").read_text().split()
    base = f"{local_cloud.url}/v1/projects/{project_id}"
    assert f"stream: 204 after event {last}" in result.stdout
    events = api.get(f"{base}/runs/{run_id}/events", params={"limit": 1000}).json()["data"]
    assert events[-1]["eventType"] == "RUN_COMPLETED" and events[-1]["id"] == int(last)
    assert [e["id"] for e in events] == list(range(1, int(last) + 1))
    assert api.get(f"{base}/runs/{run_id}").json()["data"]["status"] == "succeeded"
    # Where the hold is 20 s, a finished run's stream with nothing left to send answers 204
    # at once: resumed from the terminal event, or filtered to what will never come.
    stream = f"{base}/runs/{run_id}/events/stream"
    for params, headers in (
        ({}, {"Last-Event-ID": last}),
        ({"type": "TASK_FAILED"}, {}),
        ({"taskId": "task-001"}, {"Last-Event-ID": last}),
    ):
        asked = time.monotonic()
        answer = api.get(stream, params=params, headers=headers, timeout=30)
        assert answer.status_code == 204 and time.monotonic() - asked < PROMPT_SECONDS, (params, headers)
    # A response that carries the terminal event ends with it instead of holding.
    asked = time.monotonic()
    answer = api.get(stream, params={"type": "RUN_COMPLETED"}, timeout=30)
    assert answer.status_code == 200 and time.monotonic() - asked < PROMPT_SECONDS
    assert f"id: {last}\nevent: RUN_COMPLETED\n" in answer.text

    # What was downloaded is what was built, and both imports made a project.
    with zipfile.ZipFile(tmp_path / "my-saas-app.zip") as archive:
        assert any(name.endswith("README.md") for name in archive.namelist())
    with zipfile.ZipFile(tmp_path / "my-saas-app.kiln") as archive:
        assert json.loads(archive.read("kiln.json"))["project"]["name"] == "Team Planner"
    names = {p["name"] for p in api.get(f"{local_cloud.url}/v1/projects", params={"pageSize": 100}).json()["data"]}
    assert {"Copy", "Team Planner", "Once"} <= names
    archived = api.get(base).json()["data"]
    assert archived["name"] == "Team Planner" and archived["status"] == "archived"

    # The last two calls answered the error envelope with a stable code.
    answers = (tmp_path / "errors.txt").read_text().strip().split("\n")
    assert len(answers) == 4, answers
    (missing, missing_status), (anonymous, anonymous_status) = (answers[0:2], answers[2:4])
    assert missing_status == "404" and json.loads(missing)["error"]["code"] == "NOT_FOUND"
    assert anonymous_status == "401" and json.loads(anonymous)["success"] is False

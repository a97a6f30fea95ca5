"""The `kiln` command line as a person types it, against the local cloud: login, a project
from description to build to export and import, with the output and exit codes checked."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import LocalCloudProcess
from tests.integration.test_spec_workflow import EXAMPLE

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

KILN = Path(sys.executable).parent / "kiln"


def keystrokes(question: dict[str, Any]) -> str:
    """What a person types for one question, by its type."""
    typed = {"boolean": "y", "single_choice": "1", "multi_choice": "1,2"}
    return typed.get(question["type"], "A web app first.") + "\n"


@pytest.fixture
def kiln(tmp_path: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "160"})

    def run(*args: str, stdin: str | None = None, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(KILN), *args], input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300
        )
        assert done.returncode == expect, f"kiln {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done

    return run


def test_a_project_through_the_command_line(kiln: Any, local_cloud: LocalCloudProcess, tmp_path: Path) -> None:
    assert KILN.exists(), "the package installs the `kiln` command next to the interpreter"
    # Without credentials: a readable refusal, exit 3
    assert "kiln login" in kiln("projects", "list", expect=3).stderr

    # A wrong key is refused before anything is stored
    refused = kiln("login", "--api-key", "kiln_" + "x" * 43, "--base-url", local_cloud.url, expect=3)
    assert "UNAUTHORIZED (401)" in refused.stderr and "what to do" in refused.stderr
    assert "Logged in" in kiln("login", "--api-key", local_cloud.admin_key, "--base-url", local_cloud.url).stdout
    config = tmp_path / "config" / "kiln" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    name = f"CLI life {tmp_path.name}"
    created = json.loads(kiln("projects", "create", "--name", name, "--description", EXAMPLE, "--json").stdout)
    project = created["id"]
    assert created["status"] == "draft"
    assert project in kiln("projects", "list", "--search", name).stdout
    listed = json.loads(kiln("projects", "list", "--search", name, "--json").stdout)
    assert [p["id"] for p in listed] == [project]
    assert json.loads(kiln("projects", "show", project, "--json").stdout)["name"] == name

    questions = json.loads(kiln("spec", "clarify", project, "--questions-only", "--json").stdout)
    assert questions and {q["type"] for q in questions} <= {"boolean", "single_choice", "multi_choice", "text"}
    answered = kiln("spec", "clarify", project, stdin="".join(keystrokes(q) for q in questions))
    assert "Specification version 1 written; status spec_review." in answered.stdout
    assert questions[0]["question"] in answered.stdout  # each question was asked
    assert kiln("spec", "show", project, "--document", "SPEC.md").stdout.strip()
    assert "Approved version 1" in kiln("spec", "approve", project, "--version", "1").stdout

    built = kiln("build", project, "--follow")
    assert "Run succeeded:" in built.stdout and "verification passed" in built.stdout
    assert "succeeded" in built.stdout.split("Run succeeded:")[0]  # the task lines of the live view

    assert "README.md" in kiln("files", "ls", project).stdout
    readme = kiln("files", "cat", project, "README.md").stdout
    assert readme.strip()
    kiln("files", "pull", project, "tree")
    assert (tmp_path / "tree" / "README.md").read_text() == readme

    exported = json.loads(kiln("export", project, "--format", "zip", "-o", "out.zip", "--json").stdout)
    assert exported["sizeBytes"] == (tmp_path / "out.zip").stat().st_size > 0
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert any(n.endswith("README.md") for n in archive.namelist())
    imported = json.loads(kiln("import", "out.zip", "--name", "CLI copy", "--json").stdout)
    assert imported["name"] == "CLI copy" and imported["id"] != project

    missing = kiln("projects", "show", "proj_00000000000000000000000000", expect=4)
    assert "NOT_FOUND (404)" in missing.stderr and "request id:" in missing.stderr
    bad = kiln("projects", "show", "not-an-id", "--json", expect=5)
    assert json.loads(bad.stderr)["error"]["code"] == "VALIDATION_ERROR"
    conflict = kiln("spec", "approve", project, expect=5)  # already built: its state refuses
    assert "CONFLICT (409)" in conflict.stderr
    assert "Archived" in kiln("projects", "archive", imported["id"]).stdout


def test_keys_and_webhooks_through_the_command_line(kiln: Any, local_cloud: LocalCloudProcess) -> None:
    admin = ("--api-key", local_cloud.admin_key, "--base-url", local_cloud.url)
    key = json.loads(kiln(*admin, "keys", "create", "--name", "reader", "--scope", "project:read", "--json").stdout)
    assert key["secret"].startswith("kiln_") and key["scopes"] == ["project:read"]
    assert key["id"] in kiln(*admin, "keys", "list").stdout
    reader = ("--api-key", key["secret"], "--base-url", local_cloud.url)
    kiln(*reader, "projects", "list", "--limit", "1")
    refused = kiln(*reader, "projects", "create", "--name", "No", "--description", "Not allowed.", expect=3)
    assert "FORBIDDEN (403)" in refused.stderr and "scope" in refused.stderr
    assert "Revoked" in kiln(*admin, "keys", "revoke", key["id"]).stdout
    # (The gateway caches a key's authorization for up to 60 s, so it is not refused at once.)
    listed = {k["id"]: k["status"] for k in json.loads(kiln(*admin, "keys", "list", "--json").stdout)}
    assert listed[key["id"]] == "revoked"

    hook = json.loads(
        kiln(*admin, "webhooks", "create", "--url", "http://127.0.0.1:9/hook", "--event", "run.*", "--json").stdout
    )
    assert hook["secret"] and hook["events"] == ["run.*"]
    assert hook["id"] in kiln(*admin, "webhooks", "list").stdout
    delivery = json.loads(kiln(*admin, "webhooks", "test", hook["id"], "--json").stdout)
    deliveries = json.loads(kiln(*admin, "webhooks", "deliveries", hook["id"], "--json").stdout)
    assert delivery["id"] in [d["id"] for d in deliveries]
    assert "Deleted" in kiln(*admin, "webhooks", "delete", hook["id"]).stdout
    assert "NOT_FOUND (404)" in kiln(*admin, "webhooks", "test", hook["id"], expect=4).stderr
    bad = kiln(*admin, "webhooks", "create", "--url", "not a url", "--event", "run.*", "--json", expect=5)
    assert json.loads(bad.stderr)["error"]["code"] == "VALIDATION_ERROR"

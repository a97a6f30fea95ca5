"""The repair loop over HTTP: a local cloud started with KILN_GENERATOR=openai-compatible builds
with a scripted chat-completions server on 127.0.0.1 whose code fails its own test. The run is
followed as a client follows it (the event stream); its events, tasks and files tell the story,
and the task branch's commits are read back from the local cloud's S3 as git objects.

- The model's second answer for the task fixes it: the run succeeds after one repair.
- The model never fixes it: after the allowed attempts (2, the default) the run fails with
  reason verification_failed, and the events show every attempt.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from tests.integration.conftest import LocalCloudProcess
from tests.integration.test_builds import follow
from tests.unit.kiln.adapters.fake_chat_completions import FakeChatCompletions
from tests.unit.kiln.adapters.test_bedrock import QUESTIONS, SPEC

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

DESCRIPTION = "A tool where freelancers log hours against client projects and bill them."
ANSWERS = [{"questionId": "authentication", "answer": "Single sign-on"}, {"questionId": "invoicing", "answer": False}]
BRANCH = "feat/task-002-hours"

PLAN = {
    "tasks": [
        {
            "id": "task-001",
            "slug": "package",
            "description": "The package and the tests package.",
            "instructions": "Write timekeeper/__init__.py and tests/__init__.py.",
            "dependencies": [],
            "pathScope": ["timekeeper/__init__.py", "tests/__init__.py"],
            "expectedOutputs": ["timekeeper/__init__.py", "tests/__init__.py"],
        },
        {
            "id": "task-002",
            "slug": "hours",
            "description": "Totals of logged hours.",
            "instructions": "Write timekeeper/hours.py with total(entries) and its unittest tests.",
            "dependencies": ["task-001"],
            "pathScope": ["timekeeper/hours.py", "tests/test_hours.py"],
            "expectedOutputs": ["timekeeper/hours.py", "tests/test_hours.py"],
        },
    ],
    "mergeOrder": ["task-001", "task-002"],
}
PACKAGE = {
    "files": {"timekeeper/__init__.py": '"""Timekeeper."""\n', "tests/__init__.py": ""},
    "summary": "The package.",
}
TEST = (
    "import unittest\n\nfrom timekeeper.hours import total\n\n\nclass TotalTest(unittest.TestCase):\n"
    "    def test_total_adds_the_hours(self):\n        self.assertEqual(total([1.5, 2.0]), 3.5)\n"
)
BUGGY = "def total(entries):\n    return max(entries)\n"
FIXED = "def total(entries):\n    return sum(entries)\n"


def build(cloud: LocalCloudProcess, chat: FakeChatCompletions, repairs: list[str]) -> tuple[str, str, list[dict]]:
    """An approved project, a run whose task-002 the model writes buggy and then repairs with
    `repairs` (ops.py contents, in order); (project id, run id, the events as streamed)."""
    api, url = cloud.session(), cloud.url
    project = api.post(f"{url}/v1/projects", json={"name": "Timekeeper", "description": DESCRIPTION}).json()["data"]
    base = f"{url}/v1/projects/{project['id']}"
    chat.tool_answer("submit_questions", QUESTIONS)
    assert api.post(f"{base}/clarify").status_code == 200
    chat.tool_answer("submit_spec", SPEC)
    assert api.post(f"{base}/answers", json={"answers": ANSWERS}).status_code == 200
    assert api.post(f"{base}/approve").status_code == 200

    chat.tool_answer("submit_plan", PLAN)
    chat.tool_answer("submit_files", PACKAGE)
    chat.tool_answer(
        "submit_files", {"files": {"timekeeper/hours.py": BUGGY, "tests/test_hours.py": TEST}, "summary": "Totals."}
    )
    for content in repairs:
        chat.tool_answer("submit_files", {"files": {"timekeeper/hours.py": content}, "summary": "Sum the hours."})
    response = api.post(f"{base}/runs")
    assert response.status_code == 201, response.text
    run_id = response.json()["data"]["id"]
    streamed = follow(api, f"{base}/runs/{run_id}/events/stream")
    assert chat.pending == 0 and chat.unscripted == 0, "the model was asked exactly what was scripted"
    return project["id"], run_id, streamed


def events(cloud: LocalCloudProcess, project_id: str, run_id: str, **query: str) -> list[dict[str, Any]]:
    response = cloud.session().get(
        f"{cloud.url}/v1/projects/{project_id}/runs/{run_id}/events", params={"limit": 100, **query}
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def read_file(cloud: LocalCloudProcess, project_id: str, path: str, ref: str) -> str:
    response = cloud.session().get(f"{cloud.url}/v1/projects/{project_id}/files/{path}", params={"ref": ref})
    assert response.status_code == 200, response.text
    return response.json()["data"]["content"]


def commit_parents(cloud: LocalCloudProcess, project_id: str, sha: str) -> list[str]:
    """A commit's parents, read from its git object in the local cloud's S3 (what `git log` reads)."""
    s3 = cloud.aws("s3")
    suffix = f"/{project_id}/objects/{sha[:2]}/{sha[2:]}"
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"], Prefix="repos/"):
            for item in page.get("Contents", []):
                if item["Key"].endswith(suffix):
                    raw = zlib.decompress(s3.get_object(Bucket=bucket["Name"], Key=item["Key"])["Body"].read())
                    header, _, body = raw.partition(b"\0")
                    assert header.startswith(b"commit ")
                    return [line.split()[1] for line in body.decode().splitlines() if line.startswith("parent ")]
    raise AssertionError(f"commit {sha} is not stored")


def test_a_failing_test_is_repaired_by_the_model_and_the_run_succeeds(
    model_cloud: LocalCloudProcess, chat: FakeChatCompletions
) -> None:
    seen = len(chat.requests)
    project_id, run_id, streamed = build(model_cloud, chat, [FIXED])

    kinds = [e["event"] for e in streamed]
    first_verification = kinds.index("VERIFICATION_COMPLETED")
    assert kinds[first_verification:] == [
        "VERIFICATION_COMPLETED",
        "TASK_REPAIR_STARTED",
        "FILE_MODIFIED",
        "TASK_REPAIR_COMPLETED",
        "VERIFICATION_COMPLETED",
        "RUN_COMPLETED",
    ]
    verifications = events(model_cloud, project_id, run_id, type="VERIFICATION_COMPLETED")
    assert [v["payload"]["passed"] for v in verifications] == [False, True]
    assert verifications[0]["payload"]["repair"] == {"attempt": 1, "maxAttempts": 2, "taskIds": ["task-002"]}
    [started] = events(model_cloud, project_id, run_id, type="TASK_REPAIR_STARTED")
    assert started["taskId"] == "task-002" and started["payload"]["attempt"] == 1
    [modified] = events(model_cloud, project_id, run_id, type="FILE_MODIFIED")
    assert modified["taskId"] == "task-002" and modified["payload"]["path"] == "timekeeper/hours.py"

    # The model was sent the failing test's output with the task and the tree as verified.
    repair = chat.requests[seen + 5].body  # clarify, spec, plan, two implements, then the repair
    assert repair["tool_choice"] == {"type": "function", "function": {"name": "submit_files"}}
    asked = repair["messages"][1]["content"]
    assert "Repair task task-002" in asked and "test_total_adds_the_hours" in asked and "AssertionError" in asked

    # The run, the task and the code: repaired on the task's branch, merged into main.
    run = model_cloud.session().get(f"{model_cloud.url}/v1/projects/{project_id}/runs/{run_id}").json()["data"]
    assert run["status"] == "succeeded" and run["verificationResult"]["passed"] is True
    task = (
        model_cloud.session()
        .get(f"{model_cloud.url}/v1/projects/{project_id}/runs/{run_id}/tasks/task-002")
        .json()["data"]
    )
    assert task["repairs"] == 1 and task["branchName"] == BRANCH
    [completed] = events(model_cloud, project_id, run_id, type="TASK_COMPLETED", taskId="task-002")
    [repaired] = events(model_cloud, project_id, run_id, type="TASK_REPAIR_COMPLETED")
    first, second = completed["payload"]["commitSha"], repaired["payload"]["commitSha"]
    assert task["result"]["commitSha"] == second != first
    assert commit_parents(model_cloud, project_id, second) == [first], "two commits on the task's branch"
    assert read_file(model_cloud, project_id, "timekeeper/hours.py", first) == BUGGY
    assert read_file(model_cloud, project_id, "timekeeper/hours.py", BRANCH) == FIXED
    assert read_file(model_cloud, project_id, "timekeeper/hours.py", "main") == FIXED


def test_a_model_that_never_fixes_it_fails_the_run_after_the_allowed_attempts(
    model_cloud: LocalCloudProcess, chat: FakeChatCompletions
) -> None:
    project_id, run_id, streamed = build(model_cloud, chat, [BUGGY + "# try 1\n", BUGGY + "# try 2\n"])

    kinds = [e["event"] for e in streamed]
    assert kinds[kinds.index("VERIFICATION_COMPLETED") :] == [
        "VERIFICATION_COMPLETED",
        "TASK_REPAIR_STARTED",
        "FILE_MODIFIED",
        "TASK_REPAIR_COMPLETED",
        "VERIFICATION_COMPLETED",
        "TASK_REPAIR_STARTED",
        "FILE_MODIFIED",
        "TASK_REPAIR_COMPLETED",
        "VERIFICATION_COMPLETED",
        "RUN_FAILED",
    ]
    attempts = [json.loads(e["data"])["payload"]["attempt"] for e in streamed if e["event"] == "TASK_REPAIR_STARTED"]
    assert attempts == [1, 2]
    run = model_cloud.session().get(f"{model_cloud.url}/v1/projects/{project_id}/runs/{run_id}").json()["data"]
    assert run["status"] == "failed" and run["error"]["reason"] == "verification_failed"
    assert "after 2 repair attempts" in run["error"]["message"]
    assert model_cloud.session().get(f"{model_cloud.url}/v1/projects/{project_id}").json()["data"]["status"] == "failed"
    # Nothing reached main; the branch holds the last attempt.
    response = model_cloud.session().get(
        f"{model_cloud.url}/v1/projects/{project_id}/files/timekeeper/hours.py", params={"ref": "main"}
    )
    assert response.status_code == 404
    assert read_file(model_cloud, project_id, "timekeeper/hours.py", BRANCH) == BUGGY + "# try 2\n"

"""Real time and stats over the wire (CONTRACT section 8), against the local cloud started as
`make run` starts it: a WebSocket client at ws://<host>:<port>/ws follows a build from its first
event to RUN_COMPLETED in order and gap-free (a repeat only of an id just sent), with the events
GET .../events lists; another workspace's client gets NOT_FOUND for that run and nothing of it;
GET /v1/admin/stats counts the projects and runs this test made (compared as deltas: the
counters are the whole deployment's, and other tests share the cloud)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.integration.test_spec_workflow import _spec_review

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

RUN_DEADLINE_SECONDS = 300
# A small project: a build of a few tasks is enough to interleave stored and live events.
# A small project (five tasks): what is followed here is the channel, not the build. A larger
# build, under full-suite load, has twice failed with one task branch written by two writers at
# once (RefConflict "feat/task-008-... is at <sha>, not at None" in BuildSteps.execute_task): an
# open bug of the build, not of this channel.
DESCRIPTION = "A tool to keep notes."
STATS_DEADLINE_SECONDS = 30


def ws_url(http_url: str, query: str = "") -> str:
    return http_url.replace("http://", "ws://", 1) + "/ws" + (f"?{query}" if query else "")


def receive(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


def other_workspace_key(url: str, api: requests.Session) -> str:
    workspace = api.post(f"{url}/v1/workspaces", json={"name": "Elsewhere", "tier": "pro"}).json()["data"]
    minted = api.post(
        f"{url}/v1/api-keys",
        json={"name": "reader", "scopes": ["project:read", "project:write"], "workspaceId": workspace["id"]},
    )
    assert minted.status_code == 201, minted.text
    return minted.json()["data"]["secret"]


def stats(url: str, api: requests.Session) -> dict[str, Any]:
    answer = api.get(f"{url}/v1/admin/stats")
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def settled_stats(url: str, api: requests.Session) -> dict[str, Any]:
    """The counters once earlier tests' changes have gone through the stream (unchanged for 2 s)."""
    deadline = time.monotonic() + STATS_DEADLINE_SECONDS
    current = stats(url, api)
    while time.monotonic() < deadline:
        time.sleep(2)
        again = stats(url, api)
        if again == current:
            return current
        current = again
    raise AssertionError("the stats never settled")


def wait_for_stats(url: str, api: requests.Session, expected: dict[tuple[str, str], int]) -> dict[str, Any]:
    """The counters follow the table's stream: a change shows within seconds."""
    deadline = time.monotonic() + STATS_DEADLINE_SECONDS
    while True:
        current = stats(url, api)
        if all(current[group][name] == value for (group, name), value in expected.items()):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"stats {current} never reached {expected}")
        time.sleep(0.5)


def test_a_build_followed_over_a_websocket(local_cloud, api):
    url = local_cloud.url
    before = settled_stats(url, api)
    project_id = _spec_review(url, api, DESCRIPTION)
    assert api.post(f"{url}/v1/projects/{project_id}/approve").status_code == 200
    stranger_key = other_workspace_key(url, api)

    with connect(ws_url(url)) as ws, connect(ws_url(url)) as stranger:
        # Nothing before authenticating; bad input is an error that changes nothing.
        ws.send(json.dumps({"type": "subscribe", "channel": "run:run_00000000000000000000000000"}))
        assert receive(ws)["code"] == "UNAUTHORIZED"
        ws.send("not json")
        assert receive(ws)["code"] == "VALIDATION_ERROR"
        ws.send(json.dumps({"type": "auth", "token": "kiln_" + "x" * 43}))
        assert receive(ws)["code"] == "UNAUTHORIZED"
        ws.send(json.dumps({"type": "auth", "token": local_cloud.admin_key}))
        assert receive(ws) == {"type": "authenticated"}
        stranger.send(json.dumps({"type": "auth", "token": stranger_key}))
        assert receive(stranger) == {"type": "authenticated"}

        response = api.post(f"{url}/v1/projects/{project_id}/runs")
        assert response.status_code == 201, response.text
        run_id = response.json()["data"]["id"]
        channel = f"run:{run_id}"
        # Subscribing once the run is under way: the stored events first, then the live ones.
        time.sleep(1)
        ws.send(json.dumps({"type": "subscribe", "channel": channel}))
        assert receive(ws) == {"type": "subscribed", "channel": channel}
        stranger.send(json.dumps({"type": "subscribe", "channel": channel}))
        refused = receive(stranger)
        assert refused["type"] == "error" and refused["code"] == "NOT_FOUND", refused

        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + RUN_DEADLINE_SECONDS
        while not events or events[-1]["eventType"] not in ("RUN_COMPLETED", "RUN_FAILED"):
            assert time.monotonic() < deadline, f"no terminal event within {RUN_DEADLINE_SECONDS} s: {events[-3:]}"
            message = receive(ws, timeout=max(1, deadline - time.monotonic()))
            assert message["type"] == "event" and message["channel"] == channel, message
            events.append(message["data"])
        assert events[-1]["eventType"] == "RUN_COMPLETED", events[-4:]
        # In order and gap-free; a post that failed without an answer is sent again, and a client
        # skips an id it has seen (docs/events.md), as this one does.
        ids = [e["id"] for e in events]
        assert all(later >= earlier for earlier, later in itertools.pairwise(ids)), ids
        events = list({e["id"]: e for e in events}.values())
        assert [e["id"] for e in events] == list(range(1, len(events) + 1)), "every event, in order"

        listed = api.get(f"{url}/v1/projects/{project_id}/runs/{run_id}/events", params={"limit": 100}).json()["data"]
        assert [{k: e[k] for k in ("id", "eventType", "taskId", "payload", "createdAt")} for e in listed] == events

        # The other workspace's client received nothing of the run.
        with pytest.raises(TimeoutError):
            stranger.recv(timeout=1)

        # A client resuming after an event id gets what followed it, and nothing else.
        with connect(ws_url(url, f"token={local_cloud.admin_key}")) as resumed:
            resumed.send(json.dumps({"type": "subscribe", "channel": channel, "after": ids[-3]}))
            assert receive(resumed) == {"type": "subscribed", "channel": channel}
            assert [receive(resumed)["data"]["id"] for _ in range(2)] == ids[-2:]
            with pytest.raises(TimeoutError):
                resumed.recv(timeout=1)

    # Credentials on connect that do not authenticate refuse the upgrade.
    with pytest.raises(InvalidStatus) as refused_upgrade:
        connect(ws_url(url, "token=kiln_" + "y" * 43))
    assert refused_upgrade.value.response.status_code == 401

    # One project and one succeeded run more than before (the other workspace made none).
    after = wait_for_stats(
        url,
        api,
        {
            ("projects", "total"): before["projects"]["total"] + 1,
            ("runs", "total"): before["runs"]["total"] + 1,
            ("runs", "succeeded"): before["runs"]["succeeded"] + 1,
        },
    )
    assert after["runs"]["failed"] == before["runs"]["failed"]
    assert after["projects"]["active"] == before["projects"]["active"] + 1


def test_stats_are_for_admins(local_cloud, api):
    url = local_cloud.url
    minted = api.post(f"{url}/v1/api-keys", json={"name": "no admin", "scopes": ["project:read"]})
    assert minted.status_code == 201, minted.text
    answer = requests.get(
        f"{url}/v1/admin/stats", headers={"Authorization": f"Bearer {minted.json()['data']['secret']}"}
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "FORBIDDEN"

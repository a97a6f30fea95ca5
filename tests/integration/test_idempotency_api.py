"""Idempotency-Key over HTTP against the local cloud (enterprise admin: the gateway lets 50 through)."""

from __future__ import annotations

import concurrent.futures
import threading
import uuid

import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]


def post(cloud, key: str, body: dict, session: requests.Session | None = None) -> requests.Response:
    http = session or cloud.session()
    return http.post(f"{cloud.url}/v1/projects", json=body, headers={"Idempotency-Key": key}, timeout=60)


def projects_named(cloud, marker: str) -> list[dict]:
    response = cloud.session().get(f"{cloud.url}/v1/projects", params={"search": marker, "pageSize": 100}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["total"] == len(response.json()["data"])
    return response.json()["data"]


def test_fifty_concurrent_identical_requests_create_exactly_one_project(local_cloud):
    marker = f"idem-{uuid.uuid4().hex[:10]}"
    key = f"create-{marker}"
    body = {"name": marker, "description": "Fifty clients, one project."}
    sessions = [local_cloud.session() for _ in range(50)]
    start = threading.Barrier(50)

    def fire(session: requests.Session) -> requests.Response:
        start.wait(30)
        return post(local_cloud, key, body, session)

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(fire, sessions))

    created = [r for r in responses if r.status_code == 201]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_flight) == 50, sorted({(r.status_code, r.text[:120]) for r in responses})
    originals = [r for r in created if r.headers.get("Idempotent-Replayed") != "true"]
    assert len(originals) == 1  # exactly one request ran the handler
    first = originals[0]
    for replay in created:
        assert replay.json() == first.json()
        assert replay.headers["Location"] == first.headers["Location"]
    for busy in in_flight:
        assert busy.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
        assert int(busy.headers["Retry-After"]) >= 1
    for response in responses:
        assert "X-RateLimit-Limit" in response.headers  # each one was metered

    (project,) = projects_named(local_cloud, marker)
    assert project["id"] == first.json()["data"]["id"]

    later = post(local_cloud, key, body)
    assert later.status_code == 201 and later.headers["Idempotent-Replayed"] == "true"
    assert later.json() == first.json()


def test_the_same_key_with_another_body_is_422(local_cloud):
    marker = f"idem-{uuid.uuid4().hex[:10]}"
    key = f"reuse-{marker}"
    assert post(local_cloud, key, {"name": marker, "description": "First."}).status_code == 201
    reused = post(local_cloud, key, {"name": marker, "description": "Second."})
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(projects_named(local_cloud, marker)) == 1


def test_a_validation_failure_leaves_the_key_unused(local_cloud):
    marker = f"idem-{uuid.uuid4().hex[:10]}"
    key = f'"quoted-{marker}"'
    invalid = post(local_cloud, key, {"name": "", "description": "x"})
    assert invalid.status_code == 400
    valid = post(local_cloud, key, {"name": marker, "description": "Now valid."})
    assert valid.status_code == 201 and "Idempotent-Replayed" not in valid.headers
    bare = post(local_cloud, f"quoted-{marker}", {"name": marker, "description": "Now valid."})
    assert bare.headers["Idempotent-Replayed"] == "true"  # quoted and bare are the same key


def test_a_malformed_key_is_400(local_cloud):
    response = post(local_cloud, "x" * 256, {"name": "n", "description": "d"})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"][0]["field"] == "Idempotency-Key"

"""The request loop against httpx.MockTransport: retries, backoff, Retry-After, idempotency
keys, typed errors, and both pagination modes."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

import httpx
import pytest

from kiln_client import AsyncKiln, Kiln, KilnConnectionError, NotFoundError, RateLimitError, RetryPolicy
from kiln_client._retry import parse_retry_after

PROJECT = {
    "id": "proj_01m885m8rskqxxjknrtpgbxm1p",
    "name": "Planner",
    "description": "A planner.",
    "status": "draft",
    "createdAt": "2026-01-01T00:00:00.000Z",
    "updatedAt": "2026-01-01T00:00:00.000Z",
}


def ok(data: object, status: int = 200, **extra: object) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data, **extra})


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"success": False, "data": None, "error": {"code": code, "message": "no", "details": {"why": code}}}
    return httpx.Response(status, json=body, headers={"X-Request-Id": f"req-{code}", **(headers or {})})


def client(handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float]) -> Kiln:
    policy = RetryPolicy(random=random.Random(7))
    transport = httpx.MockTransport(handler)
    return Kiln("kiln_test", "http://kiln.test", transport=transport, retry=policy, sleep=sleeps.append)


def test_a_429_is_retried_with_the_same_idempotency_key_after_retry_after() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return error(429, "RATE_LIMIT_EXCEEDED", {"Retry-After": "3"})
        return ok(PROJECT, 201)

    sleeps: list[float] = []
    project = client(handler, sleeps).create_project("Planner", "A planner.")
    assert project.id == PROJECT["id"] and project.status.value == "draft"
    keys = [request.headers.get("Idempotency-Key") for request in seen]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]
    assert sleeps == [3.0]  # the server's 3 s beat the first backoff (at most 0.5 s)
    assert seen[0].headers["Authorization"] == "Bearer kiln_test"
    assert json.loads(seen[0].content) == {"name": "Planner", "description": "A planner."}


def test_each_logical_call_gets_its_own_key_and_reads_send_none() -> None:
    keys: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        return ok(PROJECT, 201 if request.method == "POST" else 200)

    kiln = client(handler, [])
    kiln.create_project("a", "b")
    kiln.create_project("a", "b")
    kiln.get_project(PROJECT["id"])
    assert keys[0] and keys[1] and keys[0] != keys[1]
    assert keys[2] is None


def test_503_and_connection_errors_back_off_exponentially_then_give_up() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused", request=request)
        return error(503, "SERVICE_UNAVAILABLE")

    sleeps: list[float] = []
    kiln = client(handler, sleeps)
    with pytest.raises(Exception) as raised:
        kiln.get_project(PROJECT["id"])
    assert calls == 3  # the first try and two retries
    assert raised.value.__class__.__name__ == "ServerError"
    assert raised.value.code == "SERVICE_UNAVAILABLE" and raised.value.request_id == "req-SERVICE_UNAVAILABLE"  # type: ignore[attr-defined]
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # jittered, doubling


def test_the_last_429_surfaces_as_a_typed_error_with_code_details_and_request_id() -> None:
    sleeps: list[float] = []
    kiln = client(lambda request: error(429, "USAGE_LIMIT_EXCEEDED"), sleeps)
    with pytest.raises(RateLimitError) as raised:
        kiln.create_project("a", "b")
    assert raised.value.status == 429 and raised.value.code == "USAGE_LIMIT_EXCEEDED"
    assert raised.value.details == {"why": "USAGE_LIMIT_EXCEEDED"}
    assert raised.value.request_id == "req-USAGE_LIMIT_EXCEEDED"
    assert len(sleeps) == 2


def test_errors_that_retrying_cannot_fix_are_raised_at_once() -> None:
    sleeps: list[float] = []
    kiln = client(lambda request: error(404, "NOT_FOUND"), sleeps)
    with pytest.raises(NotFoundError):
        kiln.get_project(PROJECT["id"])
    assert sleeps == []


def test_connection_failures_become_a_connection_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(KilnConnectionError, match=r"could not reach http://kiln\.test"):
        client(refuse, []).get_project(PROJECT["id"])


def test_retry_after_reads_seconds_and_dates_and_ignores_nonsense() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: at once
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    policy = RetryPolicy(random=random.Random(1))
    assert policy.delay(0, 3600) == 60.0  # bounded: a bad header cannot hang the caller
    assert all(4.0 <= policy.delay(10) <= 8.0 for _ in range(20))  # capped at max_delay


def test_page_mode_iterates_every_page() -> None:
    pages: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        pages.append(str(request.url.params))
        items = [{**PROJECT, "name": f"p{page}-{i}"} for i in range(2 if page < 3 else 1)]
        return ok(items, pagination={"page": page, "pageSize": 2, "total": 5, "totalPages": 3})

    names = [p.name for p in client(handler, []).iter_projects(status="draft", page_size=2)]
    assert names == ["p1-0", "p1-1", "p2-0", "p2-1", "p3-0"]
    assert pages == ["status=draft&pageSize=2", "status=draft&pageSize=2&page=2", "status=draft&pageSize=2&page=3"]


def test_cursor_mode_follows_next_cursor_until_it_is_null() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        nxt = {None: "c1", "c1": "c2", "c2": None}[cursor]
        return ok([{**PROJECT, "name": str(cursor)}], pagination={"limit": 1, "nextCursor": nxt, "hasMore": bool(nxt)})

    assert [p.name for p in client(handler, []).iter_projects(limit=1)] == ["None", "c1", "c2"]


def test_the_async_client_retries_with_the_same_key_too() -> None:
    keys: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers.get("Idempotency-Key"))
        return error(503, "SERVICE_UNAVAILABLE", {"Retry-After": "1"}) if len(keys) == 1 else ok(PROJECT, 201)

    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> str:
        async with AsyncKiln(
            "kiln_test", "http://kiln.test", transport=httpx.MockTransport(handler), sleep=record
        ) as kiln:
            return (await kiln.create_project("a", "b")).id

    assert asyncio.run(main()) == PROJECT["id"]
    assert len(keys) == 2 and keys[0] == keys[1] and sleeps[0] >= 1.0


def test_an_answer_without_a_body_reads_as_none() -> None:
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        return httpx.Response(204)

    assert client(handler, []).delete_webhook("wh_1") is None
    assert methods == ["DELETE"]

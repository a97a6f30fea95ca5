"""The limits off the critical path: the key's window and the workspace's day checked at once,
a read-only GET's handler run while they are, and a write that reads first (DELETE of a
project) reading while they are and writing only once they admitted it, without admitting
anything the sequential checks would refuse. (The limits themselves: test_limits.py.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from kiln import services
from kiln.adapters.dynamodb.limits import LimitStore
from kiln.domain.projects import PageRequest, Project, ProjectCreate, ProjectListFilter, ProjectStatus
from kiln.envelope import ErrorCode, KilnError
from kiln.handlers import projects_archive
from kiln.http import limits
from kiln.http.api import dispatch
from kiln.http.limits import READ_ONLY_GRANTS, Limiter, overlaps
from kiln.http.response import Response, ok
from kiln.routes import ROUTES
from tests.unit.conftest import TABLE, parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp()
FREE = principal_context(tier="free")
WORKSPACE, KEY = FREE["workspaceId"], FREE["keyId"]
DAY = ("USAGE#" + WORKSPACE, "DAY#2025-03-01")
PATIENCE = 10  # seconds a test waits for the other side before calling it sequential


class Store(LimitStore):
    """The real store; `before` runs ahead of each conditional write, on the limiter's thread."""

    def __init__(self) -> None:
        self.before = lambda: None

    def _update(self, *args: Any, **kwargs: Any) -> Any:
        self.before()
        return super()._update(*args, **kwargs)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    instance = Store()
    limiter = Limiter(instance, lambda: NOON)
    monkeypatch.setattr(limits, "limiter", lambda: limiter)
    return instance


def counter(pk: str, sk: str, name: str) -> int:
    key = {"pk": {"S": pk}, "sk": {"S": sk}}
    item = boto3.client("dynamodb").get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item") or {}
    return int(item.get(name, {}).get("N", 0))


def seed_day(n: int) -> None:
    boto3.client("dynamodb").put_item(
        TableName=TABLE, Item={"pk": {"S": DAY[0]}, "sk": {"S": DAY[1]}, "n": {"N": str(n)}}
    )


def get(handler: Any) -> dict[str, Any]:
    return dispatch(handler, proxy_event("GET", "/v1/projects", authorizer=FREE))


def post(handler: Any) -> dict[str, Any]:
    event = proxy_event("POST", "/v1/projects", body={"name": "x", "description": "y"}, authorizer=FREE)
    return dispatch(handler, event)


def test_the_window_and_the_day_are_checked_at_once(store: Store):
    # Each check waits at the barrier for the other: checked one after the other, the first
    # would wait alone, break the barrier and fail closed (503).
    barrier = threading.Barrier(2, timeout=PATIENCE)
    store.before = barrier.wait
    response = post(lambda request: ok({}, 201))
    assert response["statusCode"] == 201, response["body"]
    assert response["headers"]["RateLimit"] == '"write";r=19;t=63, "day";r=999;t=43200'


def test_a_read_only_handler_runs_while_its_limits_are_checked(store: Store):
    handler_started, checks_started = threading.Event(), threading.Event()

    def check_once_the_handler_runs() -> None:
        checks_started.set()
        handler_started.wait(PATIENCE)

    def handler(request: Any) -> Response:
        handler_started.set()
        checks_started.wait(PATIENCE)
        return ok({"read": True})

    store.before = check_once_the_handler_runs
    response = get(handler)
    assert handler_started.is_set() and checks_started.is_set()
    assert response["statusCode"] == 200 and response["headers"]["X-RateLimit-Limit"] == "60"
    assert counter(f"RATE#{KEY}", "read", "cur") == 1 and counter(*DAY, "n") == 1


def test_a_write_waits_for_both_checks_before_its_handler(store: Store):
    seen: list[tuple[int, int]] = []

    def handler(request: Any) -> Response:
        seen.append((counter(f"RATE#{KEY}", "write", "cur"), counter(*DAY, "n")))
        return ok({}, 201)

    assert post(handler)["statusCode"] == 201
    assert seen == [(1, 1)]  # both units were taken before the handler ran


def test_a_refused_read_answers_429_whatever_its_handler_answered(store: Store):
    seed_day(1000)
    answered: list[bool] = []

    def handler(request: Any) -> Response:
        answered.append(True)
        return ok({"secret": "never shown"})

    response = get(handler)
    status, body = parse(response)
    assert status == 429 and body["error"]["code"] == "USAGE_LIMIT_EXCEEDED"
    assert "never shown" not in response["body"] and response["headers"]["Retry-After"] == "43200"
    # The window's unit went back: a refused request counts nowhere.
    assert counter(f"RATE#{KEY}", "read", "cur") == 0 and counter(*DAY, "n") == 1000


def fill_write_window() -> None:
    """The key's write window of this minute already at the test tier's limit."""
    boto3.client("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"RATE#{KEY}"},
            "sk": {"S": "write"},
            "win": {"N": str(int(NOON))},
            "cur": {"N": "20"},
            "prev": {"N": "0"},
        },
    )


def test_a_refused_window_gives_back_the_day_it_took_meanwhile(store: Store):
    fill_write_window()
    seed_day(5)
    calls: list[bool] = []
    response = post(lambda request: calls.append(True) or ok({}, 201))
    status, body = parse(response)
    assert status == 429 and body["error"]["details"]["policy"] == "write"
    assert calls == [] and counter(*DAY, "n") == 5
    # As when checked in order: only the refusing policy is reported.
    assert response["headers"]["RateLimit-Policy"] == '"write";q=20;w=60'


def test_an_unreachable_day_fails_closed_and_gives_back_the_window(store: Store):
    def throttle_the_day(*args: Any, **kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}}, "UpdateItem")

    store.count_in_period = throttle_the_day  # type: ignore[method-assign]
    calls: list[bool] = []
    for send in (get, post):
        response = send(lambda request: calls.append(True) or ok({}, 201))
        assert parse(response)[0] == 503 and response["headers"]["Retry-After"] == "1"
    assert calls == [True]  # only the read ran, and its answer was replaced
    assert counter(f"RATE#{KEY}", "read", "cur") == 0 and counter(f"RATE#{KEY}", "write", "cur") == 0


def test_only_read_only_gets_overlap():
    overlapping = [route for route in ROUTES if overlaps(route)]
    assert {route.handler for route in overlapping} >= {"projects_get", "projects_list", "specs_get"}
    for route in overlapping:
        assert route.method == "GET" and set(route.grants) <= READ_ONLY_GRANTS, route.path
    for route in ROUTES:
        if route.method != "GET" or any(grant not in READ_ONLY_GRANTS for grant in route.grants):
            assert not overlaps(route), route.path
    # A refused client of the event stream must not wait out its long poll for the 429.
    assert not any(route.handler == "events_stream" for route in overlapping)


# --- a write that reads first: DELETE /v1/projects/{projectId} ---------------------------------


@contextmanager
def aws_calls() -> Iterator[list[tuple[str, str]]]:
    """(operation, sort key or "") of every DynamoDB call made in the block, on any thread, as issued."""
    calls: list[tuple[str, str]] = []
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def spy(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            calls.append((operation, params.get("Key", {}).get("sk", {}).get("S", "")))
        return original(self, operation, params)

    BaseClient._make_api_call = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def draft() -> Project:
    return services.current().projects.create(WORKSPACE, ProjectCreate(name="Kept", description="Not archived."))


def delete(project: Project, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = proxy_event(
        "DELETE",
        "/v1/projects/{projectId}",
        f"/v1/projects/{project.id}",
        path_params={"projectId": project.id},
        headers=headers,
        authorizer=FREE,
    )
    return projects_archive.handler(event, None)


def stored_status(project: Project) -> ProjectStatus:
    return services.current().projects.get(WORKSPACE, project.id).status


def test_a_delete_reads_while_its_limits_are_checked_and_writes_after(store: Store):
    project = draft()
    read, at_write = threading.Event(), []
    read_during_checks: list[bool] = []

    def check_once_the_project_is_read() -> None:
        # Checked before the handler started, the read would not come: False after PATIENCE.
        read_during_checks.append(read.wait(PATIENCE))

    store.before = check_once_the_project_is_read
    original = BaseClient._make_api_call

    def spy(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if operation == "GetItem" and params["Key"]["sk"]["S"] == f"PROJECT#{project.id}":
            read.set()
        if operation == "TransactWriteItems":
            at_write.append((counter(f"RATE#{KEY}", "write", "cur"), counter(*DAY, "n")))
        return original(self, operation, params)

    BaseClient._make_api_call = spy  # type: ignore[method-assign]
    try:
        response = delete(project)
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
    status, body = parse(response)
    assert status == 200 and body["data"]["status"] == "archived", body
    assert read_during_checks == [True, True] and at_write == [(1, 1)]  # both units taken before the write
    assert response["headers"]["RateLimit"] == '"write";r=19;t=63, "day";r=999;t=43200'
    assert stored_status(project) is ProjectStatus.ARCHIVED


@pytest.mark.parametrize("over", ["day", "window"])
def test_a_delete_over_its_limit_writes_nothing(store: Store, over: str):
    project = draft()
    if over == "day":
        seed_day(1000)
    else:
        fill_write_window()
    with aws_calls() as calls:
        response = delete(project)
    status, body = parse(response)
    assert status == 429, body
    assert body["error"]["details"]["policy"] == ("day" if over == "day" else "write")
    assert "archived" not in response["body"] and int(response["headers"]["Retry-After"]) >= 1
    # The project was read, and nothing but the limiter's own counters was written.
    assert ("GetItem", f"PROJECT#{project.id}") in calls
    writes = [call for call in calls if call[0] not in ("GetItem", "Query")]
    assert all(operation == "UpdateItem" and sk in ("write", DAY[1]) for operation, sk in writes), writes
    assert stored_status(project) is ProjectStatus.DRAFT
    assert services.current().projects.list_page(WORKSPACE, ProjectListFilter(), PageRequest(1, 5)).total == 1
    # A refused request counts nowhere, as when the checks came first.
    assert counter(*DAY, "n") == (1000 if over == "day" else 0)
    assert counter(f"RATE#{KEY}", "write", "cur") == (0 if over == "day" else 20)


def test_a_delete_with_an_idempotency_key_waits_for_its_limits_first(store: Store):
    # The key's record is written before the handler runs, so nothing may start before the checks.
    project = draft()
    with aws_calls() as calls:
        response = delete(project, headers={"Idempotency-Key": "archive-once"})
    assert parse(response)[0] == 200
    limit_checks = [i for i, (operation, sk) in enumerate(calls) if sk in ("write", DAY[1])]
    assert len(limit_checks) == 2 and max(limit_checks) < 2  # the first two calls, before any other
    assert stored_status(project) is ProjectStatus.ARCHIVED


def test_archiving_again_answers_from_its_read():
    project = draft()
    assert parse(delete(project))[0] == 200
    with aws_calls() as calls:
        status, body = parse(delete(project))
    assert status == 200 and body["data"]["id"] == project.id and body["data"]["status"] == "archived"
    # The read that found it archived is the answer: no second read, no write.
    assert [call for call in calls if call[0] != "UpdateItem"] == [("GetItem", f"PROJECT#{project.id}")]


def test_a_lone_check_with_nothing_to_overlap_runs_on_the_requests_thread(store: Store):
    # Enterprise has no daily quota, and a write waits for its window: handing the window to
    # another thread would only add a thread switch to the request.
    threads: list[threading.Thread] = []
    store.before = lambda: threads.append(threading.current_thread())
    authorizer = principal_context(tier="enterprise")
    event = proxy_event("POST", "/v1/projects", body={"name": "x", "description": "y"}, authorizer=authorizer)
    response = dispatch(lambda request: ok({}, 201), event)
    assert response["statusCode"] == 201 and response["headers"]["RateLimit"].startswith('"write";r=2999;')
    assert threads == [threading.current_thread()]
    assert counter(f"RATE#{authorizer['keyId']}", "write", "cur") == 1


def test_a_refused_window_cancels_a_day_check_no_thread_has_started(store: Store):
    # The window is refused while the day check still waits for a thread: as when checked in
    # order, the day is never counted, not counted and given back.
    fill_write_window()
    seed_day(5)
    with aws_calls() as calls:
        limiter = limits.limiter()
        day = limits._Task(lambda taken: pytest.fail("the day check ran"))
        window = limits._Task(lambda taken: limiter._window(KEY, "write", 20, NOON, taken))
        with pytest.raises(KilnError) as refused:
            limiter.settle(NOON, window, day)
    assert refused.value.code is ErrorCode.RATE_LIMIT_EXCEEDED
    assert counter(*DAY, "n") == 5 and not any(sk == DAY[1] for _, sk in calls)

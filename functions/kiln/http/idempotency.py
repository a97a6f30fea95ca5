"""Idempotency-Key on POST, PATCH and DELETE (CONTRACT: Idempotency), on Powertools idempotency.

A request with the header runs its handler at most once per (workspace, key id, method, route
with its path parameters, Idempotency-Key) for 24 hours. The record lives in Kiln's table:

    pk=IDEMPOTENCY#<handler>  sk=REQUEST#<sha256 of the scope>
       idempotencyStatus, requestHash (sha256 of the body and query), response, expiresAtEpoch,
       inProgressExpiresAtMs

Powertools writes the INPROGRESS record with a condition (one PutItem), runs the handler and
stores its response (one UpdateItem). A second request with the same scope gets:

- the stored status, headers and body, plus `Idempotent-Replayed: true`;
- 422 IDEMPOTENCY_KEY_REUSED when its body or query differ from the first one's;
- 409 IDEMPOTENCY_KEY_IN_USE (Retry-After) while the first is still running. The in-progress
  record expires with the function's timeout (the Lambda context is registered), so a
  request killed by the timeout does not hold its key for 24 hours.

Each route's `replay` says what is kept: everything, everything but a new key's one-time
secret (a replay shows the key with `secret: null`), or nothing (uploads: a replay would
hand out credentials that expired).
What is recorded: every 2xx and 3xx, and the outcomes of a request the endpoint decided on,
404 and 409. Not recorded (the record is deleted, so a retry with the same key runs again):
validation failures (400, 413, 415, 422), 429s (nothing happened; retry later) and 5xx
(transient or a bug), as well as a response too large to store.

Powertools is imported on the first request that carries the header, never on a cold start
without one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kiln import config
from kiln.envelope import ErrorCode, KilnError, validation_error

if TYPE_CHECKING:
    from kiln.http.request import Request

logger = logging.getLogger("kiln")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
TTL_SECONDS = 24 * 3600
RECORDED_ERROR_STATUSES = frozenset({404, 409})
# DynamoDB items are at most 400 KB; a larger response is answered but not recorded.
MAX_RECORDED_BYTES = 350_000
IN_FLIGHT_RETRY_SECONDS = 1
# When no Lambda context is given (direct calls in tests), the in-progress record still expires.
DEFAULT_TIMEOUT_SECONDS = 28  # infra: settings.api_timeout_seconds

Proxy = dict[str, Any]


def key_of(request: Request) -> str | None:
    """The request's Idempotency-Key, or None when it has none (or its method ignores it).

    1 to 255 printable ASCII characters; the value may be sent as a structured-field string
    (in double quotes) or bare. Anything else is a 400 VALIDATION_ERROR.
    """
    if request.route.method not in METHODS or request.principal is None:
        return None
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    value = raw.strip()
    quoted = len(value) >= 2 and value[0] == value[-1] == '"'
    if quoted:
        value = value[1:-1]
    if (
        not 1 <= len(value) <= MAX_KEY_LENGTH
        or not all(" " <= c <= "~" for c in value)
        or (not quoted and value.startswith('"'))
    ):
        raise validation_error(
            [
                {
                    "field": HEADER,
                    "location": "header",
                    "type": "idempotency_key",
                    "message": f"1 to {MAX_KEY_LENGTH} printable ASCII characters, quoted or bare",
                }
            ]
        )
    return value


def fingerprint(request: Request, key: str) -> dict[str, Any]:
    """What identifies the request (`scope`) and what a replay must repeat (`request`)."""
    assert request.principal is not None
    multi = request.event.get("multiValueQueryStringParameters") or {
        name: [value] for name, value in (request.event.get("queryStringParameters") or {}).items()
    }
    query = sorted([name, value] for name, values in multi.items() for value in values or [])
    return {
        "scope": {
            "workspaceId": request.principal.workspace_id,
            "keyId": request.principal.key_id,
            "method": request.route.method,
            "route": request.route.path,
            "pathParameters": dict(sorted(request.path_params.items())),
            "idempotencyKey": key,
        },
        "request": {"body": hashlib.sha256(request.raw_body()).hexdigest(), "query": query},
    }


def run(request: Request, key: str, execute: Callable[[], Proxy], context: Any = None) -> Proxy:
    """`execute()` (the handler, as a proxy response) at most once for this key; or its replay."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    call, idempotency_config = _idempotent(request.route.name, config.table_name(), _dynamodb())
    idempotency_config.register_lambda_context(context if _has_deadline(context) else _Deadline())
    outcome: dict[str, Proxy] = {}

    replay = request.route.replay

    def once() -> Proxy:
        proxy = execute()
        outcome["proxy"] = proxy
        if replay == "none" or not _recorded(proxy):
            raise _NotRecorded
        stored = _stored(proxy)
        return _without_secret(stored) if replay == "without-secret" else stored

    try:
        result = call(once, fingerprint=fingerprint(request, key))
    except _NotRecorded:
        return outcome["proxy"]
    except IdempotencyAlreadyInProgressError:
        raise KilnError(
            ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            "A request with this Idempotency-Key is still in flight; retry shortly.",
            {"retryAfterSeconds": IN_FLIGHT_RETRY_SECONDS},
            headers={"Retry-After": str(IN_FLIGHT_RETRY_SECONDS)},
        ) from None
    except IdempotencyInconsistentStateError:
        # The record changed under Powertools' feet three times running: it is being contended.
        raise KilnError(
            ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            details={"retryAfterSeconds": IN_FLIGHT_RETRY_SECONDS},
            headers={"Retry-After": str(IN_FLIGHT_RETRY_SECONDS)},
        ) from None
    except IdempotencyValidationError:
        raise KilnError(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            "This Idempotency-Key was used with a different request body or query.",
            {"header": HEADER},
        ) from None
    except IdempotencyPersistenceLayerError as error:
        if "proxy" in outcome:
            # The handler ran; only storing its outcome failed. Answer it: the record stays
            # in progress until the function's timeout, then the key is free again.
            logger.error("could not record an idempotent response: %s", error)
            return outcome["proxy"]
        logger.warning("idempotency store unavailable, failing closed: %s", error)
        raise KilnError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The idempotency store is unavailable; retry later.",
            {"retryAfterSeconds": 1},
            headers={"Retry-After": "1"},
        ) from None
    if isinstance(result, _Replay):
        replayed = dict(result.response)
        replayed["headers"] = {
            "X-Request-Id": request.request_id,
            **(replayed.get("headers") or {}),
            REPLAYED_HEADER: "true",
        }
        return replayed
    return outcome["proxy"]


def _recorded(proxy: Proxy) -> bool:
    status = proxy["statusCode"]
    if status >= 400 and status not in RECORDED_ERROR_STATUSES:
        return False
    if len(proxy.get("body") or "") > MAX_RECORDED_BYTES:
        logger.warning("response too large to record for its Idempotency-Key", extra={"status": status})
        return False
    return True


def _stored(proxy: Proxy) -> Proxy:
    """The response as recorded: without the first request's own id (a replay gets its own)."""
    headers = {k: v for k, v in (proxy.get("headers") or {}).items() if k.lower() != "x-request-id"}
    return {
        "statusCode": proxy["statusCode"],
        "headers": headers,
        "body": proxy.get("body") or "",
        "isBase64Encoded": bool(proxy.get("isBase64Encoded")),
    }


def _without_secret(proxy: Proxy) -> Proxy:
    """A key's secret is shown once and never stored: the record keeps the rest, so a replay
    answers the key without `secret` (the documented ApiKeyWithSecret with its optional
    property absent; `Idempotent-Replayed: true` says why)."""
    try:
        body = json.loads(proxy.get("body") or "")
    except ValueError:
        return proxy
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and "secret" in data:
        del data["secret"]
        return {**proxy, "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False)}
    return proxy


class _NotRecorded(Exception):
    """Raised inside the idempotent call so Powertools deletes the record instead of storing it."""


class _Replay:
    def __init__(self, response: Proxy) -> None:
        self.response = response


def _replayed(response: Any, idempotent_data: Any) -> Any:
    """Powertools' response hook: called only when the answer comes from a stored record."""
    return _Replay(response)


class _Deadline:
    """The part of a Lambda context Powertools reads, for calls made without one."""

    def __init__(self, seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _has_deadline(context: Any) -> bool:
    return callable(getattr(context, "get_remaining_time_in_millis", None))


def _dynamodb() -> Any:
    from kiln.adapters.aws import client

    return client("dynamodb")


@lru_cache(maxsize=64)
def _idempotent(handler: str, table_name: str, dynamodb: Any) -> tuple[Callable[..., Any], Any]:
    """The idempotent wrapper of one route's function, built once per container (and client)."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from kiln.adapters.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

    store = DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr=PARTITION_KEY,
        sort_key_attr=SORT_KEY,
        static_pk_value=f"IDEMPOTENCY#{handler}",
        expiry_attr=TTL_ATTRIBUTE,
        in_progress_expiry_attr="inProgressExpiresAtMs",
        status_attr="idempotencyStatus",
        data_attr="response",
        validation_key_attr="requestHash",
        boto3_client=dynamodb,
    )
    idempotency_config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=TTL_SECONDS,
        hash_function="sha256",
        response_hook=_replayed,
    )

    @idempotent_function(
        data_keyword_argument="fingerprint", persistence_store=store, config=idempotency_config, key_prefix="REQUEST"
    )
    def call(once: Callable[[], Proxy], *, fingerprint: dict[str, Any]) -> Proxy:
        return once()

    return call, idempotency_config

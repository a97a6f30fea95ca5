"""Rate-limit and quota counters in the single table: each check is one conditional UpdateItem.

    sliding window  pk=RATE#<keyId>         sk=<category>          win, cur, prev, expiresAtEpoch
    fixed period    pk=USAGE#<workspaceId>  sk=<name>#<period>     n, expiresAtEpoch
                    (DAY#2025-01-31 for the daily request quota, BUILDS#2025 / EXPORTS#2025)

A sliding window keeps both of its fixed windows in one item: `win` is the start (epoch
seconds) of the window `cur` counts, `prev` the count of the window before it. Every write
states in its condition exactly what it assumed about the item (which window, which `prev`,
how many `cur` at most), so the check and the increment are one atomic step; when an
assumption was wrong the failed write returns the item as it is (ReturnValuesOnCondition-
CheckFailure), and the caller decides again from that, without a read.

A fixed period is a plain counter under a key that names the period, so a new day or year
starts from zero without any roll-over logic; TTL removes the old ones. This module does no
arithmetic on time: the policy (kiln.http.limits) computes the bounds it passes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.adapters.dynamodb.items import condition_failed, table
from kiln.adapters.schema import TTL_ATTRIBUTE


# Keys written out as DynamoDB's JSON rather than through `to_item`: they are strings, and
# every metered request builds two of them.
def window_key(key_id: str, category: str) -> dict[str, Any]:
    return {"pk": {"S": f"RATE#{key_id}"}, "sk": {"S": category}}


def period_key(workspace_id: str, name: str, period: str) -> dict[str, Any]:
    return {"pk": {"S": f"USAGE#{workspace_id}"}, "sk": {"S": f"{name.upper()}#{period}"}}


@dataclass(frozen=True)
class WindowState:
    start: int  # epoch seconds at which the window `current` counts began
    current: int
    previous: int  # the count of the window that ended at `start`


@dataclass(frozen=True)
class WindowWrite:
    """The outcome of a conditional window write: the item after it, or as it was when refused."""

    accepted: bool
    state: WindowState | None  # None: the item does not exist


def _state(item: dict[str, Any] | None) -> WindowState | None:
    if not item or "win" not in item:
        return None
    return WindowState(
        int(item["win"]["N"]), int(item.get("cur", {}).get("N", 0)), int(item.get("prev", {}).get("N", 0))
    )


def _number(value: int) -> dict[str, str]:
    return {"N": str(value)}


class LimitStore:
    """The counters; every method is one DynamoDB call (GetItem only in `read_window`).

    The limiter calls them from its own threads (kiln.http.limits): one boto3 client is safe
    to share between threads, but building it is not, so the limiter calls `connect` first,
    on the request's thread.
    """

    def connect(self) -> None:
        client("dynamodb")

    def _update(
        self, key: dict[str, Any], expression: str, condition: str, values: dict[str, Any]
    ) -> tuple[bool, dict[str, Any] | None]:
        names = {"ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE}} if "#ttl" in expression else {}
        try:
            response = client("dynamodb").update_item(
                TableName=table(),
                Key=key,
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **names,
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            return False, error.response.get("Item")
        return True, response.get("Attributes")

    # --- sliding windows ------------------------------------------------------------------

    def count_in_window(
        self, key_id: str, category: str, *, start: int, previous: int, max_current: int, expires_at: int
    ) -> WindowWrite:
        """+1 in window `start`, if the item is in that window with `previous` and at most `max_current`."""
        ok, item = self._update(
            window_key(key_id, category),
            "ADD cur :one SET #ttl = :ttl",
            "win = :start AND prev = :prev AND cur <= :max",
            {
                ":one": _number(1),
                ":ttl": _number(expires_at),
                ":start": _number(start),
                ":prev": _number(previous),
                ":max": _number(max_current),
            },
        )
        return WindowWrite(ok, _state(item))

    def roll_window(
        self, key_id: str, category: str, *, start: int, prior_start: int, max_prior: int, expires_at: int
    ) -> WindowWrite:
        """Move the item from window `prior_start` to `start` (prev = cur, cur = 1) if cur <= max_prior."""
        ok, item = self._update(
            window_key(key_id, category),
            "SET prev = cur, cur = :one, win = :start, #ttl = :ttl",
            "win = :prior AND cur <= :max",
            {
                ":one": _number(1),
                ":ttl": _number(expires_at),
                ":start": _number(start),
                ":prior": _number(prior_start),
                ":max": _number(max_prior),
            },
        )
        return WindowWrite(ok, _state(item))

    def start_window(self, key_id: str, category: str, *, start: int, prior_start: int, expires_at: int) -> WindowWrite:
        """Begin window `start` at 1 with nothing before it, if the item is absent or older than `prior_start`."""
        ok, item = self._update(
            window_key(key_id, category),
            "SET prev = :zero, cur = :one, win = :start, #ttl = :ttl",
            "attribute_not_exists(win) OR win < :prior",
            {
                ":zero": _number(0),
                ":one": _number(1),
                ":ttl": _number(expires_at),
                ":start": _number(start),
                ":prior": _number(prior_start),
            },
        )
        return WindowWrite(ok, _state(item))

    def read_window(self, key_id: str, category: str) -> WindowState | None:
        response = client("dynamodb").get_item(TableName=table(), Key=window_key(key_id, category), ConsistentRead=True)
        return _state(response.get("Item"))

    def uncount_in_window(self, key_id: str, category: str, *, start: int) -> bool:
        """-1 in window `start` (a request another check refused); False when the window moved on."""
        ok, _ = self._update(
            window_key(key_id, category),
            "ADD cur :minus",
            "win = :start AND cur > :zero",
            {":minus": _number(-1), ":start": _number(start), ":zero": _number(0)},
        )
        return ok

    # --- fixed periods --------------------------------------------------------------------

    def count_in_period(
        self, workspace_id: str, name: str, period: str, *, limit: int, expires_at: int
    ) -> tuple[bool, int]:
        """+1 on the period's counter if it is below `limit`: (accepted, the count after / as found)."""
        ok, item = self._update(
            period_key(workspace_id, name, period),
            "ADD n :one SET #ttl = :ttl",
            "attribute_not_exists(n) OR n < :limit",
            {":one": _number(1), ":ttl": _number(expires_at), ":limit": _number(limit)},
        )
        return ok, int((item or {}).get("n", {}).get("N", 0))

    def uncount_in_period(self, workspace_id: str, name: str, period: str) -> bool:
        """-1 on the period's counter (a refund); never below zero."""
        ok, _ = self._update(
            period_key(workspace_id, name, period),
            "ADD n :minus",
            "n > :zero",
            {":minus": _number(-1), ":zero": _number(0)},
        )
        return ok

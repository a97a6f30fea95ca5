"""The authoritative limits of CONTRACT section 4, checked in the request path.

API Gateway usage plans are best-effort, so what a tier allows is decided here, on DynamoDB
counters (kiln.adapters.dynamodb.limits), each check one conditional UpdateItem:

1. the calling key's sliding window for the route's category (read / write / ai per minute),
   the classic two-window counter: count = previous * (share of the previous window still
   inside the last 60 s) + current;
2. the workspace's daily request quota (UTC day; the tier's `requests_per_day`);
3. on routes with a `quota`, the workspace's annual builds or exports (UTC year), reserved
   just before the handler runs and refunded unless the handler answers 2xx, so only calls
   that start a build or an export count (`reserve`).

Checks run in that order and stop at the first refusal; a refusal never consumes a counter
(the units an earlier check took are given back, one extra write on that rare path). Every
authenticated response carries the meters (`Usage.headers`); every 429 carries Retry-After,
the whole seconds until the refusing policy really admits a request again. A counter that
cannot be reached fails closed: 503 with Retry-After, never an unmetered request.

Off the critical path. Checks 1 and 2 are independent conditional writes on different items,
so `begin` issues them at once on the limiter's threads: one network round trip for both, not
two (kiln.overlap: a check that no thread has started by the time the request needs its
answer runs on the request's thread instead; where there is no wait to share, a handoff is
pure cost). The pipeline (kiln.http.api) then waits for their answer before a route's handler runs,
except on a route that `overlaps`: a GET whose function's IAM role can only read (every grant
in READ_ONLY_GRANTS). Such a handler runs while the checks are in flight, so its own read and
the checks share one round trip, and its answer is thrown away for the 429 or 503 if the
checks refuse. That is safe because the handler cannot change anything (its role has no
write permission, so even a mistaken write would be denied by IAM, not just by convention),
and a refused request still changes no counter; what a refusal costs is the wasted read.
A write whose handler declares a read phase (`endpoint(..., reads_first=True)`: archiving a
project, which must read it before its transaction) runs that read while the checks are in
flight too, and then waits for them before it writes: the pipeline hands it
`request.admitted`, which blocks until the checks answer and raises their 429 or 503, and the
handler calls it between its read and its write. So its read shares the checks' round trip
and a write still never happens for a request over its limit; a refused request costs the
read. Not with an Idempotency-Key (the key's record is written before the handler runs) nor
on a quota route (check 3 writes before the handler too): those wait for the checks first.
Every other route (any other write, and the long-polling event stream, whose refusal must not
wait for the poll to end) runs its handler only after both checks have admitted it, so a write
never happens for a request over its limit. Check 3 runs after the key and day checks, as
before: only the quota routes (builds, exports) pay its round trip.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from kiln import overlap as pool
from kiln.envelope import ErrorCode, KilnError
from kiln.tiers import TIERS, Tier

if TYPE_CHECKING:
    from kiln.adapters.dynamodb.limits import LimitStore, WindowState
    from kiln.http.request import Request
    from kiln.routes import Route

logger = logging.getLogger("kiln")

WINDOW_SECONDS = 60  # the per-key category windows are per minute
DAY_SECONDS = 86_400
_ATTEMPTS = 4  # conditional writes per window check before giving up on contention (503)
_CACHE_SIZE = 4_096  # (key, category) window states remembered per container

# Grants that only read (kiln.routes, infra/grants.py): a GET holding nothing else may run its
# handler while its limits are being checked (`overlaps`).
READ_ONLY_GRANTS = frozenset({"table:read", "bucket:read", "cursor-secret:read", "signing-keys:read"})
# Reads that can hold the request open for long (the SSE stream polls up to 20 s): a refused
# client must get its 429 at once, so their checks complete first.
_LONG_READS = frozenset({"events_stream"})

CATEGORY_LIMIT: dict[str, Callable[[Tier], int]] = {
    "read": lambda tier: tier.read_per_minute,
    "write": lambda tier: tier.write_per_minute,
    "ai": lambda tier: tier.ai_per_minute,
}
QUOTA_LIMIT: dict[str, Callable[[Tier], int | None]] = {
    "builds": lambda tier: tier.builds_per_year,
    "exports": lambda tier: tier.exports_per_year,
}


@dataclass(frozen=True)
class Meter:
    """One policy as the response reports it."""

    policy: str  # "read" | "write" | "ai" | "day" | "builds" | "exports"
    limit: int
    window: int  # seconds
    remaining: int
    reset_at: float  # epoch seconds: when the policy next admits a request even if `remaining` is spent now


@dataclass
class Usage:
    """The meters of one request, for its response headers."""

    now: float
    meters: list[Meter] = field(default_factory=list)
    refused: Meter | None = None
    # How to give back the units this request took, should a later check refuse it.
    undo: list[Callable[[], object]] = field(default_factory=list, repr=False)  # results ignored

    def headers(self) -> dict[str, str]:
        if not self.meters:
            return {}
        tightest = self.refused or min(self.meters, key=lambda m: (m.remaining, -m.reset_at))
        return {
            "X-RateLimit-Limit": str(tightest.limit),
            "X-RateLimit-Remaining": str(tightest.remaining),
            "X-RateLimit-Reset": str(math.ceil(tightest.reset_at)),
            # draft-ietf-httpapi-ratelimit-headers: structured-field lists, one item per policy.
            "RateLimit-Policy": ", ".join(f'"{m.policy}";q={m.limit};w={m.window}' for m in self.meters),
            "RateLimit": ", ".join(
                f'"{m.policy}";r={m.remaining};t={_seconds_until(m.reset_at, self.now)}' for m in self.meters
            ),
        }


def _seconds_until(moment: float, now: float) -> int:
    return max(0, math.ceil(moment - now))


def retry_after(moment: float, now: float) -> int:
    """Whole seconds to wait, never 0 and never before `moment`."""
    return max(1, math.ceil(moment - now))


@dataclass
class Reservation:
    """One unit of an annual quota, taken before the handler ran; `refund` gives it back."""

    store: LimitStore
    workspace_id: str
    name: str
    period: str
    refunded: bool = False

    def refund(self) -> None:
        if self.refunded:
            return
        self.refunded = True
        try:
            self.store.uncount_in_period(self.workspace_id, self.name, self.period)
        except Exception:  # the response stands; the unit is lost to the client
            logger.exception("could not refund a quota unit", extra={"quota": self.name})


def tier_of(name: str | None) -> Tier:
    """The tier's limits; an unknown name gets the most restrictive tier."""
    return TIERS.get(name or "", TIERS["free"])


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def day_bounds(now: float) -> tuple[str, float]:
    """The UTC day containing `now` and the epoch second it ends."""
    midnight = _utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.strftime("%Y-%m-%d"), (midnight + timedelta(days=1)).timestamp()


def year_bounds(now: float) -> tuple[str, float, int]:
    """The UTC year containing `now`, the epoch second it ends and its length in seconds."""
    moment = _utc(now)
    start = datetime(moment.year, 1, 1, tzinfo=UTC)
    end = datetime(moment.year + 1, 1, 1, tzinfo=UTC)
    return str(moment.year), end.timestamp(), int((end - start).total_seconds())


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class Refused(Exception):
    """A check refused the request; `meter` is the refusing policy, its reset the reopening."""

    def __init__(self, meter: Meter, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.meter, self.code, self.message = meter, code, message


class Limiter:
    """The checks; one per container (`limiter()`), which remembers window states between calls."""

    def __init__(self, store: LimitStore | None = None, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self.clock = clock
        self._windows: dict[tuple[str, str], WindowState] = {}
        self._lock = threading.Lock()  # the local cloud serves requests on threads of one process

    @property
    def store(self) -> LimitStore:
        # Built on the first metered request: unmetered routes (/, /health, docs) never load
        # the DynamoDB adapter and boto3 through the limiter.
        if self._store is None:
            from kiln.adapters.dynamodb.limits import LimitStore

            self._store = LimitStore()
        return self._store

    # --- the request path -----------------------------------------------------------------

    def admit(self, request: Request) -> Usage | None:
        """Count the request against its key's window and its workspace's day; None when unmetered.

        Raises KilnError: 429 RATE_LIMIT_EXCEEDED or USAGE_LIMIT_EXCEEDED with the meters and
        Retry-After, or 503 when the counters cannot be reached (fail closed).
        """
        admission = self.begin(request)
        return None if admission is None else admission.usage()

    def begin(self, request: Request, overlap: bool | None = None) -> Admission | None:
        """Start the key's window and the workspace's day checks at once; None when unmetered.

        The window check is handed to the pool's threads (kiln.overlap), the day check runs on
        the caller's (nothing else to do while waiting) unless `overlap` (by default
        `overlaps(route)`), when both are handed over so the caller can run the handler meanwhile. A lone check
        with nothing to overlap (a tier without a daily quota, a route that waits) runs on the
        caller's thread: a handoff would only add its cost. `Admission.usage()` waits for both
        and answers exactly as if they had run one after the other: see there.
        """
        route, principal = request.route, request.principal
        if overlap is None:
            overlap = overlaps(route)
        if not route.authorized or principal is None or route.category not in CATEGORY_LIMIT:
            return None
        tier = tier_of(principal.tier)
        now = self.clock()
        # Built on this thread first: creating a boto3 client is not thread-safe, using one is.
        self.store.connect()
        key_id, category, limit = principal.key_id, route.category, CATEGORY_LIMIT[route.category](tier)
        window = _Task(lambda taken: self._window(key_id, category, limit, now, taken))
        day = None
        if tier.requests_per_day is not None:
            workspace_id, per_day = principal.workspace_id, tier.requests_per_day
            day = _Task(lambda taken: self._day(workspace_id, per_day, now, taken))
        if overlap:
            pool.submit(window)
            if day is not None:
                pool.submit(day)
        elif day is None:
            window.run()
        else:
            pool.submit(window)
            day.run()
        return Admission(self, now, window, day)

    def reserve(self, request: Request, usage: Usage | None) -> Reservation | None:
        """Take one unit of the route's annual quota; None when the route or tier has none."""
        route, principal = request.route, request.principal
        if route.quota is None or principal is None or usage is None:
            return None
        limit = QUOTA_LIMIT[route.quota](tier_of(principal.tier))
        if limit is None:
            return None
        now = self.clock()
        period, ends, length = year_bounds(now)
        try:
            accepted, count = self.store.count_in_period(
                principal.workspace_id, route.quota, period, limit=limit, expires_at=int(ends) + 30 * DAY_SECONDS
            )
        except Exception as error:  # noqa: BLE001
            self._give_back(usage)
            raise _unavailable(error) from None
        meter = Meter(route.quota, limit, length, max(0, limit - count), ends)
        if not accepted:
            self._give_back(usage)
            usage.meters.append(meter)
            refusal = Refused(
                meter,
                ErrorCode.USAGE_LIMIT_EXCEEDED,
                f"Usage quota exhausted: {limit} {route.quota} per year for this workspace.",
            )
            raise self._too_many(refusal, usage)
        usage.meters.append(meter)
        return Reservation(self.store, principal.workspace_id, route.quota, period)

    # --- the checks -------------------------------------------------------------------------

    def _window(self, key_id: str, category: str, limit: int, now: float, taken: list[Callable[[], object]]) -> Meter:
        """The two-window sliding counter, one conditional write in the steady state.

        The container remembers the item as the last write returned it. From that it knows
        which write applies (count in the current window, roll the previous one over, or start
        afresh) and the bound that makes the write succeed only if the request fits. When the
        memory was stale the write fails and returns the item as it is, and the next attempt is
        decided on that; a refusal is only ever decided on such a fresh state, so Retry-After
        is computed from the real counts.
        """
        w_ms = WINDOW_SECONDS * 1000
        now_ms = int(now * 1000)
        start = now_ms // w_ms * WINDOW_SECONDS
        cache_key = (key_id, category)
        with self._lock:
            state = self._windows.get(cache_key)
        fresh = False
        for _ in range(_ATTEMPTS):
            if state is not None and state.start > start:
                # The item is in a later window: another container's clock is ahead. Join it.
                start, now_ms = state.start, max(now_ms, state.start * 1000)
            elapsed = now_ms - start * 1000
            previous, current = _aged(state, start)
            max_current = limit - 1 - _ceil_div(previous * (w_ms - elapsed), w_ms)
            if current > max_current:
                if not fresh:
                    state, fresh = self.store.read_window(key_id, category), True
                    continue
                reopen = _reopen_ms(previous, current, start * 1000, w_ms, limit, now_ms)
                meter = Meter(category, limit, WINDOW_SECONDS, 0, reopen / 1000)
                raise Refused(
                    meter,
                    ErrorCode.RATE_LIMIT_EXCEEDED,
                    f"Rate limit exceeded: {limit} {category} requests per minute for this key.",
                )
            expires_at = start + 3 * WINDOW_SECONDS
            if state is None or state.start < start - WINDOW_SECONDS:
                write = self.store.start_window(
                    key_id, category, start=start, prior_start=start - WINDOW_SECONDS, expires_at=expires_at
                )
            elif state.start < start:
                max_prior = (limit - 1) * w_ms // (w_ms - elapsed)
                write = self.store.roll_window(
                    key_id, category, start=start, prior_start=state.start, max_prior=max_prior, expires_at=expires_at
                )
            else:
                write = self.store.count_in_window(
                    key_id,
                    category,
                    start=start,
                    previous=state.previous,
                    max_current=max_current,
                    expires_at=expires_at,
                )
            state, fresh = write.state, True
            if write.accepted and state is not None:
                self._remember(cache_key, state)
                taken.append(functools.partial(self.store.uncount_in_window, key_id, category, start=state.start))
                previous, current = state.previous, state.current
                remaining = max(0, limit - _ceil_div(previous * (w_ms - elapsed), w_ms) - current)
                reopen = _reopen_ms(previous, current + remaining, start * 1000, w_ms, limit, now_ms)
                return Meter(category, limit, WINDOW_SECONDS, remaining, reopen / 1000)
        raise RuntimeError(f"the {category} window of a key stayed contended for {_ATTEMPTS} writes")

    def _day(self, workspace_id: str, limit: int, now: float, taken: list[Callable[[], object]]) -> Meter:
        day, ends = day_bounds(now)
        accepted, count = self.store.count_in_period(
            workspace_id, "day", day, limit=limit, expires_at=int(ends) + DAY_SECONDS
        )
        meter = Meter("day", limit, DAY_SECONDS, max(0, limit - count), ends)
        if not accepted:
            raise Refused(
                meter,
                ErrorCode.USAGE_LIMIT_EXCEEDED,
                f"Usage quota exhausted: {limit} requests per day for this workspace.",
            )
        taken.append(lambda: self.store.uncount_in_period(workspace_id, "day", day))
        return meter

    def settle(self, now: float, window_check: _Task, day_check: _Task | None) -> Usage:
        """A request's meters, or its refusal, exactly as checking the window then the day would answer.

        Sequentially a refused window stops before the day check; here the day check may have
        counted meanwhile, so its unit is given back and its meter left out. A refused or
        unreachable day gives back the window's unit, as before.
        """
        usage = Usage(now)
        try:
            window = window_check.result()
        except Exception as error:  # noqa: BLE001 - a refusal, or the counters failing closed
            if day_check is not None and not day_check.cancel():
                # It started meanwhile: wait for it and give back what it took (nothing when
                # it did not count). Cancelled before it started, it took nothing.
                day_check.wait()
                self._give_back(Usage(now, undo=day_check.taken))
            if isinstance(error, Refused):
                usage.meters.append(error.meter)
                raise self._too_many(error, usage) from None
            raise _unavailable(error) from None
        usage.meters.append(window)
        usage.undo.extend(window_check.taken)
        if day_check is not None:
            try:
                usage.meters.append(day_check.result())
                usage.undo.extend(day_check.taken)
            except Refused as refusal:
                self._give_back(usage)
                usage.meters.append(refusal.meter)
                raise self._too_many(refusal, usage) from None
            except Exception as error:  # noqa: BLE001
                self._give_back(usage)
                raise _unavailable(error) from None
        return usage

    # --- helpers --------------------------------------------------------------------------

    def _remember(self, cache_key: tuple[str, str], state: WindowState) -> None:
        with self._lock:
            self._windows.pop(cache_key, None)
            self._windows[cache_key] = state
            if len(self._windows) > _CACHE_SIZE:
                self._windows.pop(next(iter(self._windows)))

    def _give_back(self, usage: Usage) -> None:
        """Return the units earlier checks took for a request a later check refused."""
        taken, usage.undo = usage.undo, []
        for undo in taken:
            try:
                undo()
            except Exception:  # the refusal stands; at worst one unit stays counted
                logger.warning("could not give back a rate-limit unit", exc_info=True)
        usage.meters = [_given_back(m) for m in usage.meters]

    def _too_many(self, refusal: Refused, usage: Usage) -> KilnError:
        meter = refusal.meter
        usage.refused = meter
        seconds = retry_after(meter.reset_at, usage.now)
        return KilnError(
            refusal.code,
            refusal.message,
            {"policy": meter.policy, "limit": meter.limit, "window": meter.window, "retryAfterSeconds": seconds},
            headers={**usage.headers(), "Retry-After": str(seconds)},
        )


def overlaps(route: Route) -> bool:
    """Whether the route's handler may run while its limits are checked (see the module's notes)."""
    return (
        route.method == "GET" and route.handler not in _LONG_READS and all(g in READ_ONLY_GRANTS for g in route.grants)
    )


def may_read_first(route: Route) -> bool:
    """Whether a handler declaring a read phase may run it while the route's limits are checked:
    not on a quota route, whose annual quota is taken (written) before its handler runs."""
    return route.quota is None


class _Task(pool.Job[Meter]):
    """One check, and the units it took (to give back should another check refuse the request)."""

    __slots__ = ("taken",)

    def __init__(self, check: Callable[[list[Callable[[], object]]], Meter]) -> None:
        taken: list[Callable[[], object]] = []
        super().__init__(lambda: check(taken))
        self.taken = taken


class Admission:
    """A request's window and day checks, issued at once; `usage()` waits for their answer."""

    def __init__(self, limiter: Limiter, now: float, window: _Task, day: _Task | None) -> None:
        self._limiter, self._now, self._window, self._day = limiter, now, window, day
        self._usage: Usage | None = None
        self._refusal: BaseException | None = None

    def usage(self) -> Usage:
        """The meters; raises KilnError 429 or 503 (see `Limiter.settle`).

        Settled once and remembered: a handler with a read phase asks before it writes and the
        pipeline again for the headers, and settling twice would give back a refused request's
        units twice.
        """
        if self._usage is None and self._refusal is None:
            try:
                self._usage = self._limiter.settle(self._now, self._window, self._day)
            except BaseException as error:  # noqa: BLE001 - kept, and raised again to every asker
                self._refusal = error
        if self._refusal is not None:
            raise self._refusal
        assert self._usage is not None
        return self._usage


def _given_back(meter: Meter) -> Meter:
    return Meter(meter.policy, meter.limit, meter.window, min(meter.limit, meter.remaining + 1), meter.reset_at)


def _aged(state: WindowState | None, start: int) -> tuple[int, int]:
    """(previous, current) of window `start` as seen from the item's state."""
    if state is None:
        return 0, 0
    if state.start == start:
        return state.previous, state.current
    if state.start == start - WINDOW_SECONDS:
        return state.current, 0
    return 0, 0


def _reopen_ms(previous: int, current: int, start_ms: int, w_ms: int, limit: int, now_ms: int) -> int:
    """The first millisecond (>= now) at which a window holding these counts admits one more request.

    Admission at `elapsed` ms into the window: previous * (w - elapsed) / w + current + 1 <= limit.
    """
    slack = limit - 1 - current
    if slack >= 0:
        if previous == 0:
            return now_ms
        elapsed = w_ms - slack * w_ms // previous
        if elapsed < w_ms:
            return max(now_ms, start_ms + max(0, elapsed))
    # Not in this window: in the next one `current` becomes the decaying previous count.
    if current <= limit - 1:
        return start_ms + w_ms
    return start_ms + w_ms + w_ms - (limit - 1) * w_ms // current


def _unavailable(error: Exception) -> KilnError:
    logger.warning("rate-limit counters unavailable, failing closed: %s", error)
    return KilnError(
        ErrorCode.SERVICE_UNAVAILABLE,
        "The rate limiter is unavailable; retry later.",
        {"retryAfterSeconds": 1},
        headers={"Retry-After": "1"},
    )


@cache
def limiter() -> Limiter:
    """The container's limiter (its window memory lives as long as the container)."""
    return Limiter()

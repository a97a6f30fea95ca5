"""Usage tiers: the single source of CONTRACT section 4's limits table.

Read by the CDK usage plans, the local API Gateway emulator and the DynamoDB-backed limits
in the request path (kiln.http.limits). `None` means unlimited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TierName = Literal["free", "pro", "enterprise"]


@dataclass(frozen=True)
class Tier:
    name: TierName
    rate_per_second: int  # API Gateway usage plan steady-state rate (token bucket refill)
    burst: int  # token bucket size
    requests_per_day: int | None
    read_per_minute: int
    write_per_minute: int
    ai_per_minute: int
    concurrent_builds: int | None
    builds_per_year: int | None
    exports_per_year: int | None
    # Deploy previews (kiln.domain.previews) deploying or live at once in one workspace: each
    # is a running function (or local process) until it expires, so even enterprise is bounded.
    live_previews: int = 1


TIERS: dict[str, Tier] = {
    "free": Tier("free", 1, 5, 1_000, 60, 20, 5, 1, 500, 5_000, live_previews=1),
    "pro": Tier("pro", 10, 20, 50_000, 600, 300, 60, 5, 50_000, 1_000_000, live_previews=5),
    "enterprise": Tier("enterprise", 50, 100, None, 6_000, 3_000, 600, None, None, None, live_previews=20),
}

TIER_NAMES: tuple[str, ...] = tuple(TIERS)

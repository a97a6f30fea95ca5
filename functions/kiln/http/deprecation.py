"""Headers of the legacy RPC routes, which are served forever but point to their successors.

Deprecation (RFC 9745) carries the moment the route was deprecated as `@<epoch seconds>`;
Sunset (RFC 8594) is an HTTP-date no earlier than which the route could stop answering, set
far out because these routes are kept; Link names the successor.
"""

from __future__ import annotations

DEPRECATED_AT_EPOCH = 1_764_028_800  # 2025-11-25T00:00:00Z, when the REST routes replaced them
SUNSET = "Fri, 31 Dec 2100 23:59:59 GMT"


def deprecation_headers(successor: str) -> dict[str, str]:
    return {
        "Deprecation": f"@{DEPRECATED_AT_EPOCH}",
        "Sunset": SUNSET,
        "Link": f'<{successor}>; rel="successor-version"',
    }

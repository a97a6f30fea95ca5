"""CORS: which browser origins may read Kiln's answers, and the headers that tell them.

One policy, read by every place that answers HTTP: the Lambda pipeline (actual responses), the
API Gateway preflight methods and gateway responses CDK builds (infra/api.py,
infra/gateway_responses.py) and the local gateway. The allow-list comes from the
`corsAllowedOrigins` cdk context, which CDK hands the functions as KILN_CORS_ALLOWED_ORIGINS
(kiln.config); the local cloud reads the same variable. Empty means no CORS at all.

An entry is an origin (`https://app.example.com`, `http://localhost:5173`), an origin with one
leading wildcard label (`https://*.example.com`: any subdomain, not the bare domain), or `*`
(every origin). Allowed origins are echoed, never answered with `*`, so `Vary: Origin` keeps
caches from serving one origin's answer to another. No `Access-Control-Allow-Credentials`:
Kiln's credentials are bearer keys a page sends itself, never cookies a browser attaches.

This module imports nothing beyond the standard library and kiln.config, so the functions that
skip the pipeline to stay light (health, the OpenAPI document) can use it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kiln import config

# What a browser may send cross-origin besides the CORS-safelisted headers.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "Last-Event-ID", "X-CSRF-Token")
# Response headers a page may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = (
    "X-Request-Id",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "Idempotent-Replayed",
    "Location",
    "Deprecation",
    "Sunset",
    "Link",
)
# How long a browser may reuse a preflight answer. Short, so a narrowed allow-list applies soon.
MAX_AGE_SECONDS = 600

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
# scheme, host (optionally `*.` first) and port; never a path, not even a trailing `/`.
_ORIGIN_SYNTAX = re.compile(rf"^https?://(\*\.)?{_LABEL}(\.{_LABEL})*(:\d{{1,5}})?$")
# What `*.` stands for: one or more DNS labels. Written without backslashes, so the same text is
# a Python and a Java regular expression and can sit in a Velocity string (infra/api.py).
_WILDCARD_LABELS = "[a-z0-9-]+([.][a-z0-9-]+)*"


def check_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """The allow-list without blanks and duplicates; ValueError naming the first bad entry."""
    checked = tuple(dict.fromkeys(o.strip() for o in origins if o.strip()))
    for origin in checked:
        if origin != "*" and not _ORIGIN_SYNTAX.match(origin):
            raise ValueError(
                f"CORS origins must look like https://app.example.com (scheme, host, optional port, "
                f"no path or trailing '/'), https://*.example.com or \"*\"; got {origin!r}"
            )
    return checked


def parse_origins(text: str) -> tuple[str, ...]:
    """A comma-separated allow-list (KILN_CORS_ALLOWED_ORIGINS)."""
    return check_origins(text.split(","))


def origin_pattern(origins: Iterable[str]) -> str | None:
    """A regular expression matching exactly the allowed origins, case-insensitively; None for none.

    Valid in Python (`re.fullmatch`) and in Java (`String.matches`, which API Gateway's Velocity
    templates call), and free of backslashes, quotes, `$` and `#`.
    """
    alternatives = []
    for origin in origins:
        if origin == "*":
            alternatives.append(".+")
            continue
        scheme, _, host = origin.partition("://")
        wildcard = host.startswith("*.")
        literal = (host[2:] if wildcard else host).replace(".", "[.]")
        alternatives.append(f"{scheme}://{_WILDCARD_LABELS + '[.]' if wildcard else ''}{literal}")
    return f"(?i)({'|'.join(alternatives)})" if alternatives else None


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and _matcher(self.origins).fullmatch(origin or "") is not None

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """For an actual response: Vary whenever CORS is on, the allow headers for an allowed origin."""
        if not self.enabled:
            return {}
        headers = {"Vary": "Origin"}
        if origin is not None and self.allows(origin):
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
        return headers

    def preflight_headers(self, origin: str | None, methods: Iterable[str]) -> dict[str, str]:
        """For an OPTIONS answer; the allow headers only for an allowed origin, so others cannot proceed."""
        headers = self.response_headers(origin)
        if "Access-Control-Allow-Origin" in headers:
            del headers["Access-Control-Expose-Headers"]  # meaningless on a preflight
            headers["Access-Control-Allow-Methods"] = ", ".join(methods)
            headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
            headers["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
        return headers

    @property
    def gateway_origin(self) -> str | None:
        """The one origin API Gateway's own error responses name, when the list is one plain origin.

        A gateway response has static headers or headers copied from the request, no conditions:
        it cannot pick one origin out of a list. With one plain origin it names that origin; with
        several, a wildcard or `*` it echoes the request's Origin (None here), see `gateway_headers`.
        """
        if len(self.origins) == 1 and "*" not in self.origins[0]:
            return self.origins[0]
        return None

    def gateway_headers(self, origin: str | None) -> dict[str, str]:
        """What API Gateway's own error responses carry (docs/architecture.md, "CORS").

        These bodies hold a code, a fixed message and a request id, never data, and no credentials
        are involved, so when the list cannot be expressed statically every origin may read them:
        that is what lets an allowed page see a 401 or a 429's Retry-After instead of a network error.
        """
        if not self.enabled:
            return {}
        allowed = self.gateway_origin or origin
        headers = {"Vary": "Origin"}
        if allowed:
            headers["Access-Control-Allow-Origin"] = allowed
            headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
        return headers


@lru_cache(maxsize=8)
def _matcher(origins: tuple[str, ...]) -> re.Pattern[str]:
    pattern = origin_pattern(origins)
    return re.compile(pattern) if pattern else re.compile("(?!)")


@lru_cache(maxsize=4)
def _policy(origins: tuple[str, ...]) -> CorsPolicy:
    return CorsPolicy(check_origins(origins))


def policy() -> CorsPolicy:
    """This function's policy, from KILN_CORS_ALLOWED_ORIGINS (checked once per distinct value)."""
    return _policy(config.cors_allowed_origins())


def add_headers(headers: MutableMapping[str, str], extra: Mapping[str, str]) -> None:
    """Merge CORS headers into a response's: Vary is combined with what is there, the rest set."""
    for name, value in extra.items():
        if name == "Vary":
            existing = next((k for k in headers if k.lower() == "vary"), None)
            if existing is not None:
                listed = [v.strip() for v in headers[existing].split(",") if v.strip()]
                if value.lower() not in (v.lower() for v in listed):
                    headers[existing] = ", ".join([*listed, value])
                continue
        headers[name] = value


def apply(proxy: dict[str, Any], origin: str | None) -> dict[str, Any]:
    """A Lambda proxy response with the CORS headers for a request from `origin`."""
    extra = policy().response_headers(origin)
    if extra:
        headers = dict(proxy.get("headers") or {})
        add_headers(headers, extra)
        proxy["headers"] = headers
    return proxy


def request_origin(event: Mapping[str, Any]) -> str | None:
    """The Origin header of a proxy event (header names arrive in any case)."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "origin" and isinstance(value, str):
            return value
    return None


def allow_header(methods: Iterable[str]) -> str:
    """The `Allow` of an OPTIONS answer: the resource's methods, then OPTIONS itself."""
    return ", ".join([*sorted(set(methods)), "OPTIONS"])

"""Headers of the legacy RPC routes, which are served forever but point to their successors.

A route declares its deprecation in the route table (`kiln.routes.Deprecation`); the shared
pipeline (kiln.http.api) adds these headers to every answer of the route, success or error,
so no handler has to remember them. Deprecation (RFC 9745) carries the moment the route was
deprecated as `@<epoch seconds>`; Sunset (RFC 8594) is an HTTP-date no earlier than which the
route could stop answering; Link names the successor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from kiln.routes import Deprecation

_PARAMETER = re.compile(r"{([^}+]+)\+?}")


def successor_path(deprecation: Deprecation, path_params: Mapping[str, str]) -> str:
    """The successor's path for this request: its `{parameters}` from the request's own.

    Values are percent-encoded (a path parameter may hold any character a client sent, and a
    header must not carry `>`, `,` or line breaks unescaped)."""
    return _PARAMETER.sub(lambda match: quote(path_params.get(match.group(1), ""), safe=""), deprecation.successor)


def deprecation_headers(deprecation: Deprecation, path_params: Mapping[str, str]) -> dict[str, str]:
    return {
        "Deprecation": f"@{deprecation.deprecated_at}",
        "Sunset": deprecation.sunset,
        "Link": f'<{successor_path(deprecation, path_params)}>; rel="successor-version"',
    }

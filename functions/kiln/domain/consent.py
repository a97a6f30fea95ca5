"""The authorization request of `/oauth/authorize`, read and checked, and where it sends the
browser back to. No AWS and no HTML here (kiln.http.pages renders; the handler wires).

RFC 6749 section 4.1.2.1 (and OAuth 2.1) fixes the order of the checks, because of who may be
told what. The client and its redirect URI come first and are never answered by a redirect: an
unknown client or a redirect URI that is not exactly one it registered could send the browser,
with the error, to anyone, so those are an error page shown by Kiln (the handler asks
OAuthService.client_for_authorization). Everything after that is the client's own mistake and
goes back to its redirect URI as `error=...&error_description=...&state=...`, in the order
`check` below tests it.

The parameters come from the query of the GET, then from the hidden fields of the sign-in and
consent forms, which a person (or anyone) can edit: the POST checks them again, all of them, the
same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from kiln.domain.access import ALL_SCOPES

# The request's own parameters, in the order the forms carry them.
PARAMETERS: tuple[str, ...] = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
# An S256 challenge is the base64url (no padding) of a SHA-256 digest: exactly 43 characters
# (RFC 7636 section 4.2); the only method Kiln accepts.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
# RFC 6749 appendix A.5 allows any printable ASCII in `state`; a cap keeps it out of abuse
# (it is echoed in hidden fields and in the redirect).
MAX_STATE_LENGTH = 1024

# What each scope lets an app do, in the words the consent page shows (CONTRACT section 3).
SCOPE_WORDS: dict[str, str] = {
    "project:read": "Read your projects, specifications, runs and files, and download exports",
    "project:write": "Create, change and archive your projects, start, cancel and retry builds, "
    "and import and convert archives",
    "ai:invoke": "Use the AI generator to clarify, write and revise specifications, which counts "
    "against your workspace's AI limits",
    "admin": "Administer workspaces: their people, API keys and tiers",
}


@dataclass(frozen=True)
class AuthorizationRequest:
    """The parameters as sent (each None when absent); nothing checked yet."""

    response_type: str | None = None
    client_id: str | None = None
    redirect_uri: str | None = None
    scope: str | None = None
    state: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    repeated: tuple[str, ...] = ()  # parameters given more than once (RFC 6749 section 3.1: an error)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The parameters the forms carry back, as (name, value): the absent ones left out."""
        values = [(name, getattr(self, name)) for name in PARAMETERS]
        return [(name, value) for name, value in values if value is not None]


@dataclass(frozen=True)
class RequestError:
    """An error sent back to the client's redirect URI (RFC 6749 section 4.1.2.1)."""

    error: str
    description: str


def read_request(pairs: list[tuple[str, str]]) -> AuthorizationRequest:
    """The authorization request from (name, value) pairs, a query's or a form's. Unknown names
    are ignored (RFC 6749 section 3.1); a name given twice is remembered as repeated."""
    values: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in pairs:
        if name not in PARAMETERS:
            continue
        if name in values and name not in repeated:
            repeated.append(name)
        values[name] = value
    return AuthorizationRequest(**values, repeated=tuple(repeated))


def requested_scopes(request: AuthorizationRequest, registered: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes asked for, in the catalog's order; all the client registered when `scope` is
    absent (RFC 6749 section 3.3 lets the server choose a default). Assumes `check` passed."""
    asked = set(request.scope.split()) if request.scope and request.scope.strip() else set(registered)
    return tuple(scope for scope in ALL_SCOPES if scope in asked)


def check(request: AuthorizationRequest, registered: tuple[str, ...]) -> RequestError | None:
    """The first thing wrong with a request whose client and redirect URI are already known
    good, or None. `registered`: the scopes the client registered."""
    if request.repeated:
        names = ", ".join(request.repeated)
        return RequestError("invalid_request", f"A parameter was given more than once: {names}.")
    if request.response_type is None:
        return RequestError("invalid_request", "response_type is missing; it must be code.")
    if request.response_type != "code":
        return RequestError(
            "unsupported_response_type", "Only the authorization code flow is supported: response_type=code."
        )
    if request.code_challenge is None:
        return RequestError("invalid_request", "code_challenge is missing: PKCE with S256 is required.")
    if request.code_challenge_method != "S256":
        if request.code_challenge_method is None:
            return RequestError("invalid_request", "code_challenge_method is missing; it must be S256.")
        return RequestError("invalid_request", "code_challenge_method must be S256 (plain is not supported).")
    if not _CHALLENGE.match(request.code_challenge):
        return RequestError(
            "invalid_request", "code_challenge must be the base64url SHA-256 of the code_verifier: 43 characters."
        )
    if request.state is not None and len(request.state) > MAX_STATE_LENGTH:
        return RequestError("invalid_request", f"state is longer than {MAX_STATE_LENGTH} characters.")
    if request.scope is not None and request.scope.strip():
        unknown = [scope for scope in request.scope.split() if scope not in ALL_SCOPES]
        if unknown:
            return RequestError("invalid_scope", "Unknown scope: " + " ".join(unknown[:5]) + ".")
        beyond = [scope for scope in request.scope.split() if scope not in registered]
        if beyond:
            return RequestError("invalid_scope", "The client did not register the scope: " + " ".join(beyond) + ".")
    if not requested_scopes(request, registered):
        return RequestError("invalid_scope", "No scope is requested.")
    return None


def redirect_to(redirect_uri: str, parameters: Mapping[str, str | None]) -> str:
    """`redirect_uri` with `parameters` added to its query (the absent ones left out). Its own
    query is kept first, byte for byte (RFC 6749 section 3.1.2: the server MUST retain it); a
    fragment cannot be registered, so there is none to carry."""
    parts = urlsplit(redirect_uri)
    added = {name: value for name, value in parameters.items() if value is not None}
    # Ours replace a registered parameter of the same name: a redirect URI registered with
    # `?code=x` must not hand the client a second code next to the real one.
    kept = [
        segment
        for segment in parts.query.split("&")
        if segment and unquote_plus(segment.partition("=")[0]) not in added
    ]
    query = "&".join([*kept, urlencode(added)]) if added else "&".join(kept)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of an absolute URL: what a Content-Security-Policy source names."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

"""GET and POST /oauth/authorize: the sign-in and consent pages of the authorization code flow
(CONTRACT section 7), server-rendered HTML from Kiln itself.

Not behind the authorizer and not through the JSON pipeline: a browser navigates here, so every
answer is a page or a 303, never the envelope, and no CORS header is added (a top-level
navigation is not a cross-origin read). The session cookie is read here, through
SessionService.resolve, exactly as the authorizer would read it.

GET checks the request (kiln.domain.consent for the order) and shows, with no session, the
sign-in form, else the consent page. POST carries the request back in hidden fields, which
are checked again from scratch, and one `action`:

- `sign_in` (email, password): SessionService.sign_in, the same generic 401 and the same
  throttle (429 with Retry-After) as POST /v1/sessions, shown on the page; a good one sets the
  `__Host-kiln_session` cookie and shows the consent page.
- `approve` / `deny`: need the session and its CSRF token in the `csrf_token` field, compared
  in constant time; then a 303 to the redirect URI with a code, or with `error=access_denied`.

Login CSRF (a cross-site form signing the victim in as the attacker) is refused on every POST
by the browser's own request metadata: `Sec-Fetch-Site` must be `same-origin` or `none` when
sent, and `Origin` must be this API's origin when sent. Every browser that can run the pages
sends at least one of them on a form POST; a client that sends neither (curl, a test) is not a
browser another site can drive. A signed form token would also need a pre-session cookie to
bind it to, and checks nothing these headers do not.

Every answer of a checked request names the client's redirect URI's origin in the policy's
`form-action` (kiln.http.pages says why) and adds `iss` to the redirect (RFC 9207).
"""

from __future__ import annotations

import base64
import hmac
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from kiln import config, services
from kiln.domain import consent
from kiln.domain.consent import AuthorizationRequest
from kiln.domain.sessions import ActiveSession, session_cookie, token_from_cookies
from kiln.envelope import ErrorCode, KilnError, error_headers
from kiln.http import pages
from kiln.http.contract import Answer, Contract, described
from kiln.http.public_url import base_url
from kiln.http.request import Headers, request_id_of

if TYPE_CHECKING:
    from kiln.domain.oauth import OAuthClient
    from kiln.domain.people import Person

config.load(config.ApiSettings)  # the cold start fails on a missing or malformed variable

logger = logging.getLogger("kiln")

MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 32
FORM_TYPE = "application/x-www-form-urlencoded"
ACTIONS = ("sign_in", "approve", "deny")

WRONG_CREDENTIALS = "That email and password do not match. Check them and try again."
MISSING_CREDENTIALS = "Enter your email and your password."
SESSION_ENDED = "Your session has ended. Sign in again to continue."
BROKEN_LINK = "This sign-in link does not work"


class Refusal(Exception):
    """An answer that is a page, decided before the end (an error page, a sign-in page again)."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__(answer.get("statusCode"))
        self.answer = answer


class Page:
    """One request to the pages: its event, its headers, its id, and the answers it can give."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.headers = Headers.from_event(event)
        self.request_id = request_id_of(event, self.headers)
        self.issuer = base_url(event)

    # --- answers ------------------------------------------------------------------------------

    def error(self, status: int, heading: str, message: str, headers: dict[str, str] | None = None) -> Refusal:
        return Refusal(
            pages.html_answer(
                status, pages.error_page(heading, message, self.request_id), self.request_id, headers=headers
            )
        )

    def back_to_client(self, redirect_uri: str, parameters: dict[str, str | None]) -> dict[str, Any]:
        """The 303 that ends the flow at the client, with `iss` (RFC 9207) on every outcome."""
        location = consent.redirect_to(redirect_uri, {**parameters, "iss": self.issuer})
        return pages.redirect_answer(location, self.request_id)

    # --- the request ---------------------------------------------------------------------------

    def query_pairs(self) -> list[tuple[str, str]]:
        multi = self.event.get("multiValueQueryStringParameters") or {}
        if multi:
            return [(name, value) for name, values in multi.items() for value in values or [""]]
        return list((self.event.get("queryStringParameters") or {}).items())

    def form_pairs(self) -> list[tuple[str, str]]:
        media = (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if media != FORM_TYPE:
            raise self.error(415, "This form cannot be read", "The form was not sent as a web form.")
        raw = self.event.get("body") or ""
        if self.event.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode("utf-8", "replace")
        if len(raw.encode()) > MAX_FORM_BYTES:
            raise self.error(413, "This form cannot be read", "The form is too large.")
        try:
            return parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:
            raise self.error(400, "This form cannot be read", "The form has too many fields.") from None

    def check_fetch_metadata(self) -> None:
        """Login CSRF: a form POST must come from a page of this origin, by what the browser says."""
        site = self.headers.get("sec-fetch-site")
        origin = self.headers.get("origin")
        foreign_site = site is not None and site.strip().lower() not in ("same-origin", "none")
        foreign_origin = origin is not None and origin.strip() != consent.origin_of(self.issuer)
        if foreign_site or foreign_origin:
            raise self.error(
                403,
                "This form did not come from Kiln",
                "Kiln only accepts this form from its own pages. Open the sign-in link again from the app.",
            )

    def active_session(self) -> ActiveSession | None:
        token = token_from_cookies(self.headers.get("cookie"))
        return services.current().sessions.resolve(token) if token else None

    def client(self, request: AuthorizationRequest, workspace_id: str | None = None) -> OAuthClient:
        """The client and its redirect URI, checked before anything may be sent to that URI: any
        doubt is an error page, never a redirect (RFC 6749 section 4.1.2.1). With the signed-in
        person's `workspace_id`, another workspace's client is answered as an unknown one, by
        OAuthService itself, so the two pages cannot differ."""
        from kiln.domain.oauth import AuthorizationRequestError

        for name in ("client_id", "redirect_uri"):
            if name in request.repeated:
                raise self.error(400, BROKEN_LINK, f"The link gives {name} more than once.")
        if not request.client_id:
            raise self.error(400, BROKEN_LINK, "The link does not name the app: client_id is missing.")
        if not request.redirect_uri:
            raise self.error(400, BROKEN_LINK, "The link does not say where to go back to: redirect_uri is missing.")
        try:
            return services.current().oauth.client_for_authorization(
                request.client_id, request.redirect_uri, workspace_id
            )
        except AuthorizationRequestError as error:
            raise self.error(400, BROKEN_LINK, error.description) from None

    def checked(self, request: AuthorizationRequest, client: OAuthClient) -> tuple[str, ...]:
        """The requested scopes of a request whose client is known; a mistake of the client goes
        back to it as `error=...` (303)."""
        assert request.redirect_uri is not None
        problem = consent.check(request, client.scopes)
        if problem is not None:
            raise Refusal(
                self.back_to_client(
                    request.redirect_uri,
                    {"error": problem.error, "error_description": problem.description, "state": request.state},
                )
            )
        return consent.requested_scopes(request, client.scopes)

    # --- the pages ------------------------------------------------------------------------------

    def sign_in(
        self,
        request: AuthorizationRequest,
        client: OAuthClient,
        status: int = 200,
        *,
        email: str = "",
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        assert request.redirect_uri is not None
        page = pages.sign_in_page(client.name, request.hidden_fields(), email=email, message=message)
        return pages.html_answer(
            status, page, self.request_id, form_origins=(consent.origin_of(request.redirect_uri),), headers=headers
        )

    def consent(
        self,
        request: AuthorizationRequest,
        client: OAuthClient,
        person: Person,
        scopes: tuple[str, ...],
        csrf_token: str,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        assert request.redirect_uri is not None
        origin = consent.origin_of(request.redirect_uri)
        granted = [consent.SCOPE_WORDS[scope] for scope in scopes if scope in person.scopes]
        page = pages.consent_page(
            client.name, origin, person.name, person.email, granted, request.hidden_fields(), csrf_token
        )
        return pages.html_answer(200, page, self.request_id, form_origins=(origin,), headers=headers)


def _show(page: Page) -> dict[str, Any]:
    """GET: the sign-in page, or the consent page of the signed-in person."""
    request = consent.read_request(page.query_pairs())
    active = page.active_session()
    client = page.client(request, active.person.workspace_id if active else None)
    scopes = page.checked(request, client)
    if active is None:
        return page.sign_in(request, client)
    return page.consent(request, client, active.person, scopes, active.session.csrf_token)


def _submit(page: Page) -> dict[str, Any]:
    """POST: sign in, approve or deny."""
    page.check_fetch_metadata()
    form = page.form_pairs()
    request = consent.read_request(form)
    fields = dict(form)
    action = fields.get("action")
    active = None if action == "sign_in" else page.active_session()
    client = page.client(request, active.person.workspace_id if active else None)
    scopes = page.checked(request, client)
    assert request.redirect_uri is not None
    if action not in ACTIONS:
        raise page.error(400, "This form cannot be read", "The form does not say what to do.")
    if action == "sign_in":
        return _sign_in(page, request, client, scopes, fields.get("email", ""), fields.get("password", ""))
    if active is None:
        return page.sign_in(request, client, 401, message=SESSION_ENDED, headers=error_headers(ErrorCode.UNAUTHORIZED))
    sent = fields.get("csrf_token", "")
    if not hmac.compare_digest(sent.encode(), active.session.csrf_token.encode()):
        raise page.error(
            403,
            "This form has expired",
            "The form was not the one Kiln showed you, or it is from an earlier session. Nothing was changed: "
            "start again from the app.",
        )
    if action == "deny":
        return page.back_to_client(
            request.redirect_uri,
            {"error": "access_denied", "error_description": "The request was denied.", "state": request.state},
        )
    from kiln.domain.oauth import AuthorizationRequestError

    try:
        code = services.current().oauth.issue_code(
            client, active.person, request.redirect_uri, scopes, request.code_challenge or ""
        )
    except AuthorizationRequestError as error:
        if not error.redirectable:
            raise page.error(400, BROKEN_LINK, error.description) from None
        return page.back_to_client(
            request.redirect_uri,
            {"error": error.error, "error_description": error.description, "state": request.state},
        )
    return page.back_to_client(request.redirect_uri, {"code": code, "state": request.state})


def _sign_in(
    page: Page, request: AuthorizationRequest, client: OAuthClient, scopes: tuple[str, ...], email: str, password: str
) -> dict[str, Any]:
    if not email.strip() or not password:
        return page.sign_in(request, client, 400, email=email, message=MISSING_CREDENTIALS)
    try:
        signed = services.current().sessions.sign_in(email, password)
    except KilnError as error:
        if error.code is ErrorCode.RATE_LIMIT_EXCEEDED:
            wait = int(error.headers.get("Retry-After") or error.details.get("retryAfterSeconds") or 60)
            minutes = max(1, -(-wait // 60))
            message = (
                "Too many attempts to sign in with this email. Wait "
                + (f"{minutes} minutes" if minutes > 1 else "a minute")
                + " before trying again."
            )
            return page.sign_in(request, client, 429, email=email, message=message, headers=error.headers)
        if error.code in (ErrorCode.UNAUTHORIZED, ErrorCode.VALIDATION_ERROR):
            # One message for an unknown email and a wrong password (and a malformed email).
            return page.sign_in(
                request,
                client,
                401,
                email=email,
                message=WRONG_CREDENTIALS,
                headers=error_headers(ErrorCode.UNAUTHORIZED),
            )
        raise
    max_age = services.current().sessions.remaining_seconds(signed.session)
    cookie = {"Set-Cookie": session_cookie(signed.token, max_age)}
    try:
        client = page.client(request, signed.person.workspace_id)
    except Refusal as refusal:
        refusal.answer["headers"].update(cookie)  # signed in all the same
        raise
    return page.consent(request, client, signed.person, scopes, signed.csrf_token, headers=cookie)


@described(
    Contract(
        answers=(
            Answer(
                200,
                "GET without a session, or POST with a wrong form: the sign-in page (email and password). GET "
                "with a session, or a good sign-in (which sets the `__Host-kiln_session` cookie): the consent "
                "page naming the client and each scope it asks for, with Approve and Deny.",
                shape="html",
                headers=("Cache-Control", "Content-Security-Policy", "Set-Cookie"),
            ),
            Answer(
                303,
                "Back to the client's redirect URI: `code` and `state` after Approve; `error=access_denied` "
                "after Deny; `error` and `error_description` for a request the client got wrong (unsupported "
                "response_type, no S256 PKCE challenge, an unknown scope). Every one carries `state` as sent "
                "and `iss` (RFC 9207).",
                shape="empty",
                headers=("Location", "Cache-Control"),
            ),
        ),
        notes="A browser page, not JSON: every answer is `text/html` or a 303, never the envelope, and carries "
        "`Content-Security-Policy` (no script; `frame-ancestors 'none'`), `X-Frame-Options: DENY`, "
        "`Cache-Control: no-store` and `Referrer-Policy: no-referrer`. Query of GET (the form fields of POST "
        "carry the same): `response_type=code`, `client_id`, `redirect_uri` (exactly as registered), `scope` "
        "(space-separated; default: the client's), `state`, `code_challenge` (base64url SHA-256 of the "
        "verifier), `code_challenge_method=S256`. An unknown client, a redirect URI it did not register, or a "
        "person of another workspace is a 400 page and never a redirect. POST (form-encoded) adds `action` "
        "(`sign_in` with `email` and `password`; `approve` or `deny` with `csrf_token`, the session's): a "
        "wrong email or password is the sign-in page again with 401, too many failures 429 with "
        "`Retry-After`, a missing or wrong `csrf_token` or a cross-site POST (`Sec-Fetch-Site`, `Origin`) "
        "403, a body other than `application/x-www-form-urlencoded` 415.",
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    page = Page(event)
    try:
        if (event.get("httpMethod") or "GET").upper() == "POST":
            return _submit(page)
        return _show(page)
    except Refusal as refusal:
        return refusal.answer
    except KilnError as error:
        if error.code is ErrorCode.SERVICE_UNAVAILABLE:
            return page.error(
                503, "Kiln is busy", "Kiln could not finish this just now. Try again in a moment.", error.headers
            ).answer
        logger.exception("unexpected error on /oauth/authorize", extra={"requestId": page.request_id})
        return page.error(500, "Something went wrong", "Kiln could not finish this. Try again.").answer
    except Exception:  # a page, never a stack trace; the log keeps it
        logger.exception("unexpected error on /oauth/authorize", extra={"requestId": page.request_id})
        return page.error(500, "Something went wrong", "Kiln could not finish this. Try again.").answer

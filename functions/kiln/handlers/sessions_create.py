"""POST /v1/sessions: sign in with email and password; the answer sets the session cookie.

No credential is needed (the route is served without the authorizer). A wrong email and a
wrong password get the same 401; five unsuccessful sign-ins for one email within 15 minutes
get 429 with a truthful Retry-After, the right password included (kiln.domain.sessions). The
cookie's value is in the `Set-Cookie` header only, never in the body; the body carries the
CSRF token the session's changes must send as `X-CSRF-Token`. The password is in this request
only: nothing stores or logs it, and the route keeps no idempotency record (`replay="none"`).
"""

from typing import Annotated

from pydantic import Field, StringConstraints

from kiln import services
from kiln.domain.people import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from kiln.domain.projects import Strict
from kiln.domain.sessions import session_cookie, session_view
from kiln.domain.views import CurrentSession
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok

Email = Annotated[str, StringConstraints(max_length=MAX_EMAIL_LENGTH, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")]
# Any length up to the maximum: a password shorter than people may set is simply a wrong one.
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class SignIn(Strict):
    email: Email = Field(description="The person's email, compared case-insensitively.", examples=["ada@example.com"])
    password: Password = Field(description="The person's password.")


def sign_in(request: Request, body: SignIn) -> Response:
    sessions = services.current().sessions
    signed_in = sessions.sign_in(body.email, body.password)
    answer = CurrentSession.model_validate(session_view(signed_in.session, signed_in.person))
    headers = {
        "Set-Cookie": session_cookie(signed_in.token, sessions.ttl_seconds),
        "Cache-Control": "no-store",  # a fresh credential: no cache may keep this answer
    }
    return ok(answer, 201, headers)


handler = endpoint(
    sign_in,
    Contract(
        body=SignIn,
        answers=(Answer(201, "Signed in: the session cookie is set.", CurrentSession, headers=("Set-Cookie",)),),
        errors={401: (ErrorCode.UNAUTHORIZED,), 429: (ErrorCode.RATE_LIMIT_EXCEEDED,)},
        notes="The cookie is `__Host-kiln_session` (`Path=/; HttpOnly; Secure; SameSite=Lax`), valid for 12 hours "
        "at most and ended sooner by 30 minutes without use (both configurable), by sign-out, or when the person "
        "is deleted or their password changes. A wrong email and a wrong password get the same 401; after 5 "
        "unsuccessful sign-ins for one email within 15 minutes every sign-in for it is refused with 429 and "
        "`Retry-After` (when the oldest of them leaves the window), even with the right password.",
    ),
)

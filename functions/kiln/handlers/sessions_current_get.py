"""GET /v1/sessions/current: the session of the cookie sent, with its CSRF token.

A page that reloads has lost the CSRF token it kept in memory: this gives it back. Only a
request authenticated by the session cookie has a current session; an API key or an access
token gets 404, as a session that has ended does.
"""

from kiln import services
from kiln.domain.sessions import ActiveSession, session_view, token_from_cookies
from kiln.domain.views import CurrentSession
from kiln.envelope import ErrorCode, KilnError
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request


def no_current_session() -> KilnError:
    return KilnError(
        ErrorCode.NOT_FOUND,
        "No current session: this request was not made with a session cookie.",
        {"resource": "session", "id": "current"},
    )


def current_session(request: Request, *, touch: bool) -> tuple[str, ActiveSession | None]:
    """The cookie's token and its live session, for a request the session cookie authenticated;
    404 for any other credential."""
    principal = request.principal
    token = token_from_cookies(request.headers.get("cookie"))
    if principal is None or principal.credential != "session" or token is None:
        raise no_current_session()
    active = services.current().sessions.resolve(token, touch=touch)
    if active is not None and (active.person.workspace_id, active.person.id) != (
        principal.workspace_id,
        principal.user_id,
    ):
        active = None  # not the session the authorizer identified (a second cookie): say nothing of it
    return token, active


def get_current_session(request: Request) -> CurrentSession:
    _, active = current_session(request, touch=False)  # the authorizer has recorded this use
    if active is None:
        raise no_current_session()
    return CurrentSession.model_validate(session_view(active.session, active.person))


handler = endpoint(
    get_current_session,
    Contract(
        answers=(Answer(200, "The session.", CurrentSession),),
        errors={404: (ErrorCode.NOT_FOUND,)},
        notes="Only with the session cookie: an API key or an access token has no session (404).",
    ),
)

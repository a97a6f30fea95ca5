"""DELETE /v1/sessions/current: sign out. The session ends and the answer clears the cookie.

Like every change made with the cookie it needs `X-CSRF-Token` (kiln.http.api), so another
site cannot sign a person out. Signing out twice is fine: a session that has already ended
answers 204 and clears the cookie again. An API key or an access token gets 404.
"""

from kiln import services
from kiln.domain.sessions import cleared_session_cookie
from kiln.envelope import ErrorCode
from kiln.handlers.sessions_current_get import current_session
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response


def sign_out(request: Request) -> Response:
    token, active = current_session(request, touch=False)
    if active is not None:
        services.current().sessions.sign_out(token)
    return Response(204, headers={"Set-Cookie": cleared_session_cookie()})


handler = endpoint(
    sign_out,
    Contract(
        answers=(
            Answer(
                204,
                "Signed out: the session has ended and the cookie is cleared.",
                shape="empty",
                headers=("Set-Cookie",),
            ),
        ),
        errors={404: (ErrorCode.NOT_FOUND,)},
        notes="Needs the session cookie and its `X-CSRF-Token`; an API key or an access token gets 404.",
    ),
)

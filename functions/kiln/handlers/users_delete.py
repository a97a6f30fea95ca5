"""DELETE /v1/users/{userId} (admin): remove a person (and free their email)."""

from kiln import services
from kiln.handlers.users_get import UserTarget
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response


def delete_user(request: Request, query: UserTarget) -> Response:
    assert request.principal is not None
    user_id = request.path_id("userId", "user")
    services.current().people.delete(request.principal, user_id, query.workspaceId)
    return Response(204)


handler = endpoint(
    delete_user,
    Contract(query=UserTarget, path={"userId": ("user",)}, answers=(Answer(204, "Deleted.", shape="empty"),)),
)

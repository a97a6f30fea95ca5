"""GET /v1/users/{userId} (admin): one person; another workspace's answers as a missing one."""

from kiln import services
from kiln.domain.people import person_view
from kiln.domain.projects import Strict
from kiln.domain.views import User
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


class UserTarget(Strict):
    workspaceId: str | None = None


def get_user(request: Request, query: UserTarget) -> Response:
    assert request.principal is not None
    user_id = request.path_id("userId", "user")
    person = services.current().people.get(request.principal, user_id, query.workspaceId)
    return ok(User.model_validate(person_view(person)))


handler = endpoint(get_user, Contract(query=UserTarget, path={"userId": ("user",)}, answers=(Answer(200, model=User),)))

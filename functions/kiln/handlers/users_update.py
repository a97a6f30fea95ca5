"""PATCH /v1/users/{userId} (admin): change a person's name, email, scopes or password.

New scopes stay within the caller's own; a new email moves its uniqueness item in the same
transaction as the person; a new password is hashed afresh and sets passwordChangedAt.
"""

from pydantic import Field

from kiln import services
from kiln.domain.people import PersonChanges, person_view
from kiln.domain.projects import Name, PartialUpdate
from kiln.domain.views import User
from kiln.envelope import ErrorCode
from kiln.handlers.users_create import Email, Password
from kiln.handlers.users_get import UserTarget
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.routes import Scope


class UserUpdate(PartialUpdate):
    email: Email | None = None
    name: Name | None = None
    password: Password | None = Field(default=None, description="12 to 256 characters; never returned.")
    scopes: list[Scope] | None = Field(default=None, min_length=1, max_length=16)


def update_user(request: Request, body: UserUpdate, query: UserTarget) -> Response:
    assert request.principal is not None
    user_id = request.path_id("userId", "user")
    changes = PersonChanges(
        email=body.email,
        name=body.name,
        password=body.password,
        scopes=tuple(body.scopes) if body.scopes is not None else None,
    )
    person = services.current().people.update(request.principal, user_id, changes, query.workspaceId)
    return ok(User.model_validate(person_view(person)))


handler = endpoint(
    update_user,
    Contract(
        body=UserUpdate,
        query=UserTarget,
        path={"userId": ("user",)},
        answers=(Answer(200, "Updated.", User),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

"""POST /v1/users (admin): add a person to a workspace, with a password hashed by scrypt.

The person's scopes are within the caller's own (the keys' rule); `workspaceId` adds them to
another workspace. The password is in this request only: the answer, the stored item and an
idempotent replay carry none of it (kiln.domain.people).
"""

from typing import Annotated

from pydantic import Field, StringConstraints

from kiln import services
from kiln.domain.people import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PersonRequest,
    person_view,
)
from kiln.domain.projects import Name, Strict
from kiln.domain.views import User
from kiln.envelope import ErrorCode
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok
from kiln.routes import Scope

Email = Annotated[str, StringConstraints(max_length=MAX_EMAIL_LENGTH, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class UserCreate(Strict):
    email: Email = Field(description="Unique in the deployment, case-insensitively.", examples=["ada@example.com"])
    name: Name = Field(description="The person's name.", examples=["Ada Lovelace"])
    password: Password = Field(description="12 to 256 characters; never returned.")
    scopes: list[Scope] = Field(
        min_length=1, max_length=16, description="Scopes; each must be held by the caller.", examples=[["project:read"]]
    )
    workspaceId: str | None = Field(default=None, description="Add the person to this workspace (admin).")


def create_user(request: Request, body: UserCreate) -> Response:
    assert request.principal is not None
    person = services.current().people.create(
        request.principal,
        PersonRequest(
            email=body.email,
            name=body.name,
            password=body.password,
            scopes=tuple(body.scopes),
            workspace_id=body.workspaceId,
        ),
    )
    return ok(User.model_validate(person_view(person)), 201)


handler = endpoint(
    create_user,
    Contract(
        body=UserCreate,
        answers=(Answer(201, "Created.", User),),
        errors={409: (ErrorCode.CONFLICT,)},
    ),
)

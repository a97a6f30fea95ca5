"""What the two files endpoints share: the `ref` parameter and the repository at that ref."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from kiln import services
from kiln.domain.repository import MAX_REF_LENGTH, RefNotFound, Repository, validate_ref
from kiln.envelope import not_found, validation_error
from kiln.http.request import Request

Ref = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REF_LENGTH), AfterValidator(validate_ref)]


def repository_at(request: Request, project_id: str, ref: str) -> tuple[Repository, str]:
    """The project's repository and the commit `ref` names; 404 for another workspace's
    project (as for a missing one) and for an unknown ref."""
    services.projects().get(request.workspace_id, project_id)
    repository = services.repository(request.workspace_id, project_id)
    try:
        return repository, repository.resolve(ref)
    except RefNotFound:
        raise not_found("ref", ref) from None


def path_error(message: str, kind: str, location: str) -> Exception:
    return validation_error([{"field": "path", "location": location, "message": message, "type": kind}])

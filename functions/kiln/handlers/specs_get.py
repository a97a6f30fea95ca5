"""GET /v1/projects/{projectId}/spec?version=: a spec version (latest by default) and all versions."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from kiln import services
from kiln.domain.specs import SpecView
from kiln.http.api import endpoint
from kiln.http.contract import Answer, Contract
from kiln.http.request import Request
from kiln.http.response import Response, ok


class SpecQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=1_000_000)] | None = None


def get_spec(request: Request, query: SpecQuery) -> Response:
    project_id = request.path_id("projectId", "project")
    return ok(services.current().specs.get(request.workspace_id, project_id, query.version))


handler = endpoint(get_spec, Contract(query=SpecQuery, answers=(Answer(200, model=SpecView),)))

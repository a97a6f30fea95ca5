"""What the differential tests compare: a check's whole answer, as a client would receive it.

The hand-written checks that keep pydantic off a cold path (kiln.domain.project_bodies,
kiln.http.list_query) must answer exactly what validating the documented pydantic model
answers: the value, or the error response byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from kiln.envelope import KilnError, validation_error
from kiln.http.api import error_response
from kiln.http.request import field_errors


def answer(check: Callable[[], Any]) -> tuple[str, Any]:
    """("valid", what `check` returned) or ("error", the error response's status, headers, body)."""
    try:
        return "valid", check()
    except KilnError as error:
        response = error_response(error, "req_test")
        return "error", (response["statusCode"], response["headers"], response["body"])


def by_model(model: type[BaseModel], data: dict[str, Any], location: str) -> tuple[str, Any]:
    """`model` validating `data` as the request pipeline does (Request.body_as / query_as)."""

    def check() -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            raise validation_error(field_errors(error, location)) from None

    return answer(check)

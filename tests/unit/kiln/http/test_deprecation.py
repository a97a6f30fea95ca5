"""Deprecation headers come from the route table and the shared pipeline: every answer of a
legacy route carries them, errors included, and a legacy route runs its successor's handler."""

from __future__ import annotations

import pytest

from kiln.handlers import conversions_create, conversions_get
from kiln.http.deprecation import deprecation_headers, successor_path
from kiln.routes import ROUTES, Deprecation
from tests.unit.conftest import parse, principal_context, proxy_event

pytestmark = pytest.mark.usefixtures("cloud")

LEGACY = {r.name: r for r in ROUTES if r.deprecated is not None}
UNKNOWN_UPLOAD = {"uploadId": "upl_01m885m8rskqxxjknrtpgbxm1p", "to": "zip"}


def test_legacy_routes_are_served_by_their_successors_handlers():
    assert {name: (r.handler, r.deprecated.successor) for name, r in LEGACY.items()} == {  # type: ignore[union-attr]
        "exports_create_legacy": ("exports_create", "/v1/projects/{projectId}/exports"),
        "conversions_create_legacy": ("conversions_create", "/v1/conversions"),
        "conversions_get_legacy": ("conversions_get", "/v1/conversions/{callbackId}"),
    }
    names = [r.name for r in ROUTES]
    assert len(set(names)) == len(names), "each route keeps its own name (function, operationId)"


def test_the_successor_link_is_filled_and_escaped():
    deprecation = Deprecation("/v1/conversions/{callbackId}")
    assert successor_path(deprecation, {"callbackId": "conv_1"}) == "/v1/conversions/conv_1"
    assert successor_path(deprecation, {"callbackId": "a>b, c\r\n"}) == "/v1/conversions/a%3Eb%2C%20c%0D%0A"
    headers = deprecation_headers(deprecation, {"callbackId": "conv_1"})
    assert headers == {
        "Deprecation": "@1764028800",
        "Sunset": "Fri, 31 Dec 2100 23:59:59 GMT",
        "Link": '</v1/conversions/conv_1>; rel="successor-version"',
    }


def convert(resource: str, body: object, **context: object) -> dict:
    return conversions_create.handler(proxy_event("POST", resource, body=body, authorizer=principal_context(**context)))  # type: ignore[arg-type]


@pytest.mark.parametrize("body,status", [(UNKNOWN_UPLOAD, 400), ({"uploadId": 1, "extra": True}, 400)])
def test_errors_of_a_legacy_route_carry_its_headers_and_its_successor_does_not(body, status):
    legacy = convert("/v1/converter/convert", body)
    assert parse(legacy)[0] == status
    assert legacy["headers"]["Deprecation"] == "@1764028800"
    assert legacy["headers"]["Link"] == '</v1/conversions>; rel="successor-version"'
    assert legacy["headers"]["Sunset"].endswith(" GMT")
    assert "X-RateLimit-Limit" in legacy["headers"]
    successor = convert("/v1/conversions", body)
    assert parse(successor) == parse(legacy)
    assert not {"Deprecation", "Sunset", "Link"} & set(successor["headers"])


def test_a_404_of_a_legacy_route_names_the_successor_of_that_resource():
    callback = "conv_01m885m8rskqxxjknrtpgbxm1p"
    event = proxy_event(
        "GET",
        "/v1/converter/status/{callbackId}",
        f"/v1/converter/status/{callback}",
        path_params={"callbackId": callback},
        authorizer=principal_context(),
    )
    response = conversions_get.handler(event)
    assert parse(response)[1]["error"]["code"] == "NOT_FOUND"
    assert response["headers"]["Link"] == '</v1/conversions/conv_01m885m8rskqxxjknrtpgbxm1p>; rel="successor-version"'


def test_outside_the_allow_list_a_legacy_route_looks_like_no_route_at_all():
    response = convert("/v1/converter/convert", UNKNOWN_UPLOAD, allowed_paths=["/v1/projects"])
    assert parse(response)[1]["error"]["code"] == "ENDPOINT_NOT_FOUND"
    assert not {"Deprecation", "Sunset", "Link", "X-RateLimit-Limit"} & set(response["headers"])

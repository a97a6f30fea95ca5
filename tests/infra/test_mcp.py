"""POST /mcp in the deployed stack: its own function behind the same API and authorizer, the
only one with the MCP layer (every other function keeps the usual layer and its cold start),
holding no data grant, and told the API's URL its tools call."""

from __future__ import annotations

import pytest

from kiln import config
from kiln.routes import ROUTES

from .conftest import Synth
from .test_stack import actions, function_key, functions, join, methods_by_route, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

MCP_ROUTE = next(route for route in ROUTES if route.handler == "mcp")


def layer_parameters(synth: Synth) -> dict[str, set[str]]:
    """Function key -> the parameter names (of its nested stack) its layers come from."""
    out: dict[str, set[str]] = {}
    for key, (_, _, props) in functions(synth).items():
        out[key] = {join(layer) for layer in props.get("Layers", [])}
    return out


def test_mcp_is_a_route_behind_the_authorizer(main: Synth) -> None:
    assert main.error is None, main.error
    method = methods_by_route(main)[("POST", "/mcp")]
    assert method["AuthorizationType"] == "CUSTOM" and "AuthorizerId" in method
    assert join(method["Integration"]["Uri"]).endswith(f":function:{main.stack.function_name(MCP_ROUTE)}/invocations")


def test_only_the_mcp_function_has_the_mcp_layer(main: Synth) -> None:
    layers = [r for _, (_, r) in main.resources("AWS::Lambda::LayerVersion").items()]
    described = sorted(r["Properties"]["Description"] for r in layers)
    assert len(described) == 2 and any("MCP SDK" in d for d in described), described
    by_function = layer_parameters(main)
    assert by_function[function_key(MCP_ROUTE)] == {"<McpLayerArn>"}
    others = {key: params for key, params in by_function.items() if key != function_key(MCP_ROUTE)}
    assert others and all("<McpLayerArn>" not in params for params in others.values())
    # The nested stack's parameter is the root's MCP layer, not the usual one.
    mcp_stack = next(name for name in main.templates if name.endswith("/RoutesMcp"))
    nested = next(
        r for r in main.root["Resources"].values()
        if r["Type"] == "AWS::CloudFormation::Stack" and "McpLayerArn" in r["Properties"].get("Parameters", {})
    )  # fmt: skip
    assert "McpDependencies" in join(nested["Properties"]["Parameters"]["McpLayerArn"])
    assert "LayerArn" not in main.templates[mcp_stack].get("Parameters", {})


def test_the_mcp_function_holds_no_data_grant_and_knows_the_api_url(main: Synth) -> None:
    stack, _, props = functions(main)[function_key(MCP_ROUTE)]
    granted = actions(role_statements(main, stack, props))
    assert granted, "its log group at least"
    assert not {a for a in granted if a.split(":")[0] in {"dynamodb", "s3", "secretsmanager", "states", "sqs"}}
    url = join(props["Environment"]["Variables"][config.API_URL])
    assert url.startswith("https://<RestApiId>.execute-api.") and url.endswith("/prod"), url

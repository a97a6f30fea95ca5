"""A nested stack holding the API Gateway methods of one route group (`Route.group`).

Each route path costs three methods at least (its routes', ANY answering 405, OPTIONS), the
largest and fastest-growing share of the API: kept in the root stack they would take it past
CloudFormation's 500 resources. Here: the method of each route of the group, and the ANY and
OPTIONS of each path whose first route (in table order) is the group's (api.path_owners).

Apart from the route group stack (route_group.py) on purpose: the deployment depends on every
method, the usage plans on the deployment's stage, and the route functions read the usage plan
ids, so methods and functions in one stack would be a cycle. The methods need only the API's
id, its resources' ids, the authorizer's id and the 405 function's ARN, as named parameters;
route functions are invoked by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import CfnParameter, NestedStack
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from infra.api import AuthorizerRef, add_methods, arn_invocation_uri
from infra.route_group import pascal
from infra.settings import Settings
from kiln.routes import Route


def methods_stack_id(group: str) -> str:
    return f"Methods{pascal(group) or 'Default'}"


def resource_parameter(path: str) -> str:
    """`/v1/projects/{projectId}` -> `ResourceV1ProjectsProjectIdId`."""
    return f"Resource{pascal(path)}Id"


def check_resource_parameters(paths: Sequence[str]) -> None:
    """Two paths must not share a parameter name (`/a/{b+}` and `/a/b` would)."""
    seen: dict[str, str] = {}
    for path in paths:
        name = resource_parameter(path)
        if name in seen:
            raise ValueError(f"paths {seen[name]!r} and {path!r} would share the stack parameter {name}")
        seen[name] = path


class MethodGroupStack(NestedStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        group: str,
        paths: Sequence[str],
        routes: Sequence[Route],
        all_routes: Sequence[Route],
        rest_api_id: str,
        resource_ids: Mapping[str, str],
        authorizer_id: str,
        not_allowed_arn: str,
        function_name: Callable[[Route], str],
        settings: Settings,
    ) -> None:
        super().__init__(scope, id, description=f"Kiln API methods, group {group!r}")
        self.group = group
        rest_api = apigw.RestApi.from_rest_api_id(self, "RestApi", self._import("RestApiId", rest_api_id))
        resources: dict[str, apigw.IResource] = {}

        def resource_for(path: str) -> apigw.IResource:
            if path not in resources:
                resources[path] = apigw.Resource.from_resource_attributes(
                    self,
                    f"Path{pascal(path)}",
                    resource_id=self._import(resource_parameter(path), resource_ids[path]),
                    rest_api=rest_api,
                    path=path,
                )
            return resources[path]

        self.methods = add_methods(
            resource_for,
            paths=paths,
            routes=routes,
            all_routes=all_routes,
            not_allowed_uri=arn_invocation_uri(self._import("MethodNotAllowedArn", not_allowed_arn)) if paths else "",
            authorizer=AuthorizerRef(self._import("AuthorizerId", authorizer_id))
            if any(r.authorized for r in routes)
            else None,
            function_name=function_name,
            settings=settings,
        )

    def _import(self, name: str, value: str) -> str:
        """A root stack value as a parameter of this stack (declared once per name)."""
        existing = self.node.try_find_child(name)
        if isinstance(existing, CfnParameter):
            return existing.value_as_string
        self.set_parameter(name, value)
        return CfnParameter(self, name, type="String").value_as_string

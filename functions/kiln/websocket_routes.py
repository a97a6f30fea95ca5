"""The WebSocket API's routes (CONTRACT section 8, real time), declared once.

Not rows of kiln.routes: that table is the REST API's (methods, paths, scopes, rate categories,
OpenAPI), and a WebSocket route has none of those. Read by CDK (infra/realtime.py: one function
and one integration per route), the local cloud's WebSocket endpoint (local/websocket.py) and
the tests. Every client message goes to `$default`, whose function reads its `type`; API
Gateway's route selection still needs an expression, and `action` is the field no message has.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SocketRoute:
    route_key: str  # $connect, $disconnect or $default
    handler: str  # module name under kiln.handlers
    summary: str
    # What the function's role may touch, in kiln.routes.GRANTS' vocabulary.
    grants: tuple[str, ...] = ()

    @property
    def handler_ref(self) -> str:
        return f"kiln.handlers.{self.handler}.handler"

    @property
    def function_id(self) -> str:
        return "".join(part.capitalize() for part in self.handler.split("_"))


SOCKET_ROUTES: tuple[SocketRoute, ...] = (
    # Credentials on $connect are optional (a `token` query parameter or Authorization header):
    # browsers cannot set headers on a WebSocket, so the `auth` message is the usual way.
    SocketRoute(
        "$connect",
        "ws_connect",
        "Opens a connection; authenticates it at once when it brings credentials",
        grants=("table:read", "table:touch", "connections:write", "signing-keys:read"),
    ),
    SocketRoute(
        "$disconnect", "ws_disconnect", "Forgets a connection and its subscriptions", grants=("connections:write",)
    ),
    SocketRoute(
        "$default",
        "ws_message",
        "One client message: auth, subscribe (stored events, then live ones) or unsubscribe",
        grants=("table:read", "table:touch", "connections:write", "connections:post", "signing-keys:read"),
    ),
)

ROUTE_SELECTION_EXPRESSION = "$request.body.action"
# Where the local cloud serves the WebSocket API, on the REST gateway's own port.
LOCAL_PATH = "/ws"


def socket_route(route_key: str) -> SocketRoute:
    """The route for an API Gateway routeKey; an unknown key is served by $default, as API Gateway does."""
    return next((r for r in SOCKET_ROUTES if r.route_key == route_key), SOCKET_ROUTES[-1])

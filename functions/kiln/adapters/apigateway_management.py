"""Messages to WebSocket clients through API Gateway's management API (kiln.domain.live.Outbox).

`PostToConnection` on the WebSocket API's own endpoint (`https://<api>.execute-api.<region>.
amazonaws.com/<stage>`; the local cloud answers the same calls on its gateway's port). A 410
`GoneException` means the client went away without a `$disconnect` reaching us (which API
Gateway only does best-effort): the caller forgets the connection.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from kiln import config

# A post is small and the fan-out has more to send: fail fast and let the stream retry the batch.
# One attempt: a post whose answer was lost may have reached the client, so the SDK must not send
# it again on its own; the drain that failed releases its cursor before that event and the retried
# batch sends it once more (at least once, in order; clients skip an id they have seen).
_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=5)


class ConnectionOutbox:
    def __init__(self, endpoint_url: str | None = None) -> None:
        self._endpoint_url = endpoint_url
        self._client: Any = None
        self._lock = threading.Lock()

    def _management(self) -> Any:
        # Built on first use, once: its endpoint is the WebSocket API's, not the region's default.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    endpoint = self._endpoint_url or config.websocket_endpoint()
                    self._client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=_CONFIG)
        return self._client

    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            self._management().post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "GoneException":
                return False
            raise
        return True

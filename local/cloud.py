"""LocalCloud: emulated AWS, provisioned resources, the bootstrap admin key and the gateway."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from kiln import config, services
from kiln.http.cors import CorsPolicy, check_origins
from kiln.websocket_routes import LOCAL_PATH
from local.aws import AwsEmulator
from local.constants import STAGE
from local.gateway import Gateway, GatewayServer
from local.previews import LocalPreviews
from local.provision import Resources, client, configure_environment, provision
from local.usage_plans import UsagePlanDirectory, UsagePlanEnforcer
from local.websocket import LocalSockets


class LocalCloud:
    """The whole local cloud in this process. `start()` returns once requests can be served."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 3001,
        moto_port: int = 0,
        admin_key: str | None = None,
        admin_tier: str = "enterprise",
        admin_workspace: str = "admin",
        admin_person: tuple[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.moto_port = moto_port
        self._requested_admin_key = admin_key
        self.admin_tier = admin_tier
        self.admin_workspace = admin_workspace
        self.admin_key: str | None = None
        # (email, password) of a person to add to the admin workspace; only its email is kept.
        self._requested_person = admin_person
        self.admin_email: str | None = None
        self.resources: Resources | None = None
        self._aws: AwsEmulator | None = None
        self._server: GatewayServer | None = None
        self._gateway: Gateway | None = None
        self._pollers: list[Any] = []  # local.event_sources: the stream's and the delivery queue's
        self._previews: LocalPreviews | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{shown}:{self._server.port}"

    @property
    def moto_url(self) -> str:
        assert self._aws is not None, "not started"
        return self._aws.url

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        # Read before anything starts, so a malformed list fails at once. The gateway answers
        # preflights and its own errors from it; the in-process handlers read the same variable.
        cors = CorsPolicy(check_origins(config.cors_allowed_origins()))
        # Bind both ports first: a port already in use fails in a second, not after provisioning.
        self._aws = AwsEmulator(port=self.moto_port)
        # The WebSocket API shares the gateway's port (ws://<host>:<port>/ws).
        self._server = GatewayServer(self._serve, host=self.host, port=self.port, sockets=LocalSockets())
        self._aws.start()

        # Before any handler module is imported, so its boto3 clients are built against moto.
        configure_environment(self._aws.url, self._aws.port)
        # CONTRACT section 8: the local cloud alone delivers webhooks to this machine, and runs the
        # retry schedule shortened (0.01: the 5 s and 5 min retries come after 0.05 s and 3 s).
        os.environ.setdefault(config.WEBHOOK_ALLOW_LOOPBACK, "true")
        os.environ.setdefault(config.WEBHOOK_RETRY_SCALE, "0.01")
        self.resources = provision(self._aws.url)
        os.environ.update(self.resources.environment())
        # Functions answer WebSocket clients through the management API, which the gateway serves.
        os.environ[config.WEBSOCKET_ENDPOINT] = self.url + LOCAL_PATH
        os.environ[config.API_URL] = self.url  # the issuer of access tokens a WebSocket receives
        # Deploy previews run as processes of this machine (local.previews); stop() ends them all.
        self._previews = LocalPreviews()
        self._previews.start()
        os.environ[config.LOCAL_PREVIEWS_URL] = self._previews.url
        # Settings loaded before (another cloud in this process) name another moto's resources,
        # and a composition root built then holds that cloud's cursor secret: start both afresh.
        config.reset()
        services.reset()
        # Each function checks its kind of settings at its cold start; check every kind now, so a
        # malformed variable stops the start with its message instead of failing requests.
        for kind in (config.AuthorizerSettings, config.ApiSettings, config.WorkerSettings, config.LiveSettings):
            config.load(kind)

        from kiln.bootstrap import provision_admin

        self.admin_key = provision_admin(
            secret=self._requested_admin_key, workspace_name=self.admin_workspace, tier=self.admin_tier
        )
        if self._requested_person is not None:
            from kiln.bootstrap import provision_person

            self.admin_email = provision_person(self.admin_key, *self._requested_person)
            self._requested_person = None  # the password is not kept once hashed

        directory = UsagePlanDirectory(client("apigateway", self._aws.url), self.resources.rest_api_id, STAGE)
        self._gateway = Gateway(self.resources.rest_api_id, UsagePlanEnforcer(directory), cors=cors)
        self._server.start()
        self._start_event_sources()

    def _start_event_sources(self) -> None:
        """Poll the table's stream and the delivery queue as Lambda's event source mappings do."""
        from local.event_sources import QueuePoller, StreamPoller, moto_stream_trimmer

        assert self._aws is not None and self.resources is not None
        self._pollers = [
            StreamPoller(
                client("dynamodbstreams", self._aws.url),
                self.resources.table_stream_arn,
                trim=moto_stream_trimmer(self.resources.table_name),
            ),
            QueuePoller(
                client("sqs", self._aws.url), self.resources.delivery_queue_url, self.resources.delivery_queue_arn
            ),
        ]
        for poller in self._pollers:
            poller.start()

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self._gateway is not None  # the server starts only after the gateway exists
        return self._gateway(environ, start_response)

    def stop(self) -> None:
        with self._lock:
            pollers, self._pollers = self._pollers, []
            server, self._server = self._server, None
            aws, self._aws = self._aws, None
            previews, self._previews = self._previews, None
            resources = self.resources
        for poller in pollers:
            poller.stop()
        if server is not None:
            server.stop()
        if previews is not None:
            previews.stop()  # every preview's process, so none outlives the cloud that started it
        if aws is not None and resources is not None and "preview" in resources.state_machines:
            from local.previews import stop_executions

            # Each waits for its preview's expiry in a thread of its own, which would keep the
            # process alive that long after the cloud stopped.
            with contextlib.suppress(Exception):
                stop_executions(client("stepfunctions", aws.url), resources.state_machines["preview"])
        if aws is not None:
            aws.stop()

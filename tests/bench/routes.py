"""Cold-start scenarios for every route that has no hand-written bare twin in bare/.

`CASES` is the table: one row per route of kiln.routes.ROUTES, naming what the request needs
(a project, a spec, a run, a person, a webhook...) and how its body, query and headers are
built. What a request needs is seeded through Kiln's own handlers, called in this process the
way a client calls the API (`Api`), so a seed never restates how the service stores anything:
an approved project is a project created, clarified, answered and approved. A seed is made
afresh for every request that changes or consumes what it is given (archiving, cancelling,
deleting, exchanging a code), and once for the reads. The workflows' state machines here are
Pass states (moto records an execution, nothing runs it), so what a workflow would do next for
a seed (a build, an export, a conversion) is done in this process by the same step code
(kiln.domain.build_steps, the archive steps), the sandbox's checks run in-process.

Each route's bare twin is generated: the bench process serves the request once with Kiln's
handler against the same emulated account, records every AWS call it makes (service,
operation, parameters) from a fresh container, and writes a module that imports boto3 and
makes exactly those calls with those parameters, then answers a fixed JSON body: the same AWS
work with no framework, by construction. A write replayed on state that has moved on (a
condition no longer true, an execution name already used) fails at the service, which is the
same round trip; the twin ignores the error. A route whose request makes no AWS call gets a
twin that does not import boto3 either (its ratio compares Kiln's imports with `import json`).

The expected status is the route's success status, except where `refusal` says why success
needs something the bench cannot give; any other answer makes the row FAILED.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import logging
import re
import secrets
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3

from tests.bench.world import BUCKET, METHOD_ARN, Scenario, World, reset_kiln, sample_answer, status_of
from tests.unit.conftest import proxy_event

PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:8765/callback"
DESCRIPTION = "A project management tool with team collaboration features, task boards, and time tracking."

Values = dict[str, str]


class SeedError(RuntimeError):
    """A seeding request did not answer its success status."""


@dataclass
class Api:
    """Kiln's handlers called in this process, as the admin key of an enterprise workspace (its
    limits leave room for every seed and sample). What a read needs is made once (`once`)."""

    world: World
    secret: str = ""
    workspace_id: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def once(self, name: str, make: Callable[[], Any]) -> Any:
        """make(), called the first time only; a failure is kept too (a broken seed is tried once)."""
        if name not in self.cache:
            try:
                self.cache[name] = make()
            except Exception as error:  # noqa: BLE001 - raised again for every route that needs it
                self.cache[name] = error
        if isinstance(self.cache[name], Exception):
            raise self.cache[name]
        return self.cache[name]

    def authorize(self, headers: dict[str, str]) -> dict[str, Any]:
        """The context the real authorizer gives a request with these headers."""
        from kiln.handlers import authorizer
        from local.gateway import request_authorizer_event

        answer = authorizer.handler(
            request_authorizer_event(proxy_event("GET", "/v1/projects", headers=headers), METHOD_ARN)
        )
        return dict(answer["context"])

    def event(
        self,
        name: str,
        params: Values | None = None,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
        query: dict[str, str | list[str]] | None = None,
        headers: dict[str, str] | None = None,
        context: dict[str, Any] | None = None,
        archive: bytes | None = None,
    ) -> dict[str, Any]:
        from kiln.routes import ROUTES

        route = next(r for r in ROUTES if r.name == name)
        path = route.path
        used = {p: (params or {})[p] for p in route.path_params}
        for key, value in used.items():
            path = re.sub(r"{" + key + r"\+?}", value, path)
        headers = dict(headers or {})
        raw = None
        if form is not None:
            raw = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if archive is not None:  # a binary body, base64-encoded as API Gateway passes it
            raw = base64.b64encode(archive).decode()
            headers["Content-Type"] = "application/zip"
        if context is None:
            context = self.context if route.authorized else {}
        event = proxy_event(
            route.method,
            route.path,
            path,
            body=body,
            raw_body=raw,
            query=query,
            headers=headers,
            path_params=used or None,
            authorizer=context,
        )
        event["isBase64Encoded"] = archive is not None
        return event

    def call(self, name: str, params: Values | None = None, expect: int | None = None, **kwargs: Any) -> dict[str, Any]:
        """The response of route `name`; SeedError unless it answers `expect` (the route's status)."""
        from kiln.routes import ROUTES

        route = next(r for r in ROUTES if r.name == name)
        module = importlib.import_module(f"kiln.handlers.{route.handler}")
        response: dict[str, Any] = module.handler(self.event(name, params, **kwargs), None)
        if response.get("statusCode") != (expect or route.status):
            raise SeedError(f"seeding {name} answered {response.get('statusCode')}: {str(response.get('body'))[:300]}")
        return response

    def data(self, name: str, params: Values | None = None, **kwargs: Any) -> Any:
        return json.loads(self.call(name, params, **kwargs)["body"])["data"]

    # --- seeds: each returns the values a request's path, body or headers are built from ------

    def project(self) -> Values:
        made = self.data("projects_create", body={"name": "Bench routes", "description": DESCRIPTION})
        return {"projectId": made["id"]}

    def clarifying(self) -> Values:
        values = self.project()
        values["questions"] = json.dumps(self.data("specs_clarify", values)["questions"])
        return values

    def reviewing(self) -> Values:
        values = self.clarifying()
        self.data("specs_answer", values, body=_answers(values))
        return values

    def approved(self) -> Values:
        values = self.reviewing()
        self.data("specs_approve", values)
        return values

    def run(self) -> Values:
        """A running run (its workflow started in moto, where nothing executes it)."""
        values = self.approved()
        values["runId"] = self.data("runs_create", values)["id"]
        return values

    def cancelled_run(self) -> Values:
        values = self.run()
        self.data("runs_cancel", values)
        return values

    def built(self) -> Values:
        """A succeeded run: its steps run here (kiln.domain.build_steps.run_sequentially), with
        the generated code checked in-process instead of in the sandbox function."""

        def build() -> Values:
            from kiln import services
            from kiln.domain.build_steps import RunRef, run_sequentially
            from tests.fakes.generation import FakeSandbox

            values = self.run()
            root = services.build(sandbox=FakeSandbox())
            outcome = run_sequentially(
                root.build_steps, RunRef(self.workspace_id, values["projectId"], values["runId"])
            )
            if outcome.get("status") != "succeeded":
                raise SeedError(f"the seeded build ended {outcome}")
            values["taskId"] = self.data("tasks_list", values)[0]["id"]
            listing = self.data("files_list", values)["entries"]
            values["path"] = next(entry["name"] for entry in listing if entry["type"] == "file")
            return values

        return dict(self.once("built", build))

    def deployment(self) -> Values:
        values = self.built()
        values["deploymentId"] = self.data("deployments_create", values, body={"runId": values["runId"]})[
            "deploymentId"
        ]
        return values

    def export(self) -> Values:
        values = self.built()
        values["exportId"] = self.data("exports_create", values, body={})["id"]
        return values

    def finished_export(self) -> Values:
        """An export made: the archive workflow's export step run here (nothing runs it in moto)."""
        from kiln import services

        values = self.export()
        services.current().archive_steps.run_export(self.workspace_id, values["exportId"])
        return values

    def current_kiln(self) -> Values:
        """The `.kiln` export of the project's current main, asked for and made."""
        from kiln import services

        values = self.built()
        started = self.data("exports_current_kiln", values, expect=202)
        services.current().archive_steps.run_export(self.workspace_id, started["id"])
        return values

    def finished_conversion(self) -> Values:
        from kiln import services

        values = self.conversion()
        services.current().archive_steps.run_conversion(self.workspace_id, values["callbackId"])
        return values

    def upload(self) -> Values:
        """An upload of a small project archive, its bytes put where the presigned URL points."""
        content = _archive()
        made = self.data(
            "uploads_create",
            body={"filename": "bench.zip", "contentType": "application/zip", "sizeBytes": len(content)},
        )
        boto3.client("s3").put_object(Bucket=BUCKET, Key=made["fields"]["key"], Body=content)
        return {"uploadId": made["uploadId"]}

    def conversion(self) -> Values:
        values = self.upload()
        made = self.data("conversions_create", body={"uploadId": values["uploadId"], "to": "tar.gz"})
        values["callbackId"] = made.get("callbackId") or made["id"]
        return values

    def workspace(self) -> Values:
        return {"workspaceId": self.data("workspaces_create", body={"name": "Bench", "tier": "free"})["id"]}

    def key(self) -> Values:
        return {"keyId": self.data("api_keys_create", body={"name": "bench", "scopes": ["project:read"]})["id"]}

    def person(self) -> Values:
        email = f"person-{secrets.token_hex(6)}@example.com"
        body = {"email": email, "name": "Ada", "password": PASSWORD, "scopes": ["project:read", "project:write"]}
        return {"userId": self.data("users_create", body=body)["id"], "email": email}

    def session(self) -> Values:
        """A signed-in person: the cookie's token, its CSRF token and the authorizer's context."""
        values = self.person()
        response = self.call("sessions_create", body={"email": values["email"], "password": PASSWORD})
        cookie = _header(response, "Set-Cookie").split(";")[0]
        values["cookie"] = cookie
        values["csrf"] = json.loads(response["body"])["data"]["csrfToken"]
        values["context"] = json.dumps(self.authorize({"Cookie": cookie}))
        return values

    def client(self) -> Values:
        body = {"name": "Bench", "redirectUris": [REDIRECT], "scopes": ["project:read"]}
        return {"clientId": self.data("oauth_clients_create", body=body)["clientId"]}

    def authorization(self) -> Values:
        """A client, a person and the query of an authorization request (PKCE S256)."""
        from kiln.domain.oauth import s256

        values = {**self.once("oauth client", self.client), **self.once("oauth person", self.person)}
        verifier = secrets.token_urlsafe(48)
        values["verifier"] = verifier
        request = {
            "response_type": "code",
            "client_id": values["clientId"],
            "redirect_uri": REDIRECT,
            "scope": "project:read",
            "state": "xyz",
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
        values["request"] = json.dumps(request)
        return values

    def code(self) -> Values:
        """An authorization code through the real pages: sign in, then approve."""
        values = self.authorization()
        request = json.loads(values["request"])
        signed = self.call(
            "oauth_authorize_submit",
            form={**request, "action": "sign_in", "email": values["email"], "password": PASSWORD},
        )
        found = re.search(r'name="csrf_token" value="([^"]+)"', signed["body"])
        if not found:
            raise SeedError("the sign-in page holds no CSRF token")
        approved = self.call(
            "oauth_authorize_submit",
            expect=303,
            form={**request, "action": "approve", "csrf_token": found.group(1)},
            headers={"Cookie": _header(signed, "Set-Cookie").split(";")[0]},
        )
        values["code"] = parse_qs(urlsplit(_header(approved, "Location")).query)["code"][0]
        return values

    def tokens(self) -> Values:
        values = self.code()
        form = {
            "grant_type": "authorization_code",
            "code": values["code"],
            "redirect_uri": REDIRECT,
            "client_id": values["clientId"],
            "code_verifier": values["verifier"],
        }
        answer = json.loads(self.call("oauth_token", form=form)["body"])
        return {**values, "access": answer["access_token"], "refresh": answer["refresh_token"]}

    def webhook(self) -> Values:
        body = {"url": "http://127.0.0.1:9/kiln", "events": ["project.created"]}
        return {"webhookId": self.data("webhooks_create", body=body)["id"]}

    def delivery(self) -> Values:
        def make() -> Values:
            values = self.webhook()
            values["deliveryId"] = self.data("webhooks_test", values)["id"]
            return values

        return dict(self.once("delivery", make))


def _archive() -> bytes:
    """A small zip of a project's files, as a client imports one."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("README.md", "# Imported by the bench\n")
    return archive.getvalue()


def _header(response: dict[str, Any], name: str) -> str:
    for headers in (response.get("headers") or {}, response.get("multiValueHeaders") or {}):
        for key, value in headers.items():
            if key.lower() == name.lower():
                return str(value[0] if isinstance(value, list) else value)
    raise SeedError(f"no {name} header in {sorted(response.get('headers') or {})}")


Seed = Callable[[Api], Values]
Part = Callable[[Values], Any]


def _none(api: Api) -> Values:
    return {}


def _shared(name: str) -> Seed:
    """The seed `name` (an Api method), made once and read by every sample."""
    return lambda api: dict(api.once(name, getattr(api, name)))


def _fresh(name: str) -> Seed:
    """The seed `name` made anew for each request: the request changes or consumes it."""
    return lambda api: getattr(api, name)()


@dataclass(frozen=True)
class Case:
    """How to build one route's representative request: the seed, then each part from its values."""

    seed: Seed = _none
    body: Part | None = None
    form: Part | None = None
    query: Part | None = None
    headers: Part | None = None
    context: Part | None = None  # the authorizer's context, when not the admin key's
    archive: bool = False  # the body is a project archive (zip), not JSON
    slash: bool = False  # the path ends with "/" (GET /app/, where the console's relative URLs resolve)
    status: int | None = None  # expected, when not the route's success status
    refusal: str = ""  # why the expected status is not the success status
    # A hand-written twin under tests/bench/bare (and what it is), where replaying AWS calls is not
    # the same work: /mcp calls none, and its floor is the MCP SDK any such server loads.
    twin: tuple[str, str] | None = None

    def event(self, api: Api, name: str) -> dict[str, Any]:
        values = self.seed(api)
        event = api.event(
            name,
            values,
            body=self.body(values) if self.body else None,
            form=self.form(values) if self.form else None,
            query=self.query(values) if self.query else None,
            headers=self.headers(values) if self.headers else None,
            context=self.context(values) if self.context else None,
            archive=_archive() if self.archive else None,
        )
        if self.slash:
            event["path"] += "/"
        return event


def _session_context(values: Values) -> dict[str, Any]:
    return dict(json.loads(values["context"]))


def _answers(values: Values) -> dict[str, Any]:
    return {"answers": [{"questionId": q["id"], "answer": sample_answer(q)} for q in json.loads(values["questions"])]}


CASES: dict[str, Case] = {
    "oauth_metadata": Case(),
    "oauth_jwks": Case(),
    "oauth_authorize": Case(_fresh("authorization"), query=lambda v: json.loads(v["request"])),
    "oauth_authorize_submit": Case(
        _fresh("authorization"),
        form=lambda v: {**json.loads(v["request"]), "action": "sign_in", "email": v["email"], "password": PASSWORD},
    ),
    "oauth_token": Case(
        _fresh("code"),
        form=lambda v: {
            "grant_type": "authorization_code",
            "code": v["code"],
            "redirect_uri": REDIRECT,
            "client_id": v["clientId"],
            "code_verifier": v["verifier"],
        },
    ),
    "oauth_revoke": Case(_fresh("tokens"), form=lambda v: {"token": v["refresh"], "client_id": v["clientId"]}),
    "oauth_introspect": Case(_shared("tokens"), form=lambda v: {"token": v["access"]}),
    "oauth_clients_create": Case(
        body=lambda v: {"name": "Bench", "redirectUris": [REDIRECT], "scopes": ["project:read"]}
    ),
    "oauth_clients_list": Case(),
    "oauth_clients_delete": Case(_fresh("client")),
    "specs_clarify": Case(_fresh("project")),
    "specs_answer": Case(_fresh("clarifying"), body=_answers),
    "specs_regenerate": Case(_fresh("reviewing"), body=lambda v: {"feedback": "Shorter, please."}),
    "specs_approve": Case(_fresh("reviewing")),
    "specs_get": Case(_shared("reviewing")),
    "files_list": Case(_shared("built")),
    "files_get": Case(_shared("built")),
    "runs_create": Case(_fresh("approved")),
    "runs_list": Case(_shared("built")),
    "runs_get": Case(_shared("built")),
    "runs_cancel": Case(_fresh("run")),
    "runs_retry": Case(_fresh("cancelled_run")),
    "tasks_list": Case(_shared("built")),
    "tasks_get": Case(_shared("built")),
    "events_list": Case(_shared("built")),
    "events_stream": Case(_shared("built")),
    "deployments_create": Case(_shared("built"), body=lambda v: {"runId": v["runId"]}),
    "deployments_list": Case(_shared("deployment")),
    "deployments_get": Case(_shared("deployment")),
    "deployments_delete": Case(_fresh("deployment")),
    "exports_create": Case(_shared("built"), body=lambda v: {}),
    "exports_create_legacy": Case(_shared("built"), body=lambda v: {}),
    "exports_get": Case(_shared("finished_export")),
    "exports_download": Case(_shared("finished_export")),
    "exports_current_kiln": Case(_shared("current_kiln")),
    "uploads_create": Case(
        body=lambda v: {"filename": "bench.zip", "contentType": "application/zip", "sizeBytes": 1024}
    ),
    "projects_import": Case(archive=True),
    "conversions_create": Case(_fresh("upload"), body=lambda v: {"uploadId": v["uploadId"], "to": "tar.gz"}),
    "conversions_create_legacy": Case(_fresh("upload"), body=lambda v: {"uploadId": v["uploadId"], "to": "tar.gz"}),
    "conversions_get": Case(_shared("conversion")),
    "conversions_get_legacy": Case(_shared("conversion")),
    "operations_get": Case(_shared("finished_conversion")),
    "workspaces_create": Case(body=lambda v: {"name": "Bench", "tier": "free"}),
    "workspaces_list": Case(),
    "workspaces_get": Case(_shared("workspace")),
    "workspaces_update": Case(_fresh("workspace"), body=lambda v: {"tier": "pro"}),
    "api_keys_create": Case(body=lambda v: {"name": "bench", "scopes": ["project:read"]}),
    "api_keys_list": Case(),
    "api_keys_revoke": Case(_fresh("key")),
    "api_keys_rotate": Case(_fresh("key")),
    "admin_stats": Case(),
    "users_create": Case(
        body=lambda v: {
            "email": f"person-{secrets.token_hex(6)}@example.com",
            "name": "Ada",
            "password": PASSWORD,
            "scopes": ["project:read"],
        }
    ),
    "users_list": Case(),
    "users_get": Case(_shared("person")),
    "users_update": Case(_shared("person"), body=lambda v: {"name": "Ada Lovelace"}),
    "users_delete": Case(_fresh("person")),
    "sessions_create": Case(_fresh("person"), body=lambda v: {"email": v["email"], "password": PASSWORD}),
    "sessions_current_get": Case(
        _shared("session"), headers=lambda v: {"Cookie": v["cookie"]}, context=_session_context
    ),
    "sessions_current_delete": Case(
        _fresh("session"),
        headers=lambda v: {"Cookie": v["cookie"], "X-CSRF-Token": v["csrf"]},
        context=_session_context,
    ),
    "webhooks_create": Case(body=lambda v: {"url": "http://127.0.0.1:9/kiln", "events": ["project.created"]}),
    "webhooks_list": Case(),
    "webhooks_get": Case(_shared("webhook")),
    "webhooks_update": Case(_shared("webhook"), body=lambda v: {"description": "Renamed by the bench"}),
    "webhooks_delete": Case(_fresh("webhook")),
    "webhooks_rotate_secret": Case(_shared("webhook")),
    "webhooks_test": Case(_shared("webhook")),
    "webhooks_deliveries_list": Case(_shared("delivery")),
    "webhooks_deliveries_redeliver": Case(_shared("delivery")),
    "events_create": Case(body=lambda v: {"type": "custom.bench.tick", "data": {"n": 1}}),
    "docs_openapi": Case(),
    "docs_ui": Case(),
    "docs_assets": Case(lambda api: {"asset": "LICENSE"}),
    "console": Case(slash=True),
    "console_assets": Case(lambda api: {"file": "app.js"}),
    "mcp": Case(
        body=lambda v: {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers=lambda v: {"Accept": "application/json, text/event-stream"},
        twin=("mcp", "bare: the MCP SDK's own server"),
    ),
}


def extend(world: World) -> Api:
    """What the routes need beyond the project handlers' world: the signing keys, the webhook
    delivery queue, a state machine per workflow (a Pass state: moto records each execution,
    nothing runs it), and an enterprise workspace whose admin key every request is made with."""
    import os
    import time

    from kiln import config
    from kiln.bootstrap import provision_admin
    from kiln.domain.tokens import KeySet
    from kiln.routes import WORKFLOWS

    stepfunctions = boto3.client("stepfunctions")
    machines = json.loads(world.env[config.STATE_MACHINES])
    for workflow in WORKFLOWS:
        if workflow.name not in machines:
            machines[workflow.name] = stepfunctions.create_state_machine(
                name=f"kiln-bench-{workflow.name}",
                definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
                roleArn="arn:aws:iam::123456789012:role/kiln-bench",
            )["stateMachineArn"]
    keys = boto3.client("secretsmanager").create_secret(
        Name="kiln-bench-signing-keys", SecretString=KeySet.initial(int(time.time())).to_json()
    )["ARN"]
    queue = boto3.client("sqs").create_queue(QueueName="kiln-bench-deliveries")["QueueUrl"]
    env = {
        config.STATE_MACHINES: json.dumps(machines),
        config.SIGNING_KEYS_SECRET_ARN: keys,
        config.DELIVERY_QUEUE_URL: queue,
        config.SANDBOX_FUNCTION: "kiln-bench-sandbox",
        # Webhook targets must resolve; the bench's is a closed local port (nothing is delivered).
        config.WEBHOOK_ALLOW_LOOPBACK: "true",
        # /mcp's tools call the API over HTTP; listing them calls nothing, but the URL must be set.
        config.API_URL: "http://127.0.0.1:9/prod",
    }
    world.env.update(env)
    os.environ.update(env)
    reset_kiln()
    api = Api(world)
    api.secret = provision_admin(workspace_name="bench-routes")
    api.context = api.authorize({"Authorization": f"Bearer {api.secret}"})
    api.workspace_id = api.context["workspaceId"]
    return api


TWIN = '''"""Generated bare twin of {name}: the AWS calls Kiln's handler made, replayed with boto3."""

import json
import logging

{imports}CALLS = {calls!r}
_clients = {{}}


def handler(event, context=None):
{body}    return {{"statusCode": {status}, "headers": {{"Content-Type": "application/json"}},
            "body": json.dumps({{"success": True, "data": {{}}}}), "isBase64Encoded": False}}
'''
# One attempt per call: a replayed write the service refuses (moto answers a few with a 500,
# which botocore would retry with back-off) costs its round trip, as Kiln's call that succeeded did.
REPLAY = """    for service, operation, params in CALLS:
        if service not in _clients:
            _clients[service] = boto3.client(service, config=Config(retries={"total_max_attempts": 1}))
        try:
            getattr(_clients[service], operation)(**params)
        except Exception:  # a condition no longer true: the same round trip
            pass
"""


def _recorded(module: Any, event: dict[str, Any]) -> tuple[list[tuple[str, str, dict[str, Any]]], int]:
    from botocore.client import BaseClient

    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        python_name = self.meta.method_to_api_mapping and next(
            (name for name, api in self.meta.method_to_api_mapping.items() if api == operation), operation
        )
        calls.append((self.meta.service_model.service_name, python_name, params))
        return original(self, operation, params)

    BaseClient._make_api_call = recording
    try:
        answer = module.handler(event, None)
    finally:
        BaseClient._make_api_call = original
    return calls, status_of(answer)


def _replayable(value: Any) -> Any:
    """Parameters as a literal the twin can hold: bytes (an S3 body) stay bytes."""
    if isinstance(value, dict):
        return {k: _replayable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replayable(v) for v in value]
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return value
    return str(value)


@contextmanager
def _logging_kept() -> Iterator[None]:
    """The root logger as it was: some modules set logging up as they are imported (the MCP SDK
    puts a handler on the root logger at INFO), and what the bench prints stays the bench's."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def _event(api: Api, case: Case, name: str) -> Callable[[World], dict[str, Any]]:
    """Scenario.event of a generated scenario: the case's request, seeded anew when it must be."""
    return lambda world: case.event(api, name)


def scenarios(world: World, bare_dir: Path, wanted: set[str]) -> tuple[dict[str, Scenario], dict[str, str]]:
    """Scenarios for the `wanted` routes, their twins written to `bare_dir`, and why each route
    that could not be given one has none (its seed failed, or it answered another status)."""
    from kiln.routes import ROUTES

    routes = {r.name: r for r in ROUTES}
    api = extend(world)
    found: dict[str, Scenario] = {}
    failed: dict[str, str] = {}
    for name in sorted(wanted):
        case, route = CASES.get(name), routes.get(name)
        if case is None or route is None:
            failed[name] = "no case in tests/bench/routes.py"
            continue
        expected = case.status or route.status
        try:
            with _logging_kept():
                event = case.event(api, name)
                reset_kiln()  # a fresh container: the calls a cold start makes
                module = importlib.reload(importlib.import_module(f"kiln.handlers.{route.handler}"))
                calls, status = _recorded(module, event)
        except Exception as error:  # noqa: BLE001 - reported in the table, the others still run
            failed[name] = f"seed or first request failed: {error!r}"[:300]
            continue
        finally:
            reset_kiln()
        if status != expected:
            failed[name] = f"answered {status}, expected {expected}"
            continue
        label = f"{route.method} {route.path}"
        if case.twin is not None:  # cold.run copies tests/bench/bare/<file>.py as bare_<file>.py
            bare, what = case.twin
            label, twin_aws = f"{label} ({what})", True  # compared as a twin doing the same work
        else:
            bare, twin_aws = f"replay_{name}", bool(calls)
            twin = TWIN.format(
                name=name,
                imports="import boto3\nfrom botocore.config import Config\n\n" if calls else "\n",
                calls=_replayable(calls),
                body=REPLAY if calls else "",
                status=expected,
            )
            (bare_dir / f"bare_{bare}.py").write_text(twin)
        found[name] = Scenario(
            route.handler,
            label,
            bare,
            _event(api, case, name),
            expected,
            calls_aws=twin_aws,
            refusal=case.refusal,
        )
    return found, failed

"""The route table: every HTTP endpoint of Kiln, declared once.

Read by the Lambda wrapper (scope and rate category of the current request), the CDK API
construct (one Lambda function and one API Gateway method per route), the local API Gateway
emulator, the OpenAPI generator and the tests. Nothing else may list endpoints.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Literal

Method = Literal["GET", "POST", "PATCH", "PUT", "DELETE"]
Scope = Literal["project:read", "project:write", "ai:invoke", "admin"]
# Rate-limit category of the per-key sliding windows (CONTRACT section 4); "none" is not counted.
Category = Literal["read", "write", "ai", "none"]


@dataclass(frozen=True)
class Deprecation:
    """A legacy route that is served forever but points to its successor (CONTRACT section 5).

    The shared pipeline (kiln.http.deprecation) adds the headers to every answer of the route,
    errors included: `Deprecation: @<deprecated_at>` (RFC 9745), `Sunset: <sunset>` (RFC 8594)
    and `Link: <successor>; rel="successor-version"`, the successor's `{parameters}` filled
    from the request's path parameters.
    """

    successor: str  # path template of the successor route, e.g. "/v1/conversions/{callbackId}"
    deprecated_at: int = 1_764_028_800  # epoch seconds: 2025-11-25T00:00:00Z, when the REST routes replaced them
    # No earlier than this the route could stop answering: far out, because these routes are kept.
    sunset: str = "Fri, 31 Dec 2100 23:59:59 GMT"


@dataclass(frozen=True)
class Route:
    method: Method
    path: str  # API Gateway resource path, e.g. "/v1/projects/{projectId}"
    handler: str  # module name under kiln.handlers
    summary: str
    scopes: tuple[Scope, ...] = ()  # every listed scope is required; empty means public
    category: Category = "read"
    status: int = 200  # success status
    authorized: bool = True  # False: served without the authorizer (health, root)
    group: str = "core"  # which infra stack hosts the function (keeps stacks small)
    tags: tuple[str, ...] = field(default=())
    # What the function's own IAM role may touch; infra/ turns each grant into the narrowest
    # policy (see GRANTS). Least privilege is declared here, next to the route.
    grants: tuple[str, ...] = ()
    # The workspace's annual quota a successful call consumes (CONTRACT section 4, tiers.py).
    quota: Literal["builds", "exports"] | None = None
    # What an Idempotency-Key keeps of the first response (kiln.http.idempotency): all of it;
    # all but the one-time `secret` (a replay shows the key, never its secret again); or
    # nothing (a retry runs again: for responses holding short-lived credentials).
    replay: Literal["full", "without-secret", "none"] = "full"
    # Set on a legacy route: the pipeline adds its deprecation headers to every answer.
    deprecated: Deprecation | None = None
    # Only for a route sharing its handler module with another (a legacy form of its successor):
    # its own name, since function ids, operationIds and idempotency records are per route.
    route_name: str | None = None
    # The dependency layer its function runs with (layers/build.py): "mcp" adds the MCP SDK and
    # kiln_client to the usual dependencies, for the one function that serves MCP, so no other
    # function's cold start pays for them. Every route of a group shares one layer.
    layer: Literal["dependencies", "mcp"] = "dependencies"

    @property
    def name(self) -> str:
        """The route's unique name: its handler module's, unless `route_name` says otherwise."""
        return self.route_name or self.handler

    @property
    def handler_ref(self) -> str:
        return f"kiln.handlers.{self.handler}.handler"

    @property
    def function_grants(self) -> tuple[str, ...]:
        """The route's grants plus what the shared pipeline needs: every metered request
        counts against its key's window and its workspace's day (kiln.http.limits)."""
        if self.authorized and self.category != "none":
            return (*self.grants, "limits:count")
        return self.grants

    @property
    def function_id(self) -> str:
        """CamelCase id used for the Lambda construct and log group names."""
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def operation_id(self) -> str:
        head, *rest = self.name.split("_")
        return head + "".join(part.capitalize() for part in rest)

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{([^}+]+)\+?}", self.path))


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/health",
        "health",
        "Service health with component checks",
        authorized=False,
        category="none",
        tags=("service",),
        grants=("health:check",),
    ),
    Route(
        "GET",
        "/",
        "root",
        "Service name, version and documentation link",
        authorized=False,
        category="none",
        tags=("service",),
    ),
    # OAuth discovery (CONTRACT section 7): public, like /health, and not enveloped.
    Route(
        "GET",
        "/.well-known/oauth-authorization-server",
        "oauth_metadata",
        "OAuth 2.1 authorization server metadata (RFC 8414)",
        authorized=False,
        category="none",
        tags=("oauth",),
        group="identity",
    ),
    Route(
        "GET",
        "/.well-known/jwks.json",
        "oauth_jwks",
        "The public keys access tokens are signed with (JWKS)",
        authorized=False,
        category="none",
        tags=("oauth",),
        group="identity",
        grants=("signing-keys:read",),
    ),
    # The sign-in and consent pages (CONTRACT section 7): HTML for a browser's top-level
    # navigation, so no authorizer (the function reads the session cookie itself), no envelope,
    # no CORS. Both methods share one module; the form's POST has a name of its own.
    Route(
        "GET",
        "/oauth/authorize",
        "oauth_authorize",
        "The OAuth sign-in and consent page of an authorization request (HTML)",
        authorized=False,
        category="none",
        tags=("oauth",),
        group="identity",
        grants=("table:write",),  # reading the session records its use (at most once a minute)
    ),
    Route(
        "POST",
        "/oauth/authorize",
        "oauth_authorize",
        "Sign in, approve or deny an authorization request (the pages' form)",
        authorized=False,
        category="none",
        tags=("oauth",),
        group="identity",
        grants=("table:write",),  # sessions, the sign-in throttle, authorization codes
        route_name="oauth_authorize_submit",
    ),
    # The token endpoints (CONTRACT section 7): form-encoded, RFC 6749 error JSON, not the
    # envelope. Token and revoke are public (a public client has no credential but its code or
    # refresh token); nothing holding tokens is ever replayed.
    Route(
        "POST",
        "/oauth/token",
        "oauth_token",
        "Exchange an authorization code (PKCE) or a refresh token for tokens",
        authorized=False,
        category="none",
        tags=("oauth",),
        group="identity",
        grants=("table:write", "signing-keys:read"),
        replay="none",
    ),
    Route(
        "POST",
        "/oauth/revoke",
        "oauth_revoke",
        "Revoke a refresh or access token, and its grant (RFC 7009)",
        authorized=False,
        category="none",
        tags=("oauth",),
        group="identity",
        grants=("table:write", "signing-keys:read"),
        replay="none",
    ),
    Route(
        "POST",
        "/oauth/introspect",
        "oauth_introspect",
        "Describe a token of this workspace (RFC 7662)",
        scopes=("admin",),
        category="read",
        tags=("oauth",),
        group="identity",
        grants=("table:read", "signing-keys:read"),
        replay="none",
    ),
    # OAuth clients of a workspace: registering an app that can obtain people's tokens is an admin act.
    Route(
        "POST",
        "/v1/oauth/clients",
        "oauth_clients_create",
        "Register a public OAuth client (redirect URIs matched exactly)",
        scopes=("admin",),
        category="write",
        status=201,
        tags=("oauth",),
        group="identity",
        grants=("table:write",),
    ),
    Route(
        "GET",
        "/v1/oauth/clients",
        "oauth_clients_list",
        "List the workspace's OAuth clients",
        scopes=("admin",),
        category="read",
        tags=("oauth",),
        group="identity",
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "DELETE",
        "/v1/oauth/clients/{clientId}",
        "oauth_clients_delete",
        "Remove an OAuth client and revoke its grants",
        scopes=("admin",),
        category="write",
        status=204,
        tags=("oauth",),
        group="identity",
        grants=("table:write",),
    ),
    Route(
        "POST",
        "/v1/projects",
        "projects_create",
        "Create a project",
        scopes=("project:write",),
        category="write",
        status=201,
        tags=("projects",),
        grants=("table:write",),
    ),
    Route(
        "GET",
        "/v1/projects",
        "projects_list",
        "List projects (page or cursor mode)",
        scopes=("project:read",),
        category="read",
        tags=("projects",),
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}",
        "projects_get",
        "Get a project",
        scopes=("project:read",),
        category="read",
        tags=("projects",),
        grants=("table:read",),
    ),
    Route(
        "PATCH",
        "/v1/projects/{projectId}",
        "projects_update",
        "Update a project's name or description",
        scopes=("project:write",),
        category="write",
        tags=("projects",),
        grants=("table:write",),
    ),
    Route(
        "DELETE",
        "/v1/projects/{projectId}",
        "projects_archive",
        "Archive a project (soft delete)",
        scopes=("project:write",),
        category="write",
        tags=("projects",),
        grants=("table:write",),
    ),
    # Specification workflow (CONTRACT section 6): anything that calls a generator needs ai:invoke.
    Route(
        "POST",
        "/v1/projects/{projectId}/clarify",
        "specs_clarify",
        "Ask the generator for clarifying questions (draft or clarifying -> clarifying)",
        scopes=("ai:invoke", "project:write"),
        category="ai",
        tags=("specification",),
        group="specs",
        grants=("table:write", "generator:invoke"),
    ),
    Route(
        "POST",
        "/v1/projects/{projectId}/answers",
        "specs_answer",
        "Answer the clarifying questions and write spec version 1 (clarifying -> spec_review)",
        scopes=("ai:invoke", "project:write"),
        category="ai",
        tags=("specification",),
        group="specs",
        grants=("table:write", "bucket:write", "generator:invoke"),
    ),
    Route(
        "POST",
        "/v1/projects/{projectId}/regenerate",
        "specs_regenerate",
        "Write a new spec version, optionally guided by feedback (spec_review or approved -> spec_review)",
        scopes=("ai:invoke", "project:write"),
        category="ai",
        tags=("specification",),
        group="specs",
        grants=("table:write", "bucket:write", "generator:invoke"),
    ),
    Route(
        "POST",
        "/v1/projects/{projectId}/approve",
        "specs_approve",
        "Approve the latest spec version (spec_review -> approved)",
        scopes=("ai:invoke", "project:write"),
        category="ai",
        tags=("specification",),
        group="specs",
        grants=("table:write",),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/spec",
        "specs_get",
        "Get a spec version (latest by default) and the list of all versions",
        scopes=("project:read",),
        category="read",
        tags=("specification",),
        group="specs",
        grants=("table:read", "bucket:read"),
    ),
    # The project's repository, read-only (CONTRACT section 6, Files).
    Route(
        "GET",
        "/v1/projects/{projectId}/files",
        "files_list",
        "List a directory of the project's repository at a ref (branch or commit sha)",
        scopes=("project:read",),
        category="read",
        tags=("files",),
        group="files",
        grants=("table:read", "bucket:read"),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/files/{path+}",
        "files_get",
        "Read one file of the project's repository at a ref (branch or commit sha)",
        scopes=("project:read",),
        category="read",
        tags=("files",),
        group="files",
        grants=("table:read", "bucket:read"),
    ),
    # Build runs, their tasks and events (CONTRACT section 6, Runs/Tasks/Events).
    Route(
        "POST",
        "/v1/projects/{projectId}/runs",
        "runs_create",
        "Start a build run of the approved spec (project -> building)",
        scopes=("project:write",),
        category="write",
        status=201,
        tags=("runs",),
        group="runs",
        grants=("table:write", "builds:control"),
        quota="builds",
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/runs",
        "runs_list",
        "List a project's runs (page or cursor mode)",
        scopes=("project:read",),
        category="read",
        tags=("runs",),
        group="runs",
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/runs/{runId}",
        "runs_get",
        "Get a run with its spec snapshot, plan, tasks and verification result",
        scopes=("project:read",),
        category="read",
        tags=("runs",),
        group="runs",
        grants=("table:read", "bucket:read"),
    ),
    Route(
        "POST",
        "/v1/projects/{projectId}/runs/{runId}/cancel",
        "runs_cancel",
        "Cancel an unfinished run (stops its workflow; unfinished tasks are cancelled)",
        scopes=("project:write",),
        category="write",
        tags=("runs",),
        group="runs",
        grants=("table:write", "builds:control"),
    ),
    Route(
        "POST",
        "/v1/projects/{projectId}/runs/{runId}/retry",
        "runs_retry",
        "Start a new run of the same spec after a finished one (trigger retry)",
        scopes=("project:write",),
        category="write",
        status=201,
        tags=("runs",),
        group="runs",
        grants=("table:write", "builds:control"),
        quota="builds",
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/runs/{runId}/tasks",
        "tasks_list",
        "List a run's tasks",
        scopes=("project:read",),
        category="read",
        tags=("runs",),
        group="runs",
        grants=("table:read",),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/runs/{runId}/tasks/{taskId}",
        "tasks_get",
        "Get one task: definition, branch, status and result",
        scopes=("project:read",),
        category="read",
        tags=("runs",),
        group="runs",
        grants=("table:read",),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/runs/{runId}/events",
        "events_list",
        "List a run's events after an id, by type or task",
        scopes=("project:read",),
        category="read",
        tags=("runs",),
        group="events",
        grants=("table:read",),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/runs/{runId}/events/stream",
        "events_stream",
        "Stream a run's events as Server-Sent Events (bounded; reconnect with Last-Event-ID)",
        scopes=("project:read",),
        category="read",
        tags=("runs",),
        group="events",
        grants=("table:read",),
    ),
    # Deploy previews (CONTRACT section 9): a succeeded run's service at a URL until it expires.
    Route(
        "POST",
        "/v1/projects/{projectId}/deploy",
        "deployments_create",
        "Deploy a succeeded run's generated service as a preview (asynchronous; live, then torn down at expiry)",
        scopes=("project:write",),
        category="write",
        status=202,
        tags=("previews",),
        group="previews",
        grants=("table:write", "previews:control"),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/deployments",
        "deployments_list",
        "List a project's deploy previews, newest first",
        scopes=("project:read",),
        category="read",
        tags=("previews",),
        group="previews",
        grants=("table:read",),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/deployments/{deploymentId}",
        "deployments_get",
        "Get a deploy preview: status, URL, expiry",
        scopes=("project:read",),
        category="read",
        tags=("previews",),
        group="previews",
        grants=("table:read",),
    ),
    Route(
        "DELETE",
        "/v1/projects/{projectId}/deployments/{deploymentId}",
        "deployments_delete",
        "Stop a deploy preview now (its URL stops answering)",
        scopes=("project:write",),
        category="write",
        tags=("previews",),
        group="previews",
        grants=("table:write", "previews:control"),
    ),
    # Archives (CONTRACT section 6, Archives): exports, uploads, imports, conversions, and the
    # strict status of every asynchronous operation (section 5).
    Route(
        "POST",
        "/v1/projects/{projectId}/exports",
        "exports_create",
        "Export a run's output or a ref as zip, tar.gz or kiln (asynchronous)",
        scopes=("project:read",),
        category="write",
        status=202,
        tags=("archives",),
        group="archives",
        grants=("table:write", "bucket:read", "archives:start"),
        quota="exports",
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/exports/{exportId}",
        "exports_get",
        "Get an export: status, size, checksum and a fresh download URL",
        scopes=("project:read",),
        category="read",
        tags=("archives",),
        group="archives",
        grants=("table:read", "bucket:read"),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/exports/{exportId}/download",
        "exports_download",
        "Redirect (302) to a presigned download of a finished export, minted on each call",
        scopes=("project:read",),
        category="read",
        status=302,
        tags=("archives",),
        group="archives",
        grants=("table:read", "bucket:read"),
    ),
    Route(
        "GET",
        "/v1/projects/{projectId}/export.kiln",
        "exports_current_kiln",
        "The .kiln archive of the current main: 302 to it when exported, else 202 while it is made",
        scopes=("project:read",),
        category="write",
        status=302,
        tags=("archives",),
        group="archives",
        grants=("table:write", "bucket:read", "archives:start"),
        quota="exports",
    ),
    # Legacy RPC forms (here and /v1/converter/*) are served by their successors' handlers.
    Route(
        "POST",
        "/v1/projects/{projectId}/export",
        "exports_create",
        "Deprecated RPC form of POST /v1/projects/{projectId}/exports",
        scopes=("project:read",),
        category="write",
        status=202,
        tags=("archives",),
        group="archives",
        grants=("table:write", "bucket:read", "archives:start"),
        quota="exports",
        deprecated=Deprecation("/v1/projects/{projectId}/exports"),
        route_name="exports_create_legacy",
    ),
    Route(
        "POST",
        "/v1/uploads",
        "uploads_create",
        "A presigned upload for an archive, bound to its size and type (15 minutes)",
        scopes=("project:write",),
        category="write",
        status=201,
        tags=("archives",),
        group="archives",
        grants=("table:write", "bucket:write"),
        replay="none",
    ),
    Route(
        "POST",
        "/v1/projects/import",
        "projects_import",
        "Import an archive: a zip body up to 4 MiB (201), or an uploadId (202)",
        scopes=("project:write",),
        category="write",
        status=201,
        tags=("archives",),
        group="archives",
        grants=("table:write", "bucket:write", "archives:start"),
    ),
    Route(
        "POST",
        "/v1/conversions",
        "conversions_create",
        "Convert an uploaded archive to zip, tar.gz or kiln (asynchronous)",
        scopes=("project:write",),
        category="write",
        status=202,
        tags=("archives",),
        group="archives",
        grants=("table:write", "bucket:read", "archives:start"),
    ),
    Route(
        "GET",
        "/v1/conversions/{callbackId}",
        "conversions_get",
        "A conversion's status (always 200) and, when done, a download URL",
        scopes=("project:read",),
        category="read",
        tags=("archives",),
        group="archives",
        grants=("table:read", "bucket:read"),
    ),
    Route(
        "POST",
        "/v1/converter/convert",
        "conversions_create",
        "Deprecated RPC form of POST /v1/conversions",
        scopes=("project:write",),
        category="write",
        status=202,
        tags=("archives",),
        group="archives",
        grants=("table:write", "bucket:read", "archives:start"),
        deprecated=Deprecation("/v1/conversions"),
        route_name="conversions_create_legacy",
    ),
    Route(
        "GET",
        "/v1/converter/status/{callbackId}",
        "conversions_get",
        "Deprecated RPC form of GET /v1/conversions/{callbackId}",
        scopes=("project:read",),
        category="read",
        tags=("archives",),
        group="archives",
        grants=("table:read", "bucket:read"),
        deprecated=Deprecation("/v1/conversions/{callbackId}"),
        route_name="conversions_get_legacy",
    ),
    Route(
        "GET",
        "/v2/operations/{callbackId}",
        "operations_get",
        "Strict status of any asynchronous operation: 202 while running, 200 done, the failure's own code",
        scopes=("project:read",),
        category="read",
        tags=("operations",),
        group="archives",
        grants=("table:read", "bucket:read"),
    ),
    # Workspaces and API keys (CONTRACT section 6); workspaces are admin-only.
    Route(
        "POST",
        "/v1/workspaces",
        "workspaces_create",
        "Create a workspace with a tier",
        scopes=("admin",),
        category="write",
        status=201,
        tags=("workspaces",),
        group="access",
        grants=("table:write", "usage-keys:write"),
    ),
    Route(
        "GET",
        "/v1/workspaces",
        "workspaces_list",
        "List workspaces",
        scopes=("admin",),
        category="read",
        tags=("workspaces",),
        group="access",
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "GET",
        "/v1/workspaces/{workspaceId}",
        "workspaces_get",
        "Get a workspace",
        scopes=("admin",),
        category="read",
        tags=("workspaces",),
        group="access",
        grants=("table:read",),
    ),
    Route(
        "PATCH",
        "/v1/workspaces/{workspaceId}",
        "workspaces_update",
        "Rename a workspace or change its tier",
        scopes=("admin",),
        category="write",
        tags=("workspaces",),
        group="access",
        grants=("table:write", "usage-keys:write"),
    ),
    # Any key manages its own workspace's keys, never beyond its own scopes; `admin` reaches others.
    Route(
        "POST",
        "/v1/api-keys",
        "api_keys_create",
        "Create an API key (the secret is shown once)",
        category="write",
        status=201,
        tags=("api-keys",),
        group="access",
        grants=("table:write",),
        replay="without-secret",
    ),
    Route(
        "GET",
        "/v1/api-keys",
        "api_keys_list",
        "List API keys (never their secrets)",
        category="read",
        tags=("api-keys",),
        group="access",
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "DELETE",
        "/v1/api-keys/{keyId}",
        "api_keys_revoke",
        "Revoke an API key",
        category="write",
        tags=("api-keys",),
        group="access",
        grants=("table:write",),
    ),
    Route(
        "POST",
        "/v1/api-keys/{keyId}/rotate",
        "api_keys_rotate",
        "Rotate an API key: a new secret; the old one keeps working for a grace period",
        category="write",
        status=201,
        tags=("api-keys",),
        group="access",
        grants=("table:write",),
        replay="without-secret",
    ),
    # Deployment-wide counters (CONTRACT section 8), kept by the table stream's stats consumer.
    Route(
        "GET",
        "/v1/admin/stats",
        "admin_stats",
        "Deployment-wide counters: projects, runs, running workflows, exports, webhook deliveries",
        scopes=("admin",),
        category="read",
        tags=("admin",),
        group="access",
        grants=("table:read",),
    ),
    # People of a workspace (CONTRACT section 7): admin only; scopes granted within the caller's.
    Route(
        "POST",
        "/v1/users",
        "users_create",
        "Add a person to a workspace (the password is hashed, never returned)",
        scopes=("admin",),
        category="write",
        status=201,
        tags=("users",),
        group="access",
        grants=("table:write",),
    ),
    Route(
        "GET",
        "/v1/users",
        "users_list",
        "List the people of a workspace",
        scopes=("admin",),
        category="read",
        tags=("users",),
        group="access",
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "GET",
        "/v1/users/{userId}",
        "users_get",
        "Get a person",
        scopes=("admin",),
        category="read",
        tags=("users",),
        group="access",
        grants=("table:read",),
    ),
    Route(
        "PATCH",
        "/v1/users/{userId}",
        "users_update",
        "Change a person's name, email, scopes or password",
        scopes=("admin",),
        category="write",
        tags=("users",),
        group="access",
        grants=("table:write",),
    ),
    Route(
        "DELETE",
        "/v1/users/{userId}",
        "users_delete",
        "Remove a person",
        scopes=("admin",),
        category="write",
        status=204,
        tags=("users",),
        group="access",
        grants=("table:write",),
    ),
    # Browser sessions (CONTRACT section 7, kiln.domain.sessions). Signing in needs no credential
    # yet, so it is not metered per key: the sign-in throttle (5 failures per email in 15 minutes)
    # is its limit. Its answer holds a fresh cookie: an Idempotency-Key must never hand it out
    # again, nor keep the body (the password) anywhere. The current session's routes need the
    # cookie itself (any other credential gets 404), and no scope: a person may always see and
    # end their own session. Sign-out is idempotent by nature, so it is never replayed either.
    Route(
        "POST",
        "/v1/sessions",
        "sessions_create",
        "Sign in with email and password: a session cookie and its CSRF token",
        authorized=False,
        category="none",
        status=201,
        tags=("sessions",),
        group="identity",
        grants=("table:write",),
        replay="none",
    ),
    Route(
        "GET",
        "/v1/sessions/current",
        "sessions_current_get",
        "The session of this cookie: the person, the CSRF token and the expiry",
        category="read",
        tags=("sessions",),
        group="identity",
        grants=("table:read",),
    ),
    Route(
        "DELETE",
        "/v1/sessions/current",
        "sessions_current_delete",
        "Sign out: end the session of this cookie and clear the cookie",
        category="write",
        status=204,
        tags=("sessions",),
        group="identity",
        grants=("table:write",),
        replay="none",
    ),
    # Webhooks and custom events (CONTRACT section 8, docs/events.md). Reading a webhook needs only
    # project:read: no answer but create's and rotate-secret's ever holds its secret. Changing one,
    # or emitting an event, needs project:write. `workspaceId` reaches another workspace (admin).
    Route(
        "POST",
        "/v1/webhooks",
        "webhooks_create",
        "Subscribe a URL to the workspace's events (the signing secret is shown once)",
        scopes=("project:write",),
        category="write",
        status=201,
        tags=("webhooks",),
        group="webhooks",
        grants=("table:write",),
        replay="without-secret",
    ),
    Route(
        "GET",
        "/v1/webhooks",
        "webhooks_list",
        "List webhooks (never their secrets)",
        scopes=("project:read",),
        category="read",
        tags=("webhooks",),
        group="webhooks",
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "GET",
        "/v1/webhooks/{webhookId}",
        "webhooks_get",
        "Get a webhook",
        scopes=("project:read",),
        category="read",
        tags=("webhooks",),
        group="webhooks",
        grants=("table:read",),
    ),
    Route(
        "PATCH",
        "/v1/webhooks/{webhookId}",
        "webhooks_update",
        "Change a webhook's url, events, description or status",
        scopes=("project:write",),
        category="write",
        tags=("webhooks",),
        group="webhooks",
        grants=("table:write",),
    ),
    Route(
        "DELETE",
        "/v1/webhooks/{webhookId}",
        "webhooks_delete",
        "Delete a webhook",
        scopes=("project:write",),
        category="write",
        status=204,
        tags=("webhooks",),
        group="webhooks",
        grants=("table:write",),
    ),
    Route(
        "POST",
        "/v1/webhooks/{webhookId}/rotate-secret",
        "webhooks_rotate_secret",
        "A new signing secret (shown once); the previous one keeps signing for an overlap",
        scopes=("project:write",),
        category="write",
        tags=("webhooks",),
        group="webhooks",
        grants=("table:write",),
        replay="without-secret",
    ),
    Route(
        "POST",
        "/v1/webhooks/{webhookId}/test",
        "webhooks_test",
        "Send the webhook a signed webhook.test event",
        scopes=("project:write",),
        category="write",
        status=202,
        tags=("webhooks",),
        group="webhooks",
        grants=("table:write", "deliveries:send"),
    ),
    Route(
        "GET",
        "/v1/webhooks/{webhookId}/deliveries",
        "webhooks_deliveries_list",
        "A webhook's deliveries with every attempt, newest first",
        scopes=("project:read",),
        category="read",
        tags=("webhooks",),
        group="webhooks",
        grants=("table:read", "cursor-secret:read"),
    ),
    Route(
        "POST",
        "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
        "webhooks_deliveries_redeliver",
        "Send a delivery's event again, now",
        scopes=("project:write",),
        category="write",
        status=202,
        tags=("webhooks",),
        group="webhooks",
        grants=("table:write", "deliveries:send"),
    ),
    Route(
        "POST",
        "/v1/events",
        "events_create",
        "Emit a custom event (custom.<name>) to the workspace's matching webhooks",
        scopes=("project:write",),
        category="write",
        status=202,
        tags=("webhooks",),
        group="webhooks",
        grants=("table:write",),
    ),
    # The API described by itself, served by their own functions (kept off every other cold start).
    Route(
        "GET",
        "/v1/openapi.json",
        "docs_openapi",
        "The OpenAPI document of this API",
        authorized=False,
        category="none",
        tags=("service",),
        group="docs",
    ),
    Route(
        "GET",
        "/docs",
        "docs_ui",
        "Interactive API documentation (Swagger UI)",
        authorized=False,
        category="none",
        tags=("service",),
        group="docs",
    ),
    Route(
        "GET",
        "/docs/{asset}",
        "docs_assets",
        "A file of the documentation page: Swagger UI's scripts, stylesheet and licences, served by Kiln itself",
        authorized=False,
        category="none",
        tags=("service",),
        group="docs",
    ),
    # The web console (docs/console.md): static files only, public like /docs; the page reads the
    # API with the session cookie, so the authorizer checks every call it makes instead.
    Route(
        "GET",
        "/app",
        "console",
        "The web console (HTML): sign in, projects, specifications, builds, files, keys",
        authorized=False,
        category="none",
        tags=("service",),
        group="docs",
    ),
    Route(
        "GET",
        "/app/{file+}",
        "console_assets",
        "A file of the web console: its stylesheet and JavaScript modules, served by Kiln itself",
        authorized=False,
        category="none",
        tags=("service",),
        group="docs",
    ),
    # MCP over streamable HTTP (kiln.handlers.mcp): its tools call this API with the caller's own
    # bearer credential, so they are scoped and metered there; the function itself holds no
    # grant and is not metered. Its own group, whose functions get the `mcp` layer.
    Route(
        "POST",
        "/mcp",
        "mcp",
        "Kiln's tools for AI assistants over the Model Context Protocol (stateless JSON)",
        scopes=("project:read",),
        category="none",
        tags=("service",),
        group="mcp",
        replay="none",
        layer="mcp",
    ),
)


@dataclass(frozen=True)
class Worker:
    """A Lambda function invoked by a workflow (Step Functions) or by another worker, never by API Gateway."""

    name: str  # module name under kiln.workers
    summary: str
    timeout_seconds: int = 60
    memory_mb: int = 512
    grants: tuple[str, ...] = ()
    # Size of the function's /tmp (Lambda's ephemeral storage, 512 to 10240 MB).
    ephemeral_storage_mb: int = 512
    # Runs model-written code: a role with no grants (only its log group), no Kiln setting in its
    # environment, no network (infra/sandbox.py); locally, a process of its own with a clean
    # environment. Invoked by the functions granted `sandbox:invoke`, not by a workflow.
    sandbox: bool = False
    # An EventBridge schedule expression ("rate(1 hour)"): the worker runs on its own at that
    # period (infra/workflows.py adds the rule) instead of being invoked by a workflow.
    schedule: str | None = None
    # An event source mapping feeds it (infra/events.py; locally a poller in local/): the main
    # table's stream, or the webhook delivery queue.
    source: Literal["table-stream", "delivery-queue"] | None = None

    def __post_init__(self) -> None:
        if self.sandbox and self.grants:
            raise ValueError(f"worker {self.name!r} runs generated code: it may hold no grants, not {self.grants}")

    @property
    def handler_ref(self) -> str:
        return f"kiln.workers.{self.name}.handler"

    @property
    def function_id(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_")) + "Worker"


WORKERS: tuple[Worker, ...] = (
    Worker(
        "selfcheck",
        "Round-trips a probe through DynamoDB and S3 to prove the deployment's wiring",
        grants=("table:write", "bucket:write"),
    ),
    Worker(
        "build_decompose",
        "Plans an approved spec into tasks (build workflow, step 1)",
        timeout_seconds=300,
        grants=("table:write", "bucket:read", "generator:invoke"),
    ),
    Worker(
        "build_task",
        "Implements one task on its own branch (build workflow, step 2, per task)",
        timeout_seconds=600,
        grants=("table:write", "bucket:write", "generator:invoke"),
    ),
    # Only model generators repair (kiln.domain.repairs): one invocation per task verification blamed.
    Worker(
        "build_repair",
        "Repairs a task whose files failed verification, on its branch (build workflow, between verifications)",
        timeout_seconds=600,
        grants=("table:write", "bucket:write", "generator:invoke"),
    ),
    Worker(
        "build_verify",
        "Verifies the merged result: expected outputs, then compilation and the project's own "
        "tests in the build sandbox",
        timeout_seconds=600,
        memory_mb=1024,
        grants=("table:write", "bucket:read", "sandbox:invoke"),
    ),
    # Generated code runs here and nowhere else; build_verify outlives it (600 s > 480 s).
    Worker(
        "build_sandbox",
        "Compiles a generated tree and runs its tests, with no permissions and no network",
        timeout_seconds=480,
        memory_mb=2048,
        sandbox=True,
    ),
    Worker(
        "build_merge",
        "Merges the task branches into main in merge order (build workflow, step 4)",
        timeout_seconds=300,
        grants=("table:write", "bucket:write"),
    ),
    Worker(
        "build_finish",
        "Records a run's outcome: events, task states, the project's status, the build slot",
        timeout_seconds=120,
        grants=("table:write",),
    ),
    # Archives stream through bounded memory; imports and conversions spool the upload to /tmp.
    Worker(
        "archive_export",
        "Writes a repository tree as zip, tar.gz or kiln into S3 (multipart, streaming)",
        timeout_seconds=900,
        memory_mb=1024,
        grants=("table:write", "bucket:write"),
    ),
    Worker(
        "archive_import",
        "Validates an uploaded archive completely, then creates the project from it",
        timeout_seconds=900,
        memory_mb=1024,
        grants=("table:write", "bucket:write"),
        ephemeral_storage_mb=2048,
    ),
    Worker(
        "archive_conversion",
        "Converts an uploaded archive to another format",
        timeout_seconds=900,
        memory_mb=1024,
        grants=("table:write", "bucket:write"),
        ephemeral_storage_mb=2048,
    ),
    # Hourly: each step waits for lower bounds only (kiln.workers.signing_keys_rotate), so any period works.
    Worker(
        "signing_keys_rotate",
        "Advances the access-token signing key set's rotation: publish a successor, let it sign, retire the old",
        timeout_seconds=30,
        memory_mb=256,
        grants=("signing-keys:rotate",),
        schedule="rate(1 hour)",
    ),
    Worker(
        "archive_failure",
        "Records an archive operation's unexpected failure and deletes its upload",
        timeout_seconds=120,
        grants=("table:write", "bucket:write"),
    ),
    # Events (CONTRACT section 8, docs/events.md): every change of the table, handed to the
    # consumers of kiln.workers.table_stream.CONSUMERS; table:write for what they record
    # (deliveries, stats counters), deliveries:send to queue each delivery's first attempt,
    # connections:* to push run events to subscribed WebSocket connections (kiln.domain.live).
    Worker(
        "table_stream",
        "Hands each change of the table's stream to its consumers (webhook fan-out, stats, real time)",
        timeout_seconds=120,
        grants=("table:write", "table-stream:read", "deliveries:send", "connections:write", "connections:post"),
        source="table-stream",
    ),
    # One attempt per message, 15 s at most each: a batch of 5 fits the timeout with room.
    Worker(
        "webhook_deliver",
        "Makes one signed attempt of a webhook delivery and schedules the next after a failure",
        timeout_seconds=90,
        memory_mb=256,
        grants=("table:write", "deliveries:send", "deliveries:receive"),
        source="delivery-queue",
    ),
    # Deploy previews (kiln.domain.previews). Only these may deploy (previews:deploy): functions
    # with the preview prefix, under the preview role that grants nothing (infra/grants.py).
    Worker(
        "preview_create",
        "Deploys a run's generated service as a preview with its provider (preview workflow, step 1)",
        timeout_seconds=300,
        memory_mb=1024,
        grants=("table:read", "bucket:read", "previews:deploy"),
    ),
    Worker(
        "preview_wait",
        "Marks a preview live once its URL answers (preview workflow, step 2, retried until then)",
        timeout_seconds=60,
        memory_mb=256,
        grants=("table:write", "previews:deploy"),
    ),
    Worker(
        "preview_teardown",
        "Removes a preview and records why it ended: expired, deleted or failed",
        timeout_seconds=120,
        memory_mb=256,
        grants=("table:write", "previews:deploy"),
    ),
)


@dataclass(frozen=True)
class Workflow:
    """A Step Functions state machine defined by an ASL file in kiln/workflows.

    `functions` maps each `${Placeholder}` of the ASL file to the worker whose ARN fills it.
    """

    name: str
    asl_file: str
    functions: dict[str, str]
    summary: str


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        "selfcheck",
        "selfcheck.asl.json",
        {"SelfCheckFunctionArn": "selfcheck"},
        "Post-deploy self check: a worker writes and reads back a probe in DynamoDB and S3",
    ),
    Workflow(
        "build",
        "build.asl.json",
        {
            "DecomposeFunctionArn": "build_decompose",
            "TaskFunctionArn": "build_task",
            "VerifyFunctionArn": "build_verify",
            "RepairFunctionArn": "build_repair",
            "MergeFunctionArn": "build_merge",
            "FinishFunctionArn": "build_finish",
        },
        "A build run: decompose, execute tasks in dependency waves, verify (repairing model-written tasks "
        "whose files fail it), merge, record the outcome",
    ),
    Workflow(
        "archive",
        "archive.asl.json",
        {
            "ExportFunctionArn": "archive_export",
            "ImportFunctionArn": "archive_import",
            "ConvertFunctionArn": "archive_conversion",
            "FailureFunctionArn": "archive_failure",
        },
        "An export, import or conversion of an archive, with failures recorded on the operation",
    ),
    Workflow(
        "preview",
        "preview.asl.json",
        {
            "CreateFunctionArn": "preview_create",
            "WaitFunctionArn": "preview_wait",
            "TeardownFunctionArn": "preview_teardown",
        },
        "A deploy preview: deploy, wait until it answers, wait until it expires, tear it down",
    ),
)

# Request bodies API Gateway passes base64-encoded (binaryMediaTypes): the archives of a
# synchronous import. Read by CDK and by the local gateway.
BINARY_MEDIA_TYPES: tuple[str, ...] = (
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "application/vnd.kiln+zip",
    "application/octet-stream",
)

AUTHORIZER_HANDLER = "kiln.handlers.authorizer.handler"
# table:touch: the authorizer records a key's lastUsedAt (at most once a minute, conditionally).
# signing-keys:read: it verifies access tokens with the published keys.
AUTHORIZER_GRANTS: tuple[str, ...] = ("table:read", "table:touch", "signing-keys:read")
# The authorizer's configuration, read by infra/api.py and the local emulator alike. A REQUEST
# authorizer, because a session cookie is not in `Authorization`. No identity sources: API
# Gateway answers 401 without calling the function when a declared source is missing, and a
# caller sends either `Authorization` or `Cookie`, not both. Without identity sources API
# Gateway cannot cache (the TTL must be 0); the function caches its own answers instead
# (kiln.domain.authentication, KILN_AUTHORIZER_CACHE_SECONDS).
AUTHORIZER_TYPE = "REQUEST"
AUTHORIZER_IDENTITY_SOURCES: tuple[str, ...] = ()  # mapping expressions: method.request.header.X
AUTHORIZER_CACHE_TTL_SECONDS = 0
# Answers 405 for any method a resource does not declare (wired as ANY on each resource).
METHOD_NOT_ALLOWED_HANDLER = "kiln.handlers.method_not_allowed.handler"


# The grant vocabulary infra/ understands.
GRANTS: dict[str, str] = {
    "table:read": "GetItem/Query/BatchGetItem on the table and its indexes",
    "table:write": "table:read plus PutItem/UpdateItem/DeleteItem/TransactWriteItems",
    "table:touch": "UpdateItem only (the authorizer's lastUsedAt)",
    "limits:count": "GetItem/UpdateItem on the rate and usage counters only (RATE#*, USAGE#* partitions)",
    "bucket:read": "GetObject on the bucket's objects, ListBucket (so a missing key is a 404, not a 403)",
    "bucket:write": "bucket:read plus PutObject/DeleteObject",
    "cursor-secret:read": "GetSecretValue on the cursor-signing secret",
    "signing-keys:read": "GetSecretValue on the access-token signing key set's secret",
    "signing-keys:rotate": "GetSecretValue and PutSecretValue on the access-token signing key set's secret",
    "usage-keys:write": "CreateApiKey and CreateUsagePlanKey on this API's usage plans (workspace meters)",
    "health:check": "DescribeTable, ListBucket (HeadBucket) and DescribeStateMachine, read-only probes",
    "archives:start": "StartExecution on the archive state machine (exports, imports, conversions)",
    "builds:control": "StartExecution on the build state machine, StopExecution on its executions",
    "generator:invoke": "bedrock: InvokeModel on the configured model; openai-compatible: GetSecretValue on the "
    "endpoint key's secret; builtin: nothing",
    "sandbox:invoke": "lambda:InvokeFunction on the build sandbox function only (where generated code runs)",
    "connections:write": "GetItem/Query/PutItem/UpdateItem/DeleteItem on the WebSocket connections' table",
    "connections:post": "execute-api:ManageConnections on the WebSocket API's stage (answers and run events)",
    "table-stream:read": "DescribeStream/GetRecords/GetShardIterator on the table's stream and ListStreams "
    "(its event source mapping reads with the function's role)",
    "deliveries:send": "SendMessage on the webhook delivery queue",
    "deliveries:receive": "ReceiveMessage/DeleteMessage/ChangeMessageVisibility/GetQueueAttributes on the "
    "webhook delivery queue (its event source mapping reads with the function's role)",
    "previews:control": "StartExecution on the preview state machine, StopExecution on its executions",
    "previews:deploy": "Create/update/delete functions named with the preview prefix only (with their URLs, "
    "permissions, tags) and PassRole on the preview role only, to Lambda only",
}


def _compile(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"{([^}+]+)\+}", r"(?P<\1>.+)", path)
    pattern = re.sub(r"{([^}]+)}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


@functools.cache
def _patterns() -> tuple[tuple[Route, re.Pattern[str]], ...]:
    # Compiled on the first match_path: only the local gateway matches concrete paths, and a
    # Lambda function (found by find_route) would pay milliseconds per cold start for them.
    return tuple((r, _compile(r.path)) for r in ROUTES)


def find_route(method: str, resource: str) -> Route | None:
    """The route for an API Gateway (httpMethod, resource) pair."""
    for route in ROUTES:
        if route.method == method and route.path == resource:
            return route
    return None


def match_path(path: str) -> list[tuple[Route, dict[str, str]]]:
    """Every route whose template matches a concrete path, with its path parameters.

    Literal segments win over parameters, as in API Gateway: `/v1/projects/import` matches the
    import route, not `/v1/projects/{projectId}`.
    """
    matches = [(r, m.groupdict()) for r, p in _patterns() if (m := p.match(path))]
    if not matches:
        return []
    best = max(_specificity(r.path) for r, _ in matches)
    return [(r, params) for r, params in matches if _specificity(r.path) == best]


def _specificity(template: str) -> tuple[int, int]:
    segments = template.strip("/").split("/")
    literal = sum(1 for s in segments if not s.startswith("{"))
    return (literal, -segments.count("{proxy+}"))


def resources() -> dict[str, list[Route]]:
    """Routes grouped by resource path (each path has one API Gateway resource)."""
    grouped: dict[str, list[Route]] = {}
    for route in ROUTES:
        grouped.setdefault(route.path, []).append(route)
    return grouped

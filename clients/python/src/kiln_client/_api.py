"""Each endpoint the SDK calls, declared once as a `Call` (method, path, query, body and how
to read the answer), so the sync and async clients share every request's shape and differ
only in how they send it."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from kiln_client import models

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
ExportFormat = Literal["zip", "tar.gz", "kiln"]
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items and the `pagination` object as the API sent it."""

    items: builtins.list[T]
    pagination: dict[str, Any]


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[dict[str, Any]], T]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING


def _one(model: type[M]) -> Callable[[dict[str, Any]], M]:
    return lambda envelope: model.model_validate(envelope["data"])


def _many(model: type[M]) -> Callable[[dict[str, Any]], Page[M]]:
    return lambda envelope: Page([model.model_validate(item) for item in envelope["data"]], envelope["pagination"])


def query(**values: Any) -> dict[str, Any]:
    """Query parameters in the API's spelling, leaving out what the caller did not set."""
    return {name: value for name, value in values.items() if value is not None}


def _body(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _p(project_id: str) -> str:
    return f"/v1/projects/{quote(project_id, safe='')}"


def _r(project_id: str, run_id: str) -> str:
    return f"{_p(project_id)}/runs/{quote(run_id, safe='')}"


# Projects
def create_project(name: str, description: str) -> Call[models.Project]:
    return Call("POST", "/v1/projects", _one(models.Project), json={"name": name, "description": description})


def list_projects(
    *,
    status: str | None = None,
    search: str | None = None,
    page: int | None = None,
    page_size: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[Page[models.Project]]:
    params = query(status=status, search=search, page=page, pageSize=page_size, limit=limit, cursor=cursor)
    return Call("GET", "/v1/projects", _many(models.Project), params)


def get_project(project_id: str) -> Call[models.Project]:
    return Call("GET", _p(project_id), _one(models.Project))


def update_project(project_id: str, *, name: str | None = None, description: str | None = None) -> Call[models.Project]:
    return Call("PATCH", _p(project_id), _one(models.Project), json=_body(name=name, description=description))


def archive_project(project_id: str) -> Call[models.ProjectArchived]:
    return Call("DELETE", _p(project_id), _one(models.ProjectArchived))


# The specification workflow
def clarify(project_id: str) -> Call[models.Clarification]:
    return Call("POST", f"{_p(project_id)}/clarify", _one(models.Clarification), json={})


def answer(project_id: str, answers: builtins.list[dict[str, Any]]) -> Call[models.ProjectWithSpec]:
    return Call("POST", f"{_p(project_id)}/answers", _one(models.ProjectWithSpec), json={"answers": answers})


def regenerate(project_id: str, feedback: str) -> Call[models.ProjectWithSpec]:
    return Call("POST", f"{_p(project_id)}/regenerate", _one(models.ProjectWithSpec), json={"feedback": feedback})


def get_spec(project_id: str, version: int | None = None) -> Call[models.SpecView]:
    return Call("GET", f"{_p(project_id)}/spec", _one(models.SpecView), query(version=version))


def approve(project_id: str, version: int | None = None) -> Call[models.Project]:
    return Call("POST", f"{_p(project_id)}/approve", _one(models.Project), json=_body(version=version))


# Builds
def create_run(project_id: str) -> Call[models.Run]:
    return Call("POST", f"{_p(project_id)}/runs", _one(models.Run), json={})


def list_runs(
    project_id: str,
    *,
    status: str | None = None,
    page: int | None = None,
    page_size: int | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Call[Page[models.Run]]:
    params = query(status=status, page=page, pageSize=page_size, limit=limit, cursor=cursor)
    return Call("GET", f"{_p(project_id)}/runs", _many(models.Run), params)


def get_run(project_id: str, run_id: str) -> Call[models.RunDetail]:
    return Call("GET", _r(project_id, run_id), _one(models.RunDetail))


def cancel_run(project_id: str, run_id: str) -> Call[models.Run]:
    return Call("POST", f"{_r(project_id, run_id)}/cancel", _one(models.Run), json={})


def retry_run(project_id: str, run_id: str) -> Call[models.Run]:
    return Call("POST", f"{_r(project_id, run_id)}/retry", _one(models.Run), json={})


def get_task(project_id: str, run_id: str, task_id: str) -> Call[models.Task]:
    return Call("GET", f"{_r(project_id, run_id)}/tasks/{quote(task_id, safe='')}", _one(models.Task))


def list_events(
    project_id: str,
    run_id: str,
    *,
    after: str | int | None = None,
    type: str | None = None,
    task_id: str | None = None,
    limit: int | None = None,
) -> Call[Page[models.Event]]:
    params = query(after=after, type=type, taskId=task_id, limit=limit)
    return Call("GET", f"{_r(project_id, run_id)}/events", _many(models.Event), params)


def events_stream_path(project_id: str, run_id: str) -> str:
    return f"{_r(project_id, run_id)}/events/stream"


# Files
def list_files(project_id: str, path: str = "/", ref: str = "main") -> Call[models.Directory]:
    return Call("GET", f"{_p(project_id)}/files", _one(models.Directory), {"ref": ref, "path": path})


def get_file(project_id: str, path: str, ref: str = "main") -> Call[models.RepositoryFile]:
    return Call(
        "GET", f"{_p(project_id)}/files/{quote(path.lstrip('/'), safe='/')}", _one(models.RepositoryFile), {"ref": ref}
    )


# Exports, uploads, imports, operations
def create_export(
    project_id: str, format: ExportFormat = "zip", *, run_id: str | None = None, ref: str | None = None
) -> Call[models.ExportOperation]:
    body = _body(format=format, runId=run_id, ref=ref)
    return Call("POST", f"{_p(project_id)}/exports", _one(models.ExportOperation), json=body)


def get_export(project_id: str, export_id: str) -> Call[models.ExportOperation]:
    return Call("GET", f"{_p(project_id)}/exports/{quote(export_id, safe='')}", _one(models.ExportOperation))


def export_download_path(project_id: str, export_id: str) -> str:
    return f"{_p(project_id)}/exports/{quote(export_id, safe='')}/download"


def create_upload(filename: str, size_bytes: int, content_type: str) -> Call[models.PresignedUpload]:
    body = {"filename": filename, "sizeBytes": size_bytes, "contentType": content_type}
    return Call("POST", "/v1/uploads", _one(models.PresignedUpload), json=body)


def import_upload(upload_id: str, name: str | None = None) -> Call[models.ImportOperation]:
    return Call("POST", "/v1/projects/import", _one(models.ImportOperation), json=_body(uploadId=upload_id, name=name))


def operation_path(callback_id: str) -> str:
    return f"/v2/operations/{quote(callback_id, safe='')}"


# Keys
def create_api_key(
    name: str, scopes: builtins.list[str], allowed_paths: builtins.list[str] | None = None
) -> Call[models.ApiKeyWithSecret]:
    body = _body(name=name, scopes=scopes, allowedPaths=allowed_paths)
    return Call("POST", "/v1/api-keys", _one(models.ApiKeyWithSecret), json=body)


def list_api_keys(
    *, page: int | None = None, page_size: int | None = None, limit: int | None = None, cursor: str | None = None
) -> Call[Page[models.ApiKey]]:
    params = query(page=page, pageSize=page_size, limit=limit, cursor=cursor)
    return Call("GET", "/v1/api-keys", _many(models.ApiKey), params)


def revoke_api_key(key_id: str) -> Call[models.ApiKey]:
    return Call("DELETE", f"/v1/api-keys/{quote(key_id, safe='')}", _one(models.ApiKey))


def rotate_api_key(key_id: str) -> Call[models.ApiKeyWithSecret]:
    return Call("POST", f"/v1/api-keys/{quote(key_id, safe='')}/rotate", _one(models.ApiKeyWithSecret), json={})


# OAuth clients (apps people sign in to; `kiln login --browser` is one)
def create_oauth_client(
    name: str, redirect_uris: builtins.list[str], scopes: builtins.list[str]
) -> Call[models.OAuthClientView]:
    body = {"name": name, "redirectUris": redirect_uris, "scopes": scopes}
    return Call("POST", "/v1/oauth/clients", _one(models.OAuthClientView), json=body)


def list_oauth_clients(*, limit: int | None = None, cursor: str | None = None) -> Call[Page[models.OAuthClientView]]:
    return Call("GET", "/v1/oauth/clients", _many(models.OAuthClientView), query(limit=limit, cursor=cursor))


# Webhooks
def _w(webhook_id: str) -> str:
    return f"/v1/webhooks/{quote(webhook_id, safe='')}"


def _nothing(envelope: dict[str, Any]) -> None:
    return None


def create_webhook(
    url: str, events: builtins.list[str], description: str | None = None
) -> Call[models.WebhookWithSecret]:
    body = _body(url=url, events=events, description=description)
    return Call("POST", "/v1/webhooks", _one(models.WebhookWithSecret), json=body)


def list_webhooks(*, limit: int | None = None, cursor: str | None = None) -> Call[Page[models.Webhook]]:
    return Call("GET", "/v1/webhooks", _many(models.Webhook), query(limit=limit, cursor=cursor))


def delete_webhook(webhook_id: str) -> Call[None]:
    return Call("DELETE", _w(webhook_id), _nothing)


def test_webhook(webhook_id: str) -> Call[models.DeliveryView]:
    return Call("POST", f"{_w(webhook_id)}/test", _one(models.DeliveryView), json={})


def list_deliveries(
    webhook_id: str, *, limit: int | None = None, cursor: str | None = None
) -> Call[Page[models.DeliveryView]]:
    params = query(limit=limit, cursor=cursor)
    return Call("GET", f"{_w(webhook_id)}/deliveries", _many(models.DeliveryView), params)


TERMINAL_RUN_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
TERMINAL_EVENTS = frozenset({"RUN_COMPLETED", "RUN_FAILED", "RUN_CANCELLED"})


def next_page(call: Call[Page[T]], page: Page[T]) -> Call[Page[T]] | None:
    """The call for the page after `page`, in whichever mode `call` used; None after the last."""
    pagination = page.pagination
    if "nextCursor" in pagination:  # cursor mode (events name their cursor `after`)
        cursor = pagination.get("nextCursor")
        if not cursor or not pagination.get("hasMore", True):
            return None
        key = "after" if call.path.endswith("/events") else "cursor"
        return Call(call.method, call.path, call.parse, {**call.params, key: cursor}, call.json)
    current, total_pages = int(pagination.get("page", 1)), int(pagination.get("totalPages", 0))
    if current >= total_pages:
        return None
    return Call(call.method, call.path, call.parse, {**call.params, "page": current + 1}, call.json)

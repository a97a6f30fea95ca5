"""The synchronous client. Every request goes through `_send`: one Idempotency-Key per logical
call (reused by all its retries), retries with backoff and jitter on 429, 503 and connection
errors honouring Retry-After, and error envelopes raised as typed exceptions."""

from __future__ import annotations

import base64
import json
import mimetypes
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import httpx

from kiln_client import _api, models
from kiln_client._api import Call, ExportFormat, Page
from kiln_client._config import ConfigTokenStore, Credentials, resolve
from kiln_client._oauth import OAuth, OAuthTokens
from kiln_client._retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from kiln_client.errors import APIError, KilnConnectionError, OperationFailedError, WaitTimeout, error_for
from kiln_client.sse import SSEParser

T = TypeVar("T")
Progress = Callable[[int, int | None], None]
"""Called with (bytes done, total bytes or None when unknown) as a transfer advances."""

CHUNK = 64 * 1024
USER_AGENT = "kiln-python"
# What an archive's extension says it is, for the upload's declared content type.
ARCHIVE_TYPES = {".zip": "application/zip", ".kiln": "application/zip", ".gz": "application/gzip"}


class ProgressReader:
    """A file wrapper that reports how much was read, for streamed uploads."""

    def __init__(self, handle: IO[bytes], total: int, progress: Progress | None) -> None:
        self._handle, self._total, self._progress, self._done = handle, total, progress, 0

    def fileno(self) -> int:
        # httpx sizes the multipart body from the file (S3's presigned POST refuses a chunked one).
        return self._handle.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self._handle.seek(offset, whence)
        self._done = position
        return position

    def tell(self) -> int:
        return self._handle.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._done += len(chunk)
        if self._progress is not None and chunk:
            self._progress(self._done, self._total)
        return chunk


def archive_content_type(path: Path) -> str:
    return ARCHIVE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class ApiKeyAuth(httpx.Auth):
    def __init__(self, api_key: str) -> None:
        self._header = f"Bearer {api_key}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


def bearer_auth(credentials: Credentials, oauth: OAuth | OAuthTokens | None) -> httpx.Auth:
    """How each request is authenticated: the API key, or OAuth tokens that refresh themselves
    (saved back to the CLI's config when they came from it)."""
    if credentials.oauth is None:
        assert credentials.api_key is not None  # resolve() answers one or the other
        return ApiKeyAuth(credentials.api_key)
    if isinstance(oauth, OAuth):
        return oauth
    return OAuth(credentials.oauth, store=ConfigTokenStore(credentials.base_url) if credentials.from_config else None)


def envelope_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Kiln:
    """Kiln's API. `Kiln()` reads KILN_API_KEY / KILN_BASE_URL, then the CLI's config."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        oauth: OAuth | OAuthTokens | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        credentials = resolve(api_key, base_url, oauth.tokens if isinstance(oauth, OAuth) else oauth)
        self.base_url = credentials.base_url
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.auth = bearer_auth(credentials, oauth)
        self._http = httpx.Client(
            base_url=credentials.base_url,
            headers={"User-Agent": USER_AGENT},
            auth=self.auth,
            timeout=timeout,
            transport=transport,
        )
        # Presigned S3 URLs carry their own signature: never send them the bearer key.
        self._plain = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()
        self._plain.close()

    def __enter__(self) -> Kiln:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # The one way out -------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (),
        stream: bool = False,
    ) -> httpx.Response:
        """Sends one logical call, retrying it; answers 2xx (and any status in `ok`)."""
        headers = dict(headers or {})
        if method in _api.MUTATING:
            # Generated once here, outside the loop: every retry of this call replays the same
            # key, so a request that reached the server before its answer was lost runs once.
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        attempt = 0
        while True:
            try:
                request = self._http.build_request(
                    method, path, params=params, json=json_body, content=content, headers=headers
                )
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if attempt >= self.retry.max_retries:
                    raise KilnConnectionError(f"could not reach {self.base_url}: {exc}") from exc
                self._sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < self.retry.max_retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                self._sleep(self.retry.delay(attempt, retry_after))
                attempt += 1
                continue
            if response.is_success or response.status_code in ok:
                return response
            if stream:
                response.read()
            raise error_for(response.status_code, envelope_of(response), response.headers.get("X-Request-Id"))

    def call(self, call: Call[T]) -> T:
        """Runs one declared call and reads its answer."""
        response = self._send(call.method, call.path, params=call.params, json_body=call.json)
        return call.parse(response.json() if response.content else {"data": None})  # 204: no body

    def paginate(self, call: Call[Page[T]]) -> Iterator[T]:
        """Every item of a list, page after page, in the mode the first call chose (page mode by
        default; cursor mode when it sets `limit` or `cursor`)."""
        current: Call[Page[T]] | None = call
        while current is not None:
            page = self.call(current)
            yield from page.items
            current = _api.next_page(current, page)

    # Projects ----------------------------------------------------------------------------------
    def create_project(self, name: str, description: str) -> models.Project:
        return self.call(_api.create_project(name, description))

    def list_projects(self, **filters: Any) -> Page[models.Project]:
        """One page: filters `status`, `search`; paging `page`/`page_size` or `limit`/`cursor`."""
        return self.call(_api.list_projects(**filters))

    def iter_projects(self, **filters: Any) -> Iterator[models.Project]:
        return self.paginate(_api.list_projects(**filters))

    def get_project(self, project_id: str) -> models.Project:
        return self.call(_api.get_project(project_id))

    def update_project(
        self, project_id: str, *, name: str | None = None, description: str | None = None
    ) -> models.Project:
        return self.call(_api.update_project(project_id, name=name, description=description))

    def archive_project(self, project_id: str) -> models.ProjectArchived:
        return self.call(_api.archive_project(project_id))

    # The specification workflow ----------------------------------------------------------------
    def clarify(self, project_id: str) -> models.Clarification:
        return self.call(_api.clarify(project_id))

    def answer(self, project_id: str, answers: list[dict[str, Any]]) -> models.ProjectWithSpec:
        """`answers`: `[{"questionId": ..., "answer": ...}]`."""
        return self.call(_api.answer(project_id, answers))

    def regenerate(self, project_id: str, feedback: str) -> models.ProjectWithSpec:
        return self.call(_api.regenerate(project_id, feedback))

    def get_spec(self, project_id: str, version: int | None = None) -> models.SpecView:
        return self.call(_api.get_spec(project_id, version))

    def approve(self, project_id: str, version: int | None = None) -> models.Project:
        return self.call(_api.approve(project_id, version))

    # Builds ------------------------------------------------------------------------------------
    def create_run(self, project_id: str) -> models.Run:
        return self.call(_api.create_run(project_id))

    def list_runs(self, project_id: str, **filters: Any) -> Page[models.Run]:
        return self.call(_api.list_runs(project_id, **filters))

    def iter_runs(self, project_id: str, **filters: Any) -> Iterator[models.Run]:
        return self.paginate(_api.list_runs(project_id, **filters))

    def get_run(self, project_id: str, run_id: str) -> models.RunDetail:
        return self.call(_api.get_run(project_id, run_id))

    def cancel_run(self, project_id: str, run_id: str) -> models.Run:
        return self.call(_api.cancel_run(project_id, run_id))

    def retry_run(self, project_id: str, run_id: str) -> models.Run:
        return self.call(_api.retry_run(project_id, run_id))

    def get_task(self, project_id: str, run_id: str, task_id: str) -> models.Task:
        return self.call(_api.get_task(project_id, run_id, task_id))

    def iter_events(self, project_id: str, run_id: str, **filters: Any) -> Iterator[models.Event]:
        """The events recorded so far (filters `type`, `task_id`, `after`, `limit` per page)."""
        return self.paginate(_api.list_events(project_id, run_id, **filters))

    def wait_for_run(
        self, project_id: str, run_id: str, *, timeout: float = 600.0, interval: float = 1.0
    ) -> models.RunDetail:
        """Polls until the run succeeded, failed or was cancelled; returns it either way."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(project_id, run_id)
            if run.status.value in _api.TERMINAL_RUN_STATUSES:
                return run
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"run {run_id} still {run.status.value} after {timeout} s")
            self._sleep(interval)

    def follow(
        self,
        project_id: str,
        run_id: str,
        *,
        last_event_id: int | None = None,
        type: str | None = None,
        task_id: str | None = None,
        timeout: float = 600.0,
    ) -> Iterator[models.Event]:
        """Every event of the run as it happens, over Server-Sent Events, until the run ends.

        The API answers bounded responses; each reconnection resends the last id seen as
        Last-Event-ID, so nothing is missed or repeated, and a 204 means the run is over."""
        deadline = time.monotonic() + timeout
        path = _api.events_stream_path(project_id, run_id)
        params = _api.query(type=type, taskId=task_id)
        last = last_event_id
        while time.monotonic() < deadline:
            headers = {"Accept": "text/event-stream"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            response = self._send("GET", path, params=params, headers=headers, stream=True)
            try:
                if response.status_code == 204:
                    return
                parser, pause = SSEParser(), 0.0
                for line in response.iter_lines():
                    frame = parser.feed(line)
                    if frame is None:
                        continue
                    if frame.retry is not None:
                        pause = frame.retry / 1000
                    if not frame.data:
                        continue
                    event = models.Event.model_validate(json.loads(frame.data))
                    last = event.id
                    yield event
                    if event.event_type.value in _api.TERMINAL_EVENTS:
                        return
            finally:
                response.close()
            self._sleep(min(pause, 1.0))
        raise WaitTimeout(f"run {run_id} did not finish within {timeout} s")

    # Files -------------------------------------------------------------------------------------
    def list_files(self, project_id: str, path: str = "/", ref: str = "main") -> models.Directory:
        return self.call(_api.list_files(project_id, path, ref))

    def get_file(self, project_id: str, path: str, ref: str = "main") -> models.RepositoryFile:
        return self.call(_api.get_file(project_id, path, ref))

    def read_file(self, project_id: str, path: str, ref: str = "main") -> bytes:
        """A file's bytes, whatever encoding the API used to send it."""
        return decode_file(self.get_file(project_id, path, ref))

    def walk_files(self, project_id: str, ref: str = "main", path: str = "/") -> Iterator[str]:
        """Every file path under `path`, depth first."""
        directory = self.list_files(project_id, path, ref)
        for entry in directory.entries:
            child = f"{path.rstrip('/')}/{entry.name}"
            if entry.type.value == "directory":
                yield from self.walk_files(project_id, ref, child)
            else:
                yield child.lstrip("/")

    def pull_files(
        self, project_id: str, directory: str | Path, ref: str = "main", progress: Progress | None = None
    ) -> list[Path]:
        """Writes the tree at `ref` under `directory`; `progress(files done, total files)`."""
        root = Path(directory).resolve()
        paths = list(self.walk_files(project_id, ref))
        written: list[Path] = []
        for done, path in enumerate(paths, start=1):
            target = safe_join(root, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read_file(project_id, path, ref))
            written.append(target)
            if progress is not None:
                progress(done, len(paths))
        return written

    # Exports -----------------------------------------------------------------------------------
    def create_export(
        self, project_id: str, format: ExportFormat = "zip", *, run_id: str | None = None, ref: str | None = None
    ) -> models.ExportOperation:
        return self.call(_api.create_export(project_id, format, run_id=run_id, ref=ref))

    def get_export(self, project_id: str, export_id: str) -> models.ExportOperation:
        return self.call(_api.get_export(project_id, export_id))

    def get_operation(self, callback_id: str) -> tuple[bool, models.AnyOperation]:
        """(finished, operation); a failed operation raises its error (OperationFailedError)."""
        response = self._send("GET", _api.operation_path(callback_id), ok=(202,))
        return response.status_code == 200, models.AnyOperation.model_validate(response.json()["data"])

    def wait_for_operation(
        self, callback_id: str, *, timeout: float = 600.0, interval: float = 1.0
    ) -> models.AnyOperation:
        deadline = time.monotonic() + timeout
        while True:
            try:
                finished, operation = self.get_operation(callback_id)
            except APIError as exc:
                raise as_operation_failure(exc) from exc
            if finished:
                return operation
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"operation {callback_id} still running after {timeout} s")
            self._sleep(interval)

    def wait_for_export(
        self, project_id: str, export_id: str, *, timeout: float = 600.0, interval: float = 1.0
    ) -> models.StrictExportOperation:
        operation = self.wait_for_operation(export_id, timeout=timeout, interval=interval).root
        assert isinstance(operation, models.StrictExportOperation)
        return operation

    def download_export(
        self, project_id: str, export_id: str, destination: str | Path, progress: Progress | None = None
    ) -> Path:
        """Streams a finished export's archive to `destination`."""
        response = self._send("GET", _api.export_download_path(project_id, export_id), ok=(302,))
        location = response.headers.get("Location") or str(response.url)
        return self._download(location, Path(destination), progress)

    def export(
        self, project_id: str, destination: str | Path, format: ExportFormat = "zip", progress: Progress | None = None
    ) -> Path:
        """Create, wait for and download an export, in one call."""
        operation = self.create_export(project_id, format)
        self.wait_for_export(project_id, operation.id)
        return self.download_export(project_id, operation.id, destination, progress)

    def _download(self, url: str, destination: Path, progress: Progress | None) -> Path:
        partial = destination.with_name(destination.name + ".part")
        with self._plain.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                raise error_for(response.status_code, envelope_of(response), response.headers.get("X-Request-Id"))
            total = int(response.headers["Content-Length"]) if "Content-Length" in response.headers else None
            done = 0
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        partial.replace(destination)  # a failed transfer never leaves a truncated archive behind
        return destination

    # Uploads and imports -----------------------------------------------------------------------
    def upload(self, path: str | Path, progress: Progress | None = None) -> models.PresignedUpload:
        """Streams a file to a presigned upload; returns the upload (its `upload_id`)."""
        path = Path(path)
        size = path.stat().st_size
        upload = self.call(_api.create_upload(path.name, size, archive_content_type(path)))
        with path.open("rb") as handle:
            reader = ProgressReader(handle, size, progress)
            response = self._plain.post(
                str(upload.url),
                data=dict(upload.fields),
                files={"file": (path.name, cast(IO[bytes], reader), upload.content_type)},
            )
        if not response.is_success:
            raise error_for(response.status_code, envelope_of(response), response.headers.get("X-Request-Id"))
        return upload

    def import_project(
        self, path: str | Path, name: str | None = None, progress: Progress | None = None, timeout: float = 600.0
    ) -> models.Project:
        """Uploads an archive (zip, tar.gz or .kiln) and waits for the project it becomes."""
        upload = self.upload(path, progress)
        operation = self.call(_api.import_upload(upload.upload_id, name))
        finished = self.wait_for_operation(operation.id, timeout=timeout).root
        assert isinstance(finished, models.StrictImportOperation) and finished.project_id is not None
        return self.get_project(finished.project_id.root)

    # Keys --------------------------------------------------------------------------------------
    def create_api_key(
        self, name: str, scopes: list[str], allowed_paths: list[str] | None = None
    ) -> models.ApiKeyWithSecret:
        return self.call(_api.create_api_key(name, scopes, allowed_paths))

    def iter_api_keys(self, **paging: Any) -> Iterator[models.ApiKey]:
        return self.paginate(_api.list_api_keys(**paging))

    def revoke_api_key(self, key_id: str) -> models.ApiKey:
        return self.call(_api.revoke_api_key(key_id))

    def rotate_api_key(self, key_id: str) -> models.ApiKeyWithSecret:
        return self.call(_api.rotate_api_key(key_id))

    # OAuth clients ---------------------------------------------------------------------------
    def create_oauth_client(self, name: str, redirect_uris: list[str], scopes: list[str]) -> models.OAuthClientView:
        return self.call(_api.create_oauth_client(name, redirect_uris, scopes))

    def iter_oauth_clients(self, **paging: Any) -> Iterator[models.OAuthClientView]:
        return self.paginate(_api.list_oauth_clients(**paging))

    # Webhooks ----------------------------------------------------------------------------------
    def create_webhook(self, url: str, events: list[str], description: str | None = None) -> models.WebhookWithSecret:
        """Subscribe `url` to event types (`run.completed`, `run.*`, `*`); the secret is shown once."""
        return self.call(_api.create_webhook(url, events, description))

    def iter_webhooks(self, **paging: Any) -> Iterator[models.Webhook]:
        return self.paginate(_api.list_webhooks(**paging))

    def delete_webhook(self, webhook_id: str) -> None:
        self.call(_api.delete_webhook(webhook_id))

    def test_webhook(self, webhook_id: str) -> models.DeliveryView:
        """Queue a test delivery (event `webhook.test`)."""
        return self.call(_api.test_webhook(webhook_id))

    def iter_deliveries(self, webhook_id: str, **paging: Any) -> Iterator[models.DeliveryView]:
        return self.paginate(_api.list_deliveries(webhook_id, **paging))


def decode_file(file: models.RepositoryFile) -> bytes:
    if file.encoding.value == "base64":
        return base64.b64decode(file.content)
    return file.content.encode("utf-8")


def safe_join(root: Path, relative: str) -> Path:
    """`root/relative`, refusing any path that would land outside `root`."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise ValueError(f"refusing to write {relative!r} outside {root}")
    return target


def as_operation_failure(exc: APIError) -> APIError:
    """The operation's own failure (its error names the operation) as OperationFailedError;
    any other error (a revoked key, an unknown id) stays what it is."""
    if "operation" in exc.details:
        return OperationFailedError(exc.status, exc.code, exc.message, exc.details, exc.request_id)
    return exc

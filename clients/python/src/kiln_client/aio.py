"""The asynchronous client: the same calls as `Kiln` (declared once in `_api`), the same retry
and idempotency rules, awaited on httpx.AsyncClient."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import httpx

from kiln_client import _api, models
from kiln_client._api import Call, ExportFormat, Page
from kiln_client._config import resolve
from kiln_client._oauth import OAuth, OAuthTokens
from kiln_client._retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from kiln_client.client import (
    CHUNK,
    USER_AGENT,
    Progress,
    ProgressReader,
    archive_content_type,
    as_operation_failure,
    bearer_auth,
    envelope_of,
)
from kiln_client.errors import APIError, KilnConnectionError, WaitTimeout, error_for
from kiln_client.sse import SSEParser

T = TypeVar("T")


class AsyncKiln:
    """`async with AsyncKiln() as kiln: await kiln.get_project(...)`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        oauth: OAuth | OAuthTokens | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        credentials = resolve(api_key, base_url, oauth.tokens if isinstance(oauth, OAuth) else oauth)
        self.base_url = credentials.base_url
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.auth = bearer_auth(credentials, oauth)
        self._http = httpx.AsyncClient(
            base_url=credentials.base_url,
            headers={"User-Agent": USER_AGENT},
            auth=self.auth,
            timeout=timeout,
            transport=transport,
        )
        self._plain = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._plain.aclose()

    async def __aenter__(self) -> AsyncKiln:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (),
        stream: bool = False,
    ) -> httpx.Response:
        headers = dict(headers or {})
        if method in _api.MUTATING:
            headers.setdefault("Idempotency-Key", str(uuid.uuid4()))  # one per call, kept by its retries
        attempt = 0
        while True:
            try:
                request = self._http.build_request(method, path, params=params, json=json_body, headers=headers)
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if attempt >= self.retry.max_retries:
                    raise KilnConnectionError(f"could not reach {self.base_url}: {exc}") from exc
                await self._sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < self.retry.max_retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                await response.aclose()
                await self._sleep(self.retry.delay(attempt, retry_after))
                attempt += 1
                continue
            if response.is_success or response.status_code in ok:
                return response
            if stream:
                await response.aread()
            raise error_for(response.status_code, envelope_of(response), response.headers.get("X-Request-Id"))

    async def call(self, call: Call[T]) -> T:
        response = await self._send(call.method, call.path, params=call.params, json_body=call.json)
        return call.parse(response.json() if response.content else {"data": None})  # 204: no body

    async def paginate(self, call: Call[Page[T]]) -> AsyncIterator[T]:
        current: Call[Page[T]] | None = call
        while current is not None:
            page = await self.call(current)
            for item in page.items:
                yield item
            current = _api.next_page(current, page)

    # Projects and the specification workflow
    async def create_project(self, name: str, description: str) -> models.Project:
        return await self.call(_api.create_project(name, description))

    async def list_projects(self, **filters: Any) -> Page[models.Project]:
        return await self.call(_api.list_projects(**filters))

    def iter_projects(self, **filters: Any) -> AsyncIterator[models.Project]:
        return self.paginate(_api.list_projects(**filters))

    async def get_project(self, project_id: str) -> models.Project:
        return await self.call(_api.get_project(project_id))

    async def update_project(
        self, project_id: str, *, name: str | None = None, description: str | None = None
    ) -> models.Project:
        return await self.call(_api.update_project(project_id, name=name, description=description))

    async def archive_project(self, project_id: str) -> models.ProjectArchived:
        return await self.call(_api.archive_project(project_id))

    async def clarify(self, project_id: str) -> models.Clarification:
        return await self.call(_api.clarify(project_id))

    async def answer(self, project_id: str, answers: list[dict[str, Any]]) -> models.ProjectWithSpec:
        return await self.call(_api.answer(project_id, answers))

    async def regenerate(self, project_id: str, feedback: str) -> models.ProjectWithSpec:
        return await self.call(_api.regenerate(project_id, feedback))

    async def get_spec(self, project_id: str, version: int | None = None) -> models.SpecView:
        return await self.call(_api.get_spec(project_id, version))

    async def approve(self, project_id: str, version: int | None = None) -> models.Project:
        return await self.call(_api.approve(project_id, version))

    # Builds
    async def create_run(self, project_id: str) -> models.Run:
        return await self.call(_api.create_run(project_id))

    def iter_runs(self, project_id: str, **filters: Any) -> AsyncIterator[models.Run]:
        return self.paginate(_api.list_runs(project_id, **filters))

    async def get_run(self, project_id: str, run_id: str) -> models.RunDetail:
        return await self.call(_api.get_run(project_id, run_id))

    async def cancel_run(self, project_id: str, run_id: str) -> models.Run:
        return await self.call(_api.cancel_run(project_id, run_id))

    def iter_events(self, project_id: str, run_id: str, **filters: Any) -> AsyncIterator[models.Event]:
        return self.paginate(_api.list_events(project_id, run_id, **filters))

    async def wait_for_run(
        self, project_id: str, run_id: str, *, timeout: float = 600.0, interval: float = 1.0
    ) -> models.RunDetail:
        deadline = time.monotonic() + timeout
        while True:
            run = await self.get_run(project_id, run_id)
            if run.status.value in _api.TERMINAL_RUN_STATUSES:
                return run
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"run {run_id} still {run.status.value} after {timeout} s")
            await self._sleep(interval)

    async def follow(
        self, project_id: str, run_id: str, *, last_event_id: int | None = None, timeout: float = 600.0
    ) -> AsyncIterator[models.Event]:
        """Like `Kiln.follow`: every event until the run ends, resuming with Last-Event-ID."""
        deadline = time.monotonic() + timeout
        path = _api.events_stream_path(project_id, run_id)
        last = last_event_id
        while time.monotonic() < deadline:
            headers = {"Accept": "text/event-stream"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            response = await self._send("GET", path, headers=headers, stream=True)
            try:
                if response.status_code == 204:
                    return
                parser = SSEParser()
                async for line in response.aiter_lines():
                    frame = parser.feed(line)
                    if frame is None or not frame.data:
                        continue
                    event = models.Event.model_validate(json.loads(frame.data))
                    last = event.id
                    yield event
                    if event.event_type.value in _api.TERMINAL_EVENTS:
                        return
            finally:
                await response.aclose()
        raise WaitTimeout(f"run {run_id} did not finish within {timeout} s")

    # Files
    async def list_files(self, project_id: str, path: str = "/", ref: str = "main") -> models.Directory:
        return await self.call(_api.list_files(project_id, path, ref))

    async def get_file(self, project_id: str, path: str, ref: str = "main") -> models.RepositoryFile:
        return await self.call(_api.get_file(project_id, path, ref))

    # Exports and operations
    async def create_export(
        self, project_id: str, format: ExportFormat = "zip", *, run_id: str | None = None, ref: str | None = None
    ) -> models.ExportOperation:
        return await self.call(_api.create_export(project_id, format, run_id=run_id, ref=ref))

    async def get_operation(self, callback_id: str) -> tuple[bool, models.AnyOperation]:
        response = await self._send("GET", _api.operation_path(callback_id), ok=(202,))
        return response.status_code == 200, models.AnyOperation.model_validate(response.json()["data"])

    async def wait_for_operation(
        self, callback_id: str, *, timeout: float = 600.0, interval: float = 1.0
    ) -> models.AnyOperation:
        deadline = time.monotonic() + timeout
        while True:
            try:
                finished, operation = await self.get_operation(callback_id)
            except APIError as exc:
                raise as_operation_failure(exc) from exc
            if finished:
                return operation
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"operation {callback_id} still running after {timeout} s")
            await self._sleep(interval)

    async def wait_for_export(
        self, project_id: str, export_id: str, *, timeout: float = 600.0, interval: float = 1.0
    ) -> models.StrictExportOperation:
        operation = (await self.wait_for_operation(export_id, timeout=timeout, interval=interval)).root
        assert isinstance(operation, models.StrictExportOperation)
        return operation

    async def download_export(
        self, project_id: str, export_id: str, destination: str | Path, progress: Progress | None = None
    ) -> Path:
        response = await self._send("GET", _api.export_download_path(project_id, export_id), ok=(302,))
        location = response.headers.get("Location") or str(response.url)
        destination = Path(destination)
        partial = destination.with_name(destination.name + ".part")
        async with self._plain.stream("GET", location) as download:
            if not download.is_success:
                await download.aread()
                raise error_for(download.status_code, envelope_of(download), download.headers.get("X-Request-Id"))
            total = int(download.headers["Content-Length"]) if "Content-Length" in download.headers else None
            done = 0
            with partial.open("wb") as out:
                async for chunk in download.aiter_bytes(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        partial.replace(destination)
        return destination

    async def upload(self, path: str | Path, progress: Progress | None = None) -> models.PresignedUpload:
        path = Path(path)
        size = path.stat().st_size
        upload = await self.call(_api.create_upload(path.name, size, archive_content_type(path)))
        with path.open("rb") as handle:
            # Streamed in chunks (local file reads are short; the network is what we await).
            reader = ProgressReader(handle, size, progress)
            response = await self._plain.post(
                str(upload.url),
                data=dict(upload.fields),
                files={"file": (path.name, cast(IO[bytes], reader), upload.content_type)},
            )
        if not response.is_success:
            raise error_for(response.status_code, envelope_of(response), response.headers.get("X-Request-Id"))
        return upload

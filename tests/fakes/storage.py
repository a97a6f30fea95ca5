"""The bucket in memory: kiln.domain.archive_steps.Storage, kiln.domain.archives.Sink and
kiln.domain.operations.Presigner, with kiln.adapters.s3_transfer's semantics.

An object appears when its multipart sink is closed, never before, and not at all when the
writer fails (the upload is aborted). `put` stands for a client's presigned upload.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any, BinaryIO
from urllib.parse import quote

from kiln.clock import Clock, iso, utc_now
from tests.fakes._hooks import Hooks

MAX_PRESIGN_SECONDS = 3600


class ObjectTooLarge(Exception):
    """kiln.adapters.s3_transfer.ObjectTooLarge: the object is larger than the reader accepts."""


class FakeSink:
    """A write-only binary sink (no seek, no tell): size and sha256 once closed. With a
    storage it is a multipart upload of `key`; `keep=False` keeps only counts, for tests of
    bounded memory that stream more than they could hold."""

    def __init__(
        self, storage: FakeStorage | None = None, key: str = "", content_type: str = "", keep: bool = True
    ) -> None:
        self.storage, self.key, self.content_type, self.keep = storage, key, content_type, keep
        self.size = 0
        self.sha256 = ""
        self.writes = 0
        self.largest_write = 0
        self.closed = False
        self._hash = hashlib.sha256()
        self._buffer = io.BytesIO()

    def write(self, data: bytes, /) -> int:
        if self.closed:
            raise ValueError("write to a closed sink")
        self.writes += 1
        self.size += len(data)
        self.largest_write = max(self.largest_write, len(data))
        self._hash.update(data)
        if self.keep:
            self._buffer.write(data)
        return len(data)

    def getvalue(self) -> bytes:
        if not self.keep:
            raise ValueError("this sink kept only counts")
        return self._buffer.getvalue()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.sha256 = self._hash.hexdigest()
        if self.storage is not None:
            self.storage.landed(self)

    def __enter__(self) -> FakeSink:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:  # the multipart upload is aborted: no object
            self.closed = True


class FakeStorage(Hooks):
    def __init__(self, keep_bodies: bool = True) -> None:
        super().__init__()
        self.keep_bodies = keep_bodies
        self.objects: dict[str, bytes] = {}
        self.sizes: dict[str, int] = {}  # every object's size (bodies may not be kept)
        self.sinks: list[FakeSink] = []
        self.deleted: list[str] = []
        self.deleted_prefixes: list[str] = []

    # --- the port -----------------------------------------------------------------------------

    def sink(self, key: str, content_type: str, filename: str) -> FakeSink:
        self._hook("sink")
        sink = FakeSink(self, key, content_type, keep=self.keep_bodies)
        self.sinks.append(sink)
        return sink

    def head(self, key: str) -> dict[str, Any] | None:
        self._hook("head")
        return {"size": self.sizes[key]} if key in self.sizes else None

    def download_to(self, key: str, fileobj: BinaryIO, max_bytes: int) -> int:
        self._hook("download_to")
        if key not in self.sizes:
            raise LookupError(key)
        if self.sizes[key] > max_bytes:
            raise ObjectTooLarge(f"{key} is larger than {max_bytes} bytes")
        fileobj.write(self.objects[key])
        return self.sizes[key]

    def delete(self, key: str) -> None:
        self._hook("delete")
        self.deleted.append(key)
        self._remove(key)

    def delete_prefix(self, prefix: str) -> int:
        self._hook("delete_prefix")
        if not prefix or not prefix.strip("/"):
            raise ValueError("refusing to delete without a prefix")
        self.deleted_prefixes.append(prefix)
        doomed = [key for key in self.sizes if key.startswith(prefix)]
        for key in doomed:
            self._remove(key)
        return len(doomed)

    # --- what tests and the other fakes use ------------------------------------------------------

    def put(self, key: str, body: bytes) -> None:
        """An object written by someone else (a client's presigned upload, the repository)."""
        self.objects[key] = body
        self.sizes[key] = len(body)

    def expire(self, key: str) -> None:
        """The bucket's lifecycle removes an object (no client deleted it)."""
        self._remove(key)

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(key for key in self.sizes if key.startswith(prefix))

    def landed(self, sink: FakeSink) -> None:
        self.sizes[sink.key] = sink.size
        if sink.keep:
            self.objects[sink.key] = sink.getvalue()

    def _remove(self, key: str) -> None:
        self.objects.pop(key, None)
        self.sizes.pop(key, None)


class FakePresigner(Hooks):
    """kiln.domain.operations.Presigner: URLs that name what they grant, minted on the clock."""

    def __init__(self, clock: Clock = utc_now) -> None:
        super().__init__()
        self.clock = clock
        self.downloads: list[str] = []

    def download(self, key: str, filename: str, expires_seconds: int) -> tuple[str, str]:
        self._hook("download")
        lifetime = max(1, min(expires_seconds, MAX_PRESIGN_SECONDS))
        self.downloads.append(key)
        url = f"https://bucket.s3.invalid/{quote(key)}?filename={quote(filename)}&expires={lifetime}"
        return url, iso(self.clock() + timedelta(seconds=lifetime))

    def upload(self, key: str, content_type: str, size_bytes: int, expires_seconds: int) -> dict[str, Any]:
        self._hook("upload")
        lifetime = max(1, min(expires_seconds, MAX_PRESIGN_SECONDS))
        return {
            "url": "https://bucket.s3.invalid/",
            "method": "POST",
            "fields": {"key": key, "Content-Type": content_type, "content-length-range": f"{size_bytes}"},
            "expiresAt": iso(self.clock() + timedelta(seconds=lifetime)),
        }

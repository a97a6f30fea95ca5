"""Large transfers to and from the bucket: streamed multipart writes, presigned URLs, bounded reads.

- `MultipartSink` is a write-only binary stream that lands in one S3 object. It holds at most
  one part in memory, so an archive writer (zipfile, tarfile) can produce an object far larger
  than the function's memory. On any failure the multipart upload is aborted.
- `presigned_download` / `presigned_upload` hand a client a short-lived URL (at most 15
  minutes) so the bytes never pass through API Gateway or a Lambda response; `Presigned`
  offers both to the domain (kiln.domain.operations.Presigner).
- `head`, `download_to`, `delete` and `delete_prefix` serve the workflows that check, read
  and clean up those objects.

The bucket is versioned: `delete` and `delete_prefix` leave noncurrent versions behind, which
the bucket's lifecycle rules expire.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import unicodedata
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from kiln import config
from kiln.adapters.aws import client
from kiln.clock import iso

log = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MIB
MIN_PART_SIZE = 5 * MIB  # S3's floor for every part but the last
MAX_PART_SIZE = 5 * 1024 * MIB
MAX_PARTS = 10_000
MAX_PRESIGN_SECONDS = 900
MAX_POST_BYTES = 5 * 1024 * MIB  # a single POST (or PUT) carries at most 5 GiB
DOWNLOAD_CHUNK = 1 * MIB
DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]")
_SIGV4_HOOK_ID = "kiln-s3-transfer-presign-sigv4"


class ObjectTooLarge(Exception):
    """An object holds more bytes than the caller agreed to read."""

    def __init__(self, key: str, max_bytes: int, size: int | None = None) -> None:
        self.key = key
        self.max_bytes = max_bytes
        self.size = size
        detail = f"{size} bytes" if size is not None else "more"
        super().__init__(f"object {key!r} holds {detail}; at most {max_bytes} bytes are accepted")


class ObjectNotFound(LookupError):
    """The object does not exist (or is not visible to this function)."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no object {key!r}")


# --------------------------------------------------------------------------- multipart writes


class MultipartSink:
    """A write-only, unseekable binary stream stored as one S3 object.

    Bytes are cut into parts of `part_size`; the multipart upload is created when the first
    full part is ready, so at most one part is buffered. If `close()` finds no part uploaded
    yet (at most `part_size` bytes in all, including none), the object is written with one
    PutObject instead: a small result costs one request and never leaves an upload open.

    Use it as a context manager: an exception inside the block, or in `close()`, aborts the
    multipart upload and re-raises, so neither parts nor a partial object remain. `sha256` (hex)
    and `size` are available after a successful close.

    Metadata is fixed when the upload starts, so it cannot carry a digest of the content being
    streamed; record `sha256` and `size` next to the key instead (or pass a digest known up front).
    """

    def __init__(
        self,
        key: str,
        *,
        content_type: str = "application/octet-stream",
        content_disposition: str | None = None,
        metadata: Mapping[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if not key:
            raise ValueError("an object key is required")
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ValueError(f"part_size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes")
        self.key = key
        self.part_size = part_size
        self._bucket = config.bucket_name()
        self._s3 = client("s3")
        self._object_args: dict[str, Any] = {"ContentType": content_type}
        if content_disposition:
            self._object_args["ContentDisposition"] = content_disposition
        if metadata:
            self._object_args["Metadata"] = {str(k): str(v) for k, v in metadata.items()}
        self._buffer = bytearray()
        self._hash = hashlib.sha256()
        self._written = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._closed = False
        self._completed = False
        self.sha256: str | None = None
        self.size: int | None = None
        self.etag: str | None = None

    # -- io-like surface (what zipfile, tarfile and gzip use)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed MultipartSink")
        with memoryview(data) as view, view.cast("B") as chunk:
            count = len(chunk)
            self._hash.update(chunk)
            self._written += count
            offset = 0
            while offset < count:
                take = min(self.part_size - len(self._buffer), count - offset)
                self._buffer += chunk[offset : offset + take]
                offset += take
                if len(self._buffer) >= self.part_size:
                    self._upload_buffer()
        return count

    def tell(self) -> int:
        """Bytes written so far (zipfile records entry offsets with it)."""
        return self._written

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def flush(self) -> None:
        """Does nothing: a part is sent only once full, as S3 requires 5 MiB parts."""

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def upload_id(self) -> str | None:
        return self._upload_id

    @property
    def parts_uploaded(self) -> int:
        return len(self._parts)

    def close(self) -> None:
        """Send what is buffered and complete the object; on failure abort and re-raise."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._upload_id is None:
                body = bytes(self._buffer)
                self._buffer = bytearray()
                response = self._s3.put_object(
                    Bucket=self._bucket, Key=self.key, Body=body, ChecksumCRC32=_crc32(body), **self._object_args
                )
            else:
                if self._buffer:
                    self._upload_buffer()
                response = self._s3.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self.key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except BaseException:
            self.abort()
            raise
        self._completed = True
        self.etag = response.get("ETag")
        self.sha256 = self._hash.hexdigest()
        self.size = self._written

    def abort(self) -> None:
        """Drop the upload and its parts. Safe to call twice; does nothing once completed."""
        self._closed = True
        self._buffer = bytearray()
        if self._completed or self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        try:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self.key, UploadId=upload_id)
        except (ClientError, BotoCoreError):
            # The bucket's lifecycle rule removes incomplete uploads after a day; the caller's
            # own error matters more than this one.
            log.warning(
                "could not abort multipart upload", extra={"key": self.key, "uploadId": upload_id}, exc_info=True
            )

    def __enter__(self) -> MultipartSink:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self.close()

    # -- internals

    def _upload_buffer(self) -> None:
        try:
            if self._upload_id is None:
                self._upload_id = self._s3.create_multipart_upload(
                    Bucket=self._bucket,
                    Key=self.key,
                    ChecksumAlgorithm="CRC32",
                    **self._object_args,
                )["UploadId"]
            number = len(self._parts) + 1
            if number > MAX_PARTS:
                raise ValueError(f"object {self.key!r} would need more than {MAX_PARTS} parts; use a larger part_size")
            # bytes, not the bytearray: nothing downstream copies it again. With the CRC32 sent as
            # a header, botocore sends the body as it is rather than re-encoding it aws-chunked.
            body = bytes(self._buffer)
            self._buffer = bytearray()
            checksum = _crc32(body)
            response = self._s3.upload_part(
                Bucket=self._bucket,
                Key=self.key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=body,
                ChecksumCRC32=checksum,
            )
            del body
            self._parts.append(
                {
                    "PartNumber": number,
                    "ETag": response["ETag"],
                    "ChecksumCRC32": response.get("ChecksumCRC32") or checksum,
                }
            )
        except BaseException:
            self.abort()
            raise


# --------------------------------------------------------------------------- presigned URLs


def presigned_download(key: str, filename: str, expires_seconds: int = MAX_PRESIGN_SECONDS) -> tuple[str, datetime]:
    """A GET URL that downloads `key` as an attachment named `filename`; lifetime at most 900 s."""
    lifetime = _lifetime(expires_seconds)
    expires_at = _now() + timedelta(seconds=lifetime)
    url = _presigning_client().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": config.bucket_name(),
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename),
        },
        ExpiresIn=lifetime,
    )
    return url, expires_at


def presigned_upload(
    key: str, content_type: str, size_bytes: int, expires_seconds: int = MAX_PRESIGN_SECONDS
) -> dict[str, Any]:
    """A browser-style POST upload of exactly `size_bytes` bytes of `content_type` to `key`.

    The signed policy pins the key, the Content-Type and `content-length-range` [size, size];
    S3 rejects a body of any other length. The caller sends `fields` as multipart/form-data
    fields followed by the `file` field, to `url`.
    """
    if not key:
        raise ValueError("an object key is required")
    if not content_type or any(ord(c) < 0x20 or ord(c) > 0x7E for c in content_type):
        raise ValueError("content_type must be printable ASCII")
    if isinstance(size_bytes, bool) or not isinstance(size_bytes, int) or not 0 <= size_bytes <= MAX_POST_BYTES:
        raise ValueError(f"size_bytes must be an integer between 0 and {MAX_POST_BYTES}")
    lifetime = _lifetime(expires_seconds)
    expires_at = _now() + timedelta(seconds=lifetime)
    post = _presigning_client().generate_presigned_post(
        Bucket=config.bucket_name(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", size_bytes, size_bytes]],
        ExpiresIn=lifetime,
    )
    return {"url": post["url"], "method": "POST", "fields": post["fields"], "expiresAt": expires_at}


class Presigned:
    """kiln.domain.operations.Presigner: the two functions above, with times as RFC 3339 strings."""

    def download(self, key: str, filename: str, expires_seconds: int = MAX_PRESIGN_SECONDS) -> tuple[str, str]:
        url, expires_at = presigned_download(key, filename, expires_seconds)
        return url, iso(expires_at)

    def upload(
        self, key: str, content_type: str, size_bytes: int, expires_seconds: int = MAX_PRESIGN_SECONDS
    ) -> dict[str, Any]:
        presigned = presigned_upload(key, content_type, size_bytes, expires_seconds)
        return {**presigned, "expiresAt": iso(presigned["expiresAt"])}


def content_disposition(filename: str) -> str:
    """`attachment; filename="<ascii>"` plus RFC 6266 `filename*` when the name is not plain ASCII."""
    name = _basename(filename)
    fallback = _ascii_filename(name)
    header = f'attachment; filename="{fallback}"'
    if not name.isascii():
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


# --------------------------------------------------------------------------- reads and deletes


def head(key: str) -> dict[str, Any] | None:
    """Size, content type and metadata of `key`, or None when it does not exist."""
    try:
        response = client("s3").head_object(Bucket=config.bucket_name(), Key=key)
    except ClientError as error:
        if _missing(error):
            return None
        raise
    return {
        "size": response["ContentLength"],
        "contentType": response.get("ContentType"),
        "metadata": dict(response.get("Metadata") or {}),
        "etag": response.get("ETag"),
        "lastModified": response.get("LastModified"),
        "versionId": response.get("VersionId"),
    }


def download_to(key: str, fileobj: BinaryIO, max_bytes: int) -> int:
    """Stream `key` into `fileobj` in chunks; returns the byte count.

    Raises ObjectNotFound, or ObjectTooLarge as soon as the object announces, or delivers,
    more than `max_bytes` (`fileobj` may then hold a partial copy: discard it).
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    try:
        response = client("s3").get_object(Bucket=config.bucket_name(), Key=key)
    except ClientError as error:
        if _missing(error):
            raise ObjectNotFound(key) from error
        raise
    body = response["Body"]
    try:
        announced = response.get("ContentLength")
        if announced is not None and announced > max_bytes:
            raise ObjectTooLarge(key, max_bytes, announced)
        total = 0
        for chunk in body.iter_chunks(chunk_size=DOWNLOAD_CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise ObjectTooLarge(key, max_bytes)
            fileobj.write(chunk)
        return total
    finally:
        body.close()


def delete(key: str) -> None:
    client("s3").delete_object(Bucket=config.bucket_name(), Key=key)


def delete_prefix(prefix: str) -> int:
    """Delete every object under `prefix` (ListObjectsV2 + DeleteObjects); returns the count."""
    if not prefix or not prefix.strip("/"):
        raise ValueError("refusing to delete without a prefix")
    s3 = client("s3")
    bucket = config.bucket_name()
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": DELETE_BATCH}
    ):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"could not delete {len(errors)} objects under {prefix!r}: "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )
            deleted += len(batch)
    return deleted


# --------------------------------------------------------------------------- helpers


def _presigning_client() -> Any:
    """The shared S3 client, made to presign with SigV4.

    Unless a signature version is configured, botocore presigns S3 URLs and POSTs with SigV2
    in the regions that once accepted it (us-east-1 among them), and buckets created since
    mid-2020 reject SigV2. The hook (registered once per client) picks SigV4 for presigning;
    ordinary requests are SigV4 already.
    """
    s3 = client("s3")
    s3.meta.events.register_first("choose-signer.s3", _presign_with_sigv4, unique_id=_SIGV4_HOOK_ID)
    return s3


def _presign_with_sigv4(signature_version: Any = None, **_: Any) -> str | None:
    if not isinstance(signature_version, str):
        return None
    for suffix in ("-query", "-presign-post"):
        if signature_version.endswith(suffix) and signature_version[: -len(suffix)] in {"v4", "s3v4"}:
            return f"s3v4{suffix}"
    return None  # other signers (SigV4a, S3 Express) keep botocore's own choice


def _crc32(data: bytes) -> str:
    """S3's x-amz-checksum-crc32: the big-endian CRC32, base64-encoded."""
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode("ascii")


def _lifetime(expires_seconds: int) -> int:
    return max(1, min(int(expires_seconds), MAX_PRESIGN_SECONDS))


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _basename(filename: str) -> str:
    name = re.split(r"[/\\]", filename or "")[-1]
    return "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()


def _ascii_filename(name: str) -> str:
    """Letters, digits, space, `.`, `_` and `-` only: accents dropped, anything else `_`."""
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    ascii_name = _SAFE_FILENAME.sub("_", decomposed)
    ascii_name = re.sub(r"_+", "_", ascii_name).strip(" .")[:150].strip(" .")
    if not ascii_name or set(ascii_name) <= {"_"}:
        return "download"
    return ascii_name


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _MISSING


class ArchiveStorage:
    """kiln.domain.archive_steps.Storage: archives in and out of the bucket."""

    def sink(self, key: str, content_type: str, filename: str) -> MultipartSink:
        return MultipartSink(key, content_type=content_type, content_disposition=content_disposition(filename))

    def head(self, key: str) -> dict[str, Any] | None:
        return head(key)

    def download_to(self, key: str, fileobj: BinaryIO, max_bytes: int) -> int:
        return download_to(key, fileobj, max_bytes)

    def delete(self, key: str) -> None:
        delete(key)

    def delete_prefix(self, prefix: str) -> int:
        return delete_prefix(prefix)

"""A project's repository objects in S3 (kiln.domain.repository.ObjectStore).

One S3 object per git object, laid out and encoded like git's loose objects: key
`repos/<workspaceId>/<projectId>/objects/<id[:2]>/<id[2:]>`, body the zlib-compressed
`<type> <length>\\0<body>` bytes. Copying the `objects/` prefix into a `.git/objects`
directory gives git a repository it can read as it is.

Objects are immutable and named by their content, so a PUT is idempotent; an instance skips
the PUT for ids it already wrote or read. Batches (put_many, get_many) run on a small thread
pool: a directory listing that needs each file's size, or a commit of many files, is bound
by latency, not bandwidth.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from kiln import config, ids
from kiln.adapters.aws import client

MAX_WORKERS = 16
CONTENT_TYPE = "application/x-git-loose-object"
_OBJECT_ID = re.compile(r"^[0-9a-f]{40}$")
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


def objects_prefix(workspace_id: str, project_id: str) -> str:
    return f"repos/{workspace_id}/{project_id}/objects/"


class S3ObjectStore:
    """The objects of one project's repository."""

    def __init__(self, workspace_id: str, project_id: str, max_workers: int = MAX_WORKERS) -> None:
        if not ids.is_valid("workspace", workspace_id) or not ids.is_valid("project", project_id):
            raise ValueError("objects need a workspace id and a project id")
        self._prefix = objects_prefix(workspace_id, project_id)
        self._max_workers = max_workers
        self._known: set[str] = set()  # ids this instance wrote or read: stored for good

    def key(self, object_id: str) -> str:
        if not _OBJECT_ID.match(object_id):
            raise ValueError(f"not an object id: {object_id!r}")
        return f"{self._prefix}{object_id[:2]}/{object_id[2:]}"

    def put(self, object_id: str, raw: bytes) -> None:
        self._put(client("s3"), object_id, raw)

    def put_many(self, objects: Mapping[str, bytes]) -> None:
        pending = {object_id: raw for object_id, raw in objects.items() if object_id not in self._known}
        s3 = client("s3")  # built once here: the worker threads share it (clients are thread-safe)
        self._each(lambda item: self._put(s3, *item), list(pending.items()))

    def get(self, object_id: str) -> bytes | None:
        return self._get(client("s3"), object_id)

    def get_many(self, object_ids: Iterable[str]) -> dict[str, bytes]:
        wanted = list(dict.fromkeys(object_ids))
        s3 = client("s3")
        found = self._each(lambda object_id: self._get(s3, object_id), wanted)
        return {object_id: raw for object_id, raw in zip(wanted, found, strict=True) if raw is not None}

    def has(self, object_id: str) -> bool:
        if object_id in self._known:
            return True
        try:
            client("s3").head_object(Bucket=config.bucket_name(), Key=self.key(object_id))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        self._known.add(object_id)
        return True

    def _put(self, s3: Any, object_id: str, raw: bytes) -> None:
        if object_id in self._known:
            return
        s3.put_object(
            Bucket=config.bucket_name(), Key=self.key(object_id), Body=zlib.compress(raw), ContentType=CONTENT_TYPE
        )
        self._known.add(object_id)

    def _get(self, s3: Any, object_id: str) -> bytes | None:
        try:
            body = s3.get_object(Bucket=config.bucket_name(), Key=self.key(object_id))["Body"].read()
        except ClientError as error:
            if _missing(error):
                return None
            raise
        raw = zlib.decompress(body)
        self._known.add(object_id)
        return raw

    def _each(self, work: Any, items: list[Any]) -> list[Any]:
        if len(items) <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self._max_workers, len(items))) as pool:
            return list(pool.map(work, items))


def _missing(error: ClientError) -> bool:
    # Without s3:ListBucket S3 answers a missing key with 403 AccessDenied, which is not
    # treated as missing here: the function's role must be allowed to list the bucket.
    return error.response.get("Error", {}).get("Code") in _MISSING

"""What build_verify sends the build sandbox and what comes back. No AWS here.

The sandbox (kiln.workers.build_sandbox) is a Lambda function that can reach nothing, so the
tree travels inline, in the synchronous Invoke's payload: its files as JSON (contents in
base64), zlib-compressed, in base64. Lambda takes at most 6 MB of payload per synchronous
invocation; a tree whose encoding is larger is refused before anything is sent (a presigned
S3 URL would need the network the sandbox must not have).

    request  {"format": FORMAT, "timeoutSeconds": 480, "files": 12, "tree": "<base64>"}
    report   {"checks": [<VerificationCheck>, ...]}   (compile, then unittest)
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from pydantic import ValidationError

from kiln.domain.builds import VerificationCheck
from kiln.domain.verification import SandboxRefused

FORMAT = "kiln-tree/zlib+base64/v1"
# Lambda's limit is 6 MB for the whole request; what is left is for the JSON around the tree.
MAX_PAYLOAD_BYTES = 5_800_000
# The sum of the files' sizes the sandbox writes to its /tmp; also bounds what it decompresses.
MAX_TREE_BYTES = 64 * 1024 * 1024
REPORT_CHECKS = ("compile", "unittest")


class BadRequest(ValueError):
    """The payload is not a tree in FORMAT (a bug of the caller, never of the generated code)."""


def encode_request(files: dict[str, bytes], timeout_seconds: float) -> dict[str, Any]:
    size = sum(len(content) for content in files.values())
    if size > MAX_TREE_BYTES:
        raise SandboxRefused(f"the tree holds {_mb(size)} of files; the sandbox takes at most {_mb(MAX_TREE_BYTES)}")
    document = json.dumps(
        {path: base64.b64encode(content).decode("ascii") for path, content in files.items()},
        sort_keys=True,
        separators=(",", ":"),
    ).encode("ascii")
    tree = base64.b64encode(zlib.compress(document, 9)).decode("ascii")
    if len(tree) > MAX_PAYLOAD_BYTES:
        raise SandboxRefused(
            f"the tree is {_mb(len(tree))} once compressed; the sandbox takes at most "
            f"{_mb(MAX_PAYLOAD_BYTES)} (Lambda's 6 MB synchronous invocation payload)"
        )
    return {"format": FORMAT, "timeoutSeconds": timeout_seconds, "files": len(files), "tree": tree}


def decode_request(event: Any) -> tuple[dict[str, bytes], float]:
    """(files, timeout) of a request; BadRequest when it is anything else."""
    if not isinstance(event, dict) or event.get("format") != FORMAT:
        raise BadRequest(f"expected a request in format {FORMAT!r}")
    timeout = event.get("timeoutSeconds")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise BadRequest("timeoutSeconds must be a positive number")
    try:
        compressed = base64.b64decode(str(event.get("tree", "")), validate=True)
        inflater = zlib.decompressobj()
        # Base64 makes every file 4/3 larger; anything beyond that bound is a bomb, not a tree.
        limit = MAX_TREE_BYTES * 4 // 3 + 1024 * 1024
        document = inflater.decompress(compressed, limit)
        if inflater.unconsumed_tail or not inflater.eof:
            raise BadRequest(f"the tree inflates past {_mb(limit)} or is truncated")
        raw = json.loads(document)
    except (binascii.Error, zlib.error, ValueError) as error:
        raise BadRequest(f"the tree is not zlib-compressed JSON in base64: {error}") from None
    if not isinstance(raw, dict) or len(raw) != event.get("files"):
        raise BadRequest("the tree is not the announced mapping of files")
    files: dict[str, bytes] = {}
    for path, content in raw.items():
        if not isinstance(content, str):
            raise BadRequest(f"{path!r}: content is not base64 text")
        try:
            files[path] = base64.b64decode(content, validate=True)
        except binascii.Error:
            raise BadRequest(f"{path!r}: content is not base64") from None
    return files, float(timeout)


def encode_report(checks: list[VerificationCheck]) -> dict[str, Any]:
    return {"checks": [check.model_dump(mode="json", exclude_none=True) for check in checks]}


def decode_report(payload: Any) -> list[VerificationCheck]:
    """The sandbox's checks: exactly compile and unittest, or a failing `sandbox` check saying
    what came back instead: an answer that is not a report never counts as a pass."""
    try:
        checks = [VerificationCheck.model_validate(item) for item in payload["checks"]]
    except (TypeError, KeyError, ValidationError) as error:
        return [
            VerificationCheck(
                name="sandbox", passed=False, output=f"the sandbox's answer is unreadable: {error}"[:2000]
            )
        ]
    if tuple(check.name for check in checks) != REPORT_CHECKS:
        return [
            VerificationCheck(
                name="sandbox",
                passed=False,
                output=f"the sandbox answered checks {[c.name for c in checks]}, not {list(REPORT_CHECKS)}",
            )
        ]
    return checks


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"

"""GET /app: the web console's page, served by Kiln itself (its files: kiln.handlers.console_assets).

The console is hand-written HTML, CSS and JavaScript modules kept in kiln/static/console/ (no
framework, no build step, no CDN). Everything it shows it reads from the API with the session
cookie, in the browser: this function only hands out files, so it needs no authorizer, no
pydantic, no AWS SDK and no table (docs/console.md says why one function rather than S3).

`/app/` is the page. Its URLs are relative to its directory, because API Gateway serves the API
under its stage (`/prod/app/` loads `/prod/app/app.js` and calls `/prod/v1/...`, the local cloud
the same without `/prod`); `/app` (no slash) is redirected to `app/` so they resolve. Views are
chosen by the URL's fragment (`#/projects/proj_...`), which never reaches the server, so one page
serves them all.

Only the names of kiln.console_files.FILES are served: the path parameter is looked up in that table and never
joined to a file system path. Files are revalidated on every use (`no-cache` with an ETag, 304 on
a match) rather than cached as immutable, since modules import each other by plain names that a
new version keeps.

Every answer carries the headers of Kiln's other pages (kiln.http.pages.security_headers) with the
console's own Content-Security-Policy: scripts and styles from this origin only (no
'unsafe-inline'), connections to this origin and to the storage origin that presigned uploads go
to (imports by drag and drop send the archive there), no framing.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiln import config
from kiln.console_files import PAGE
from kiln.envelope import JSON_CONTENT_TYPE, ErrorCode, dumps, error_body
from kiln.handlers.docs_openapi import request_id
from kiln.http.contract import Answer, Contract, described
from kiln.http.pages import security_headers

# As every function's: the cold start fails on a missing or malformed variable (the page reads
# none but the bucket's name, for its policy, yet a misconfigured deployment should not half-work).
config.load(config.ApiSettings)

STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


def upload_origins(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The origins a presigned upload's URL may have: the storage endpoint the functions use.

    Locally (and in any emulator) that is the S3 endpoint configured for the SDK; on AWS the
    bucket's virtual-hosted names, global and regional (botocore presigns one or the other
    depending on the region).
    """
    env = os.environ if environ is None else environ
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme in ("http", "https") and parts.netloc and _plain(parts.netloc):
            return (f"{parts.scheme}://{parts.netloc}",)
        return ()
    bucket = env.get(config.BUCKET_NAME, "")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or ""
    if not _plain(bucket):
        return ()
    origins = [f"https://{bucket}.s3.amazonaws.com"]
    if region and _plain(region):
        origins.append(f"https://{bucket}.s3.{region}.amazonaws.com")
    return tuple(origins)


def _plain(text: str) -> bool:
    """Only characters a host, port or bucket name has: nothing that could end a CSP directive."""
    return bool(text) and all(c.isalnum() or c in ".-:[]" for c in text)


def content_security_policy(environ: dict[str, str] | None = None) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src " + " ".join(["'self'", *upload_origins(environ)]),
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


@cache
def content(name: str) -> tuple[str, str]:
    """(text, ETag) of a listed file, read once per container."""
    text = (STATIC / name).read_text(encoding="utf-8")
    return text, '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {
        **security_headers(),
        "Content-Security-Policy": content_security_policy(),
        "X-Request-Id": request_id(event),
    }


def _if_none_match(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "if-none-match" and isinstance(value, str):
            return value
    return None


def file_answer(event: dict[str, Any], name: str) -> dict[str, Any]:
    text, etag = content(name)
    headers = {**_headers(event), "ETag": etag}
    if name != PAGE:
        headers["Cache-Control"] = "no-cache"  # revalidate: a deploy changes a module under the same name
        headers.pop("Pragma", None)
    tags = {tag.strip().removeprefix("W/") for tag in (_if_none_match(event) or "").split(",") if tag.strip()}
    if etag in tags or "*" in tags:
        return {"statusCode": 304, "headers": headers, "body": "", "isBase64Encoded": False}
    content_type = CONTENT_TYPES[Path(name).suffix]
    return {
        "statusCode": 200,
        "headers": {"Content-Type": content_type, **headers},
        "body": text,
        "isBase64Encoded": False,
    }


def not_found(event: dict[str, Any], name: str) -> dict[str, Any]:
    details = {"resource": "console file", "id": name[:200]}
    return {
        "statusCode": 404,
        "headers": {**_headers(event), "Content-Type": JSON_CONTENT_TYPE},
        "body": dumps(error_body(ErrorCode.NOT_FOUND, "No such file in the console.", details)),
        "isBase64Encoded": False,
    }


@described(
    Contract(
        headers=("IfNoneMatch",),
        answers=(
            Answer(
                200,
                "`/app/`: the console's page. A signed-out visitor gets its sign-in form; the views "
                "(projects, a project's specification, a build's live view, files, keys, OAuth apps, "
                "webhooks) are chosen by the URL's fragment and read the API with the session cookie.",
                shape="html",
                headers=("Cache-Control", "Content-Security-Policy", "ETag"),
            ),
            Answer(
                301,
                "Asked as `/app` (no slash): redirect to `app/`, where the page's relative URLs resolve.",
                shape="empty",
                headers=("Location", "Cache-Control"),
            ),
            Answer(
                304,
                "`If-None-Match` names the current ETag: use the cached copy.",
                shape="empty",
                headers=("Cache-Control", "ETag"),
            ),
        ),
        notes="A browser page, not JSON. Its Content-Security-Policy allows scripts and styles from this origin "
        "only (no `'unsafe-inline'`), connections to this origin and to the storage origin of presigned uploads, "
        "and no framing (`frame-ancestors 'none'`, `X-Frame-Options: DENY`).",
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if not str(event.get("path") or "").endswith("/"):
        return {
            "statusCode": 301,
            "headers": {**_headers(event), "Location": "app/", "Cache-Control": "public, max-age=300"},
            "body": "",
            "isBase64Encoded": False,
        }
    return file_answer(event, PAGE)

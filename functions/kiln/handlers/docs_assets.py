"""GET /docs/{asset}: the files Swagger UI needs, served by Kiln itself, so /docs works offline.

They are swagger-ui-dist, the official distribution of Swagger UI on the npm registry, version
SWAGGER_UI_VERSION, kept byte for byte in kiln/static/swagger-ui/ with its LICENSE and NOTICE and
the licences of the code its bundle includes. DIST lists each file with its SHA-384, those of the
registry's tarball (`npm pack swagger-ui-dist@<version>`, whose own integrity is
TARBALL_INTEGRITY); a unit test holds the files to them. Copying the files rather than running
`npm install` also keeps the package's install-time analytics dependency out. To upgrade: `npm
pack` the new version, copy the files named in DIST, update the version and the hashes.

Only the names of ASSETS are served. The path parameter is looked up in that table and never
joined to a file system path, so no other file is reachable, whatever the request says.

Versioned names (`swagger-ui-bundle-5.35.0.js`, the initializer named by its content's hash)
are cached for a year as immutable: a new version is a new name. The licences are cached for a
day. Every answer carries an ETag and `If-None-Match` gets 304.

Everything is text (JavaScript, CSS, plain text), so API Gateway passes it through without
binaryMediaTypes; the largest file, the bundle, is about 1.7 MB, well inside Lambda's 6 MB
response payload. Like /docs and /v1/openapi.json this function reads files only: no
pydantic, no pipeline, no AWS SDK.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from kiln.envelope import JSON_CONTENT_TYPE, ErrorCode, dumps, error_body
from kiln.handlers.docs_openapi import request_id
from kiln.http.contract import Answer, Contract, described

SWAGGER_UI_VERSION = "5.35.0"
TARBALL_INTEGRITY = "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="
STATIC = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
# Every file kept from the tarball, with its SHA-384 (base64, as in Subresource Integrity).
DIST = {
    "swagger-ui-bundle.js": "gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
    "swagger-ui.css": "WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
    "LICENSE": "II9e1ieUDl5AxyiVq3/FflTua1Sr0kMJ25e6imG7rXg7SiAsA2VemsvEqVsLqM7/",
    "NOTICE": "0WsY5RW2lVusdcWTnoCx5fP8TSnX2JZrr3m82bJxkn2hS3VYTh1Ar/IQSNtZJB3d",
    "swagger-ui-bundle.js.LICENSE.txt": "9K6Bw0izPlkJhBYpUag02GZV9xD+b8m/SSHHt0Ye/VRiuhblAprOAYBo2KnqR/Mh",
    "package.json": "hrTzBgAXg4NDZByUyJZ8qDGVlGbcfLpHn5nnH+smEogTj+4FgDcHdzPS6F/xs23m",
}

# The page's own script: a file too, so the page's Content-Security-Policy can be 'self' only.
# The document is addressed relatively: API Gateway serves the API under its stage
# (/prod/docs -> /prod/v1/openapi.json), the local cloud at the root.
DOCUMENT_URL = "v1/openapi.json"
INITIALIZER = f"""window.ui = SwaggerUIBundle({{
  url: "{DOCUMENT_URL}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  displayOperationId: true,
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false
}});
"""

CSS = "text/css; charset=utf-8"
JAVASCRIPT = "text/javascript; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
DAY = "public, max-age=86400"


@dataclass(frozen=True)
class Asset:
    name: str  # as served: /docs/<name>
    content_type: str
    cache_control: str
    file: str | None = None  # a file of DIST
    text: str | None = None  # or content Kiln writes itself

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0]


_INITIALIZER_HASH = hashlib.sha256(INITIALIZER.encode()).hexdigest()[:12]
ASSETS: dict[str, Asset] = {
    asset.name: asset
    for asset in (
        Asset(f"swagger-ui-{SWAGGER_UI_VERSION}.css", CSS, IMMUTABLE, file="swagger-ui.css"),
        Asset(f"swagger-ui-bundle-{SWAGGER_UI_VERSION}.js", JAVASCRIPT, IMMUTABLE, file="swagger-ui-bundle.js"),
        Asset(f"swagger-initializer-{_INITIALIZER_HASH}.js", JAVASCRIPT, IMMUTABLE, text=INITIALIZER),
        Asset("LICENSE", TEXT, DAY, file="LICENSE"),
        Asset("NOTICE", TEXT, DAY, file="NOTICE"),
        Asset("swagger-ui-bundle.js.LICENSE.txt", TEXT, DAY, file="swagger-ui-bundle.js.LICENSE.txt"),
    )
}
STYLESHEET = f"swagger-ui-{SWAGGER_UI_VERSION}.css"
BUNDLE = f"swagger-ui-bundle-{SWAGGER_UI_VERSION}.js"
INITIALIZER_NAME = f"swagger-initializer-{_INITIALIZER_HASH}.js"


@cache
def content(name: str) -> tuple[str, str]:
    """(text, ETag) of a listed asset, read once per container."""
    asset = ASSETS[name]
    text = (STATIC / asset.file).read_text(encoding="utf-8") if asset.file is not None else asset.text or ""
    return text, '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def _header(event: dict[str, Any], wanted: str) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == wanted and isinstance(value, str):
            return value
    return None


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


@described(
    Contract(
        headers=("IfNoneMatch",),
        answers=(
            Answer(
                200,
                "The file. Versioned names are immutable (cached for a year); the licences for a day.",
                shape="asset",
                headers=("Cache-Control", "ETag"),
            ),
            Answer(
                304,
                "`If-None-Match` names the current ETag: use the cached copy.",
                shape="empty",
                headers=("Cache-Control", "ETag"),
            ),
        ),
        errors={404: (ErrorCode.NOT_FOUND, ErrorCode.ENDPOINT_NOT_FOUND)},
        notes="Only the listed names exist; anything else is 404 `NOT_FOUND` "
        "(or `ENDPOINT_NOT_FOUND` for a name with a slash).",
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    name = (event.get("pathParameters") or {}).get("asset") or ""
    asset = ASSETS.get(name)
    if asset is None:
        details = {"resource": "asset", "id": name[:200], "available": sorted(ASSETS)}
        return {
            "statusCode": 404,
            "headers": {
                "Content-Type": JSON_CONTENT_TYPE,
                "X-Request-Id": request_id(event),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
            "body": dumps(error_body(ErrorCode.NOT_FOUND, "No such documentation asset.", details)),
            "isBase64Encoded": False,
        }
    text, etag = content(name)
    headers = {
        "Cache-Control": asset.cache_control,
        "ETag": etag,
        "X-Request-Id": request_id(event),
        "X-Content-Type-Options": "nosniff",
    }
    if _matches(_header(event, "if-none-match"), etag):
        return {"statusCode": 304, "headers": headers, "body": "", "isBase64Encoded": False}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": asset.content_type, **headers},
        "body": text,
        "isBase64Encoded": False,
    }

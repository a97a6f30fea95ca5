"""GET /docs: Swagger UI for this API's OpenAPI document, entirely from Kiln itself.

A static page. Its stylesheet and scripts are served by `GET /docs/{asset}`
(kiln.handlers.docs_assets: Swagger UI's distribution, pinned and kept with its licence), so
the page works with no network beyond this API, and its Content-Security-Policy allows this
origin only: no CDN, no inline script. Without JavaScript the page still links the OpenAPI
document and the licences.

Every URL in the page is relative to the page's directory, because API Gateway serves the API
under its stage: from `/prod/docs`, `docs/swagger-ui-bundle-<version>.js` is
`/prod/docs/swagger-ui-bundle-<version>.js` and `v1/openapi.json` is `/prod/v1/openapi.json`,
while the local cloud serves the same page at `/docs`. `/docs/` (a trailing slash, which API
Gateway may route here) would resolve them one level too deep, so it is redirected to `../docs`.
"""

from __future__ import annotations

from typing import Any

from kiln.handlers.docs_assets import BUNDLE, DOCUMENT_URL, INITIALIZER_NAME, STYLESHEET, SWAGGER_UI_VERSION
from kiln.handlers.docs_openapi import request_id
from kiln.http.contract import Answer, Contract, described

ASSET_PREFIX = "docs/"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kiln API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{ASSET_PREFIX}{STYLESHEET}">
</head>
<body>
<header>
<p>Kiln API: <a href="{DOCUMENT_URL}">the OpenAPI document (JSON)</a>. Interactive documentation by
Swagger UI {SWAGGER_UI_VERSION}, under the <a href="{ASSET_PREFIX}LICENSE">Apache License 2.0</a>
(<a href="{ASSET_PREFIX}NOTICE">notice</a>, <a href="{ASSET_PREFIX}swagger-ui-bundle.js.LICENSE.txt">licences
of the code it bundles</a>).</p>
</header>
<noscript><p>Swagger UI needs JavaScript, which is off. The whole API is described by
<a href="{DOCUMENT_URL}">its OpenAPI document</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="{ASSET_PREFIX}{BUNDLE}"></script>
<script src="{ASSET_PREFIX}{INITIALIZER_NAME}"></script>
</body>
</html>
"""

# This origin only. Images: Swagger UI's stylesheet embeds its icons as data: URLs. Scripts
# fetch the document and send "Try it out" requests to this origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=300",
}


@described(
    Contract(
        answers=(
            Answer(
                200,
                "Swagger UI for this document (its files come from `GET /docs/{asset}`).",
                shape="html",
                headers=("Cache-Control", "Content-Security-Policy"),
            ),
            Answer(
                301,
                "Asked as `/docs/` (with a slash): redirect to `../docs`, where the page's relative URLs resolve.",
                shape="empty",
                headers=("Location", "Cache-Control"),
            ),
        )
    )
)
def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if str(event.get("path") or "").endswith("/docs/"):
        return {
            "statusCode": 301,
            "headers": {
                "Location": "../docs",
                "X-Request-Id": request_id(event),
                "Cache-Control": "public, max-age=300",
            },
            "body": "",
            "isBase64Encoded": False,
        }
    return {
        "statusCode": 200,
        "headers": {**HEADERS, "X-Request-Id": request_id(event)},
        "body": PAGE,
        "isBase64Encoded": False,
    }

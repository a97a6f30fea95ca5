"""GET /docs: Swagger UI for this API's OpenAPI document.

A static page: swagger-ui-dist from a pinned CDN version, each asset with its Subresource
Integrity hash, and a Content-Security-Policy that admits scripts and styles from that one
package version only, the page's own bootstrap script by its hash, and requests to this origin.
The hashes are the SHA-384 of the files in the npm registry's tarball of the same version
(`npm pack swagger-ui-dist@<version>`), which the CDN serves byte for byte; to upgrade, change
the version and recompute the three values from the new tarball.

The document is addressed relatively (`v1/openapi.json`), because API Gateway serves the API
under its stage (`/prod/docs` -> `/prod/v1/openapi.json`) and the local cloud at the root.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from kiln.handlers.docs_openapi import request_id

SWAGGER_UI_VERSION = "5.35.0"
ASSETS = f"https://cdn.jsdelivr.net/npm/swagger-ui-dist@{SWAGGER_UI_VERSION}/"
INTEGRITY = {
    "swagger-ui.css": "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
    "swagger-ui-bundle.js": "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
}
DOCUMENT_URL = "v1/openapi.json"

BOOTSTRAP = f"""
window.ui = SwaggerUIBundle({{
  url: "{DOCUMENT_URL}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  displayOperationId: true,
  defaultModelsExpandDepth: 0,
  tryItOutEnabled: false
}});
"""

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kiln API</title>
<link rel="stylesheet" href="{ASSETS}swagger-ui.css" integrity="{INTEGRITY['swagger-ui.css']}" crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}swagger-ui-bundle.js" integrity="{INTEGRITY['swagger-ui-bundle.js']}" crossorigin="anonymous"></script>
<script>{BOOTSTRAP}</script>
</body>
</html>
"""

_BOOTSTRAP_HASH = "sha256-" + base64.b64encode(hashlib.sha256(BOOTSTRAP.encode()).digest()).decode()
# Swagger UI sets inline styles (hence 'unsafe-inline' for styles only) and its stylesheet
# embeds data: images; it fetches the document and sends "Try it out" requests to this origin.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    f"script-src {ASSETS} '{_BOOTSTRAP_HASH}'",
    f"style-src {ASSETS} 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=300",
}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {**HEADERS, "X-Request-Id": request_id(event)},
        "body": PAGE,
        "isBase64Encoded": False,
    }

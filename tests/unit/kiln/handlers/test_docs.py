"""GET /docs and GET /docs/{asset}: Swagger UI from Kiln itself, no CDN, a 'self'-only policy,
URLs that resolve at the root and under API Gateway's stage, only the listed files served."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from kiln.handlers import docs_assets, docs_ui
from kiln.routes import match_path

LOCAL = "http://localhost:3001/docs"
DEPLOYED = "https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/docs"
CUSTOM_DOMAIN = "https://api.example.com/kiln/docs"  # a base path mapping


class References(HTMLParser):
    """Every src and href of a page, and the text of its <noscript>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.anchors: list[str] = []
        self.inline_scripts = 0
        self.noscript = ""
        self._in_noscript = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(values[name] or "")
        if tag == "a" and values.get("href"):
            self.anchors.append(values["href"] or "")
        if tag == "script" and not values.get("src"):
            self.inline_scripts += 1
        if tag == "noscript":
            self._in_noscript = True
        if values.get("style") is not None or values.get("integrity") is not None:
            raise AssertionError(f"<{tag}> carries an inline style or an SRI hash: {values}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "noscript":
            self._in_noscript = False

    def handle_data(self, data: str) -> None:
        if self._in_noscript:
            self.noscript += data


def page() -> tuple[dict, References]:
    response = docs_ui.handler({"path": "/docs", "requestContext": {"requestId": "gw"}})
    references = References()
    references.feed(response["body"])
    return response, references


def policy(header: str) -> dict[str, str]:
    return dict(directive.strip().split(" ", 1) for directive in header.split(";"))


def test_the_page_needs_nothing_but_this_origin():
    response, references = page()
    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8" and headers["X-Request-Id"] == "gw"
    rules = policy(headers["Content-Security-Policy"])
    assert rules["default-src"] == "'none'"
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'" and rules["connect-src"] == "'self'"
    assert rules["img-src"] == "'self' data:"  # Swagger UI's icons are data: URLs in its stylesheet
    assert rules["frame-ancestors"] == "'none'" and rules["base-uri"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"] and "http" not in headers["Content-Security-Policy"]
    assert references.inline_scripts == 0  # 'self' only: no inline script to allow
    assert all(not urlsplit(url).scheme or url == "data:," for url in references.urls), references.urls
    assert "cdn" not in response["body"].lower() and "//" not in "".join(references.urls)


@pytest.mark.parametrize("base, prefix", [(LOCAL, ""), (DEPLOYED, "/prod"), (CUSTOM_DOMAIN, "/kiln")])
def test_every_url_of_the_page_resolves_to_a_route_under_the_base(base, prefix):
    _, references = page()
    resolved = [urljoin(base, url) for url in references.urls if url != "data:,"]
    assert len(resolved) >= 6
    for url in resolved:
        parts = urlsplit(url)
        assert parts.netloc == urlsplit(base).netloc and parts.path.startswith(prefix + "/"), url
        path = parts.path[len(prefix) :]
        [(route, params)] = match_path(path)
        assert route.method == "GET" and not route.authorized, url
        if route.handler == "docs_assets":
            assert params["asset"] in docs_assets.ASSETS
        else:
            assert route.handler == "docs_openapi"
    assert urljoin(base, docs_assets.DOCUMENT_URL) == base.removesuffix("/docs") + "/v1/openapi.json"


def test_without_javascript_the_document_and_the_licence_are_links():
    _, references = page()
    assert "v1/openapi.json" in references.anchors  # a plain link, relative to the stage
    assert "docs/LICENSE" in references.anchors and "docs/NOTICE" in references.anchors
    assert "JavaScript" in references.noscript and "OpenAPI document" in references.noscript


def test_a_trailing_slash_is_redirected_where_relative_urls_work():
    response = docs_ui.handler({"path": "/docs/", "requestContext": {"requestId": "gw"}})
    assert response["statusCode"] == 301 and response["headers"]["Location"] == "../docs"
    assert urljoin(DEPLOYED + "/", "../docs") == DEPLOYED and urljoin(LOCAL + "/", "../docs") == LOCAL


# --- the assets -------------------------------------------------------------------------------


def get(name: str, **headers: str) -> dict:
    return docs_assets.handler(
        {"pathParameters": {"asset": name}, "headers": headers or None, "requestContext": {"requestId": "gw"}}
    )


def test_the_vendored_files_are_the_registry_s_bytes():
    for name, sha384 in docs_assets.DIST.items():
        digest = base64.b64encode(hashlib.sha384((docs_assets.STATIC / name).read_bytes()).digest()).decode()
        assert digest == sha384, f"{name} differs from swagger-ui-dist {docs_assets.SWAGGER_UI_VERSION}"
    package = json.loads((docs_assets.STATIC / "package.json").read_text())
    assert (package["name"], package["version"], package["license"]) == (
        "swagger-ui-dist",
        docs_assets.SWAGGER_UI_VERSION,
        "Apache-2.0",
    )
    assert "Apache License" in (docs_assets.STATIC / "LICENSE").read_text()
    assert sorted(path.name for path in docs_assets.STATIC.iterdir()) == sorted(docs_assets.DIST)


@pytest.mark.parametrize("name", sorted(docs_assets.ASSETS))
def test_each_asset_is_served_with_its_type_cache_and_etag(name):
    asset = docs_assets.ASSETS[name]
    response = get(name)
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    headers = response["headers"]
    assert headers["Content-Type"] == asset.content_type and headers["X-Content-Type-Options"] == "nosniff"
    versioned = docs_assets.SWAGGER_UI_VERSION in name or name.startswith("swagger-initializer-")
    assert headers["Cache-Control"] == (docs_assets.IMMUTABLE if versioned else docs_assets.DAY)
    expected = asset.text if asset.file is None else (docs_assets.STATIC / asset.file).read_text()
    assert response["body"] == expected
    # Lambda answers at most 6 MB (the proxy response as JSON); API Gateway then needs no binary type.
    assert len(json.dumps(response).encode()) < 6 * 1024 * 1024
    again = get(name, **{"If-None-Match": f'W/"x", {headers["ETag"]}'})
    assert again["statusCode"] == 304 and again["body"] == "" and again["headers"]["ETag"] == headers["ETag"]
    assert get(name, **{"if-none-match": '"stale"'})["statusCode"] == 200


def test_the_initializer_is_named_by_its_content_and_loads_the_relative_document():
    text = docs_assets.ASSETS[docs_assets.INITIALIZER_NAME].text or ""
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    assert f"swagger-initializer-{digest}.js" == docs_assets.INITIALIZER_NAME
    assert 'url: "v1/openapi.json"' in text and "validatorUrl: null" in text  # no call to an outside validator


@pytest.mark.parametrize(
    "name",
    [
        "swagger-ui.css",  # a file of the distribution, but not under a listed name
        "swagger-ui-bundle.js.map",
        "index.html",
        "package.json",
        "favicon-32x32.png",
        "../openapi.json",
        "../../routes.py",
        "..%2F..%2Froutes.py",
        "%2e%2e",
        "./LICENSE",
        "LICENSE/",
        "LICENSE\0",
        "/etc/passwd",
        "LICENSE.",
        "license",
        "",
        "swagger-ui-4.0.0.css",
    ],
)
def test_anything_else_is_not_found_and_reads_no_file(name, monkeypatch):
    reads: list[str] = []
    monkeypatch.setattr(docs_assets, "content", reads.append)  # the only way to a file
    response = get(name)
    assert response["statusCode"] == 404
    body = json.loads(response["body"])
    assert body["error"]["code"] == "NOT_FOUND" and body["error"]["details"]["resource"] == "asset"
    assert body["error"]["details"]["available"] == sorted(docs_assets.ASSETS)
    assert response["headers"]["X-Request-Id"] == "gw" and reads == []


def test_the_page_references_exactly_the_listed_assets():
    _, references = page()
    served = {url.removeprefix("docs/") for url in references.urls if url.startswith("docs/")}
    assert served == set(docs_assets.ASSETS)
    assert re.search(
        r'<script src="docs/swagger-ui-bundle-[0-9.]+\.js"></script>\s*<script src="docs/swagger-'
        r'initializer-[0-9a-f]{12}\.js"></script>',
        page()[0]["body"],
    )

"""The documentation page over HTTP against the local cloud: /docs and everything it references
come from Kiln itself, with the right types, and nothing outside the listed files is served."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from kiln.handlers import docs_assets

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_cloud")]

TYPES = {".css": "text/css", ".js": "text/javascript", ".json": "application/json"}


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_the_page_and_every_file_it_references_come_from_kiln(local_cloud):
    page = requests.get(f"{local_cloud.url}/docs", timeout=30)  # no credentials: a public page
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "'self'" in page.headers["Content-Security-Policy"] and "http" not in page.headers["Content-Security-Policy"]
    references = References()
    references.feed(page.text)
    urls = [url for url in references.urls if url != "data:,"]
    assert len(urls) >= 6
    for url in urls:
        absolute = urljoin(page.url, url)
        assert urlsplit(absolute).netloc == urlsplit(local_cloud.url).netloc, f"{url} is on another host"
        response = requests.get(absolute, timeout=30)
        assert response.status_code == 200, (url, response.text[:200])
        path = urlsplit(absolute).path
        expected = next((media for suffix, media in TYPES.items() if path.endswith(suffix)), "text/plain")
        assert response.headers["Content-Type"].split(";")[0] == expected, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    bundle = requests.get(urljoin(page.url, f"docs/{docs_assets.BUNDLE}"), timeout=30)
    assert len(bundle.content) > 1_000_000 and "SwaggerUIBundle" in bundle.text  # the whole bundle, intact
    assert (
        hashlib.sha384(bundle.content).digest()
        == hashlib.sha384((docs_assets.STATIC / "swagger-ui-bundle.js").read_bytes()).digest()
    )
    assert "immutable" in bundle.headers["Cache-Control"]
    cached = requests.get(bundle.url, headers={"If-None-Match": bundle.headers["ETag"]}, timeout=30)
    assert cached.status_code == 304 and cached.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/docs/swagger-ui.css",
        "/docs/index.html",
        "/docs/package.json",
        "/docs/swagger-ui-bundle.js.map",
        "/docs/..%2F..%2Ffunctions%2Fkiln%2Froutes.py",
        "/docs/%2e%2e%2fopenapi.json",
        "/docs/LICENSE%00",
        "/docs/static/swagger-ui/LICENSE",
    ],
)
def test_nothing_but_the_listed_files_is_served(local_cloud, path):
    response = requests.get(local_cloud.url + path, timeout=30)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] in ("NOT_FOUND", "ENDPOINT_NOT_FOUND")
    assert "Apache" not in response.text and "SwaggerUI" not in response.text

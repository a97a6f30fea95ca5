"""GET /app and GET /app/{file+}: the console's page and files, served from the package with a
strict policy; only the listed files, URLs relative to the page, revalidation by ETag."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from kiln import config, console_files
from kiln.handlers import console, console_assets
from kiln.routes import match_path
from tests.unit.kiln.handlers.test_docs import References

STATIC = Path(console.__file__).resolve().parent.parent / "static" / "console"


def event(path: str, file: str | None = None, headers: dict[str, str] | None = None) -> dict:
    return {
        "path": path,
        "pathParameters": {"file": file} if file is not None else None,
        "headers": headers or {},
        "requestContext": {"requestId": "gw-1"},
    }


def test_every_file_of_the_directory_is_listed_and_only_those() -> None:
    on_disk = sorted(str(p.relative_to(STATIC)) for p in STATIC.rglob("*") if p.is_file())
    assert sorted(console_files.FILES) == on_disk


def test_the_page_at_app_slash_has_a_strict_policy_and_no_inline_code() -> None:
    answer = console.handler(event("/app/"))
    assert answer["statusCode"] == 200
    headers = answer["headers"]
    assert headers["Content-Type"].startswith("text/html")
    policy = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Request-Id"] == "gw-1"
    references = References()
    references.feed(answer["body"])
    assert references.inline_scripts == 0
    assert "style=" not in answer["body"]


@pytest.mark.parametrize(
    "page",
    ["http://localhost:3001/app/", "https://abc.execute-api.us-east-1.amazonaws.com/prod/app/"],
    ids=["local", "stage"],
)
def test_the_pages_urls_are_files_of_the_console_under_the_same_prefix(page: str) -> None:
    references = References()
    references.feed(console.handler(event("/app/"))["body"])
    for url in references.urls:
        if url.startswith(("#", "data:", "../docs")):
            continue
        resolved = urljoin(page, url)
        assert resolved.startswith(page), url
        assert resolved.removeprefix(page) in console_files.FILES


def test_modules_import_only_listed_modules_by_relative_names() -> None:
    for name in console_files.FILES:
        if not name.endswith(".js"):
            continue
        text = (STATIC / name).read_text(encoding="utf-8")
        assert "innerHTML" not in text and "eval(" not in text, name
        for target in re.findall(r'^import .* from "([^"]+)";$', text, flags=re.MULTILINE):
            assert target.startswith("."), (name, target)
            resolved = urljoin("https://x/app/" + name, target).removeprefix("https://x/app/")
            assert resolved in console_files.FILES, (name, target)


def test_app_without_its_slash_is_redirected_to_it() -> None:
    answer = console.handler(event("/prod/app"))
    assert answer["statusCode"] == 301
    assert answer["headers"]["Location"] == "app/"
    assert urljoin("https://h/prod/app", answer["headers"]["Location"]) == "https://h/prod/app/"


def test_a_file_is_served_with_its_type_and_revalidated_by_etag() -> None:
    answer = console_assets.handler(event("/app/views/build.js", "views/build.js"))
    assert answer["statusCode"] == 200
    assert answer["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert answer["headers"]["Cache-Control"] == "no-cache"
    assert answer["body"] == (STATIC / "views" / "build.js").read_text(encoding="utf-8")
    etag = answer["headers"]["ETag"]
    again = console_assets.handler(event("/app/views/build.js", "views/build.js", {"If-None-Match": etag}))
    assert again["statusCode"] == 304 and again["body"] == ""
    css = console_assets.handler(event("/app/console.css", "console.css"))
    assert css["headers"]["Content-Type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize("name", ["", "nope.js", "../handlers/console.py", "views/../app.js", "VIEWS/build.js"])
def test_anything_else_is_not_found(name: str) -> None:
    answer = console_assets.handler(event(f"/app/{name}", name))
    assert answer["statusCode"] == 404
    assert '"NOT_FOUND"' in answer["body"]


def test_connections_are_allowed_to_this_origin_and_the_upload_storage_only() -> None:
    local = console.content_security_policy({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})
    assert "connect-src 'self' http://127.0.0.1:4566;" in local
    deployed = console.content_security_policy({config.BUCKET_NAME: "kiln-data-1", "AWS_REGION": "eu-west-1"})
    assert (
        "connect-src 'self' https://kiln-data-1.s3.amazonaws.com https://kiln-data-1.s3.eu-west-1.amazonaws.com;"
        in deployed
    )
    # Nothing that could end the directive or add another reaches the policy.
    hostile = console.content_security_policy({"AWS_ENDPOINT_URL": "http://a; script-src *"})
    assert "connect-src 'self';" in hostile


def test_both_routes_resolve_to_the_console() -> None:
    assert [route.handler for route, _ in match_path("/app")] == ["console"]
    [(route, params)] = match_path("/app/views/build.js")
    assert route.handler == "console_assets" and params == {"file": "views/build.js"}

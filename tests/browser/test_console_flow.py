"""The whole loop in a real browser: sign in, create, answer, compare versions, approve, build
with the live view reaching "succeeded" without a reload, open a generated file, download a zip,
create a key."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.browser.console import Console
from tests.integration.conftest import LocalCloudProcess

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("browser")]

SESSION_COOKIE = "__Host-kiln_session"


def test_the_whole_loop(new_console: Callable[..., Console], console_cloud: LocalCloudProcess) -> None:
    console = new_console()
    page = console.page

    # Signed out: the sign-in page, and no cookie yet.
    console.open()
    page.get_by_role("heading", name="Sign in to Kiln").wait_for()
    assert not [c for c in console.context.cookies() if c["name"] == SESSION_COOKIE]
    console.sign_in()
    cookie = next(c for c in console.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["secure"]
    assert page.evaluate("() => document.cookie") == ""  # HttpOnly: the page's scripts never see it

    project_id = console.create_project("Field Notes", "A small app where people write short notes and tag them.")
    assert console.answer_questions() > 0
    page.get_by_text("Version 1", exact=True).first.wait_for()

    # A second version, compared with the first: the feedback's line shows as added.
    console.regenerate("Add a CSV export of the notes.")
    assert page.get_by_label("Compare").input_value() == "1"
    assert page.get_by_label("with").input_value() == "2"
    added = page.locator("table.diff td.line.add")
    assert added.count() > 0
    assert "CSV export" in " ".join(added.all_inner_texts())
    assert page.locator("table.diff td.line.same").count() > 0  # unchanged lines stay plain

    console.approve(2)
    assert page.locator('p [data-status="approved"]').count() == 1

    # The live view follows the build to the end with no reload: a value set on the window
    # before the build starts is still there when it has succeeded.
    page.evaluate("() => { window.stillTheSamePage = true }")
    console.start_build()
    console.wait_for_build("succeeded")
    assert page.evaluate("() => window.stillTheSamePage") is True
    log = page.locator("#event-log li")
    assert log.count() > 0
    # The log catches up with the state: the stream's last batch ends with the run's end.
    page.locator('#event-log li[data-type="RUN_COMPLETED"]').wait_for(timeout=60_000)
    page.get_by_text("The stream has ended").wait_for(timeout=60_000)
    assert page.locator('#event-log li[data-type="RUN_COMPLETED"]').count() == 1
    page.locator('#verification-result [data-status="passed"]').wait_for()
    assert "Ran " in page.locator("details.check pre").last.inner_text()  # the unit tests' output
    assert page.locator('.waves li[data-status="succeeded"]').count() == page.locator(".waves li").count() > 0

    # A generated file, highlighted.
    page.get_by_role("link", name="Browse the files").click()
    page.get_by_role("heading", name="Files at main").wait_for()
    page.get_by_role("link", name="app/").click()
    page.get_by_role("link", name="store.py", exact=True).click()  # the scaffold's, in every build
    code = page.locator("pre.code")
    code.wait_for()
    assert "class" in page.locator("pre.code .t-kw").all_inner_texts()
    assert page.locator("pre.code .ln").first.inner_text() == "1"

    # The zip: a real archive of the tree on main.
    console.go(f"#/projects/{project_id}")
    download = console.export("zip")
    assert download.suggested_filename.endswith(".zip")
    names = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes())).namelist()
    assert any(name.endswith("README.md") for name in names)

    # Every change the page made carried the session's CSRF token (the sign-in has none yet).
    changes = [(method, url, token) for method, url, token in console.changes if not url.endswith("/v1/sessions")]
    assert changes and all(token for _, _, token in changes), changes
    assert len({token for _, _, token in changes}) == 1


def test_a_new_key_is_shown_once_and_works(console: Console, console_cloud: LocalCloudProcess) -> None:
    console.sign_in()
    secret = console.create_key("laptop")
    assert secret.startswith("kiln_")
    assert requests.get(
        f"{console_cloud.url}/v1/projects", headers={"Authorization": f"Bearer {secret}"}, timeout=30
    ).ok
    console.go("#/projects")
    console.go("#/keys")
    console.page.get_by_role("cell", name="laptop").wait_for()
    assert secret not in console.page.content()  # shown once: gone once the view is left

"""Browser tests of the web console: a real headless Chromium (Debian's, driven by Playwright)
against a local cloud started as the integration tests start theirs.

One browser for the whole session; each test gets a fresh context (its own cookies). The local
cloud has a person who signs in (EMAIL, PASSWORD). Every page records what the browser reports
as a Content-Security-Policy violation or an uncaught error, and a test fails on any.

`make test` installs Chromium when it can (see the Makefile); where no browser exists these tests
skip and say so. KILN_CHROMIUM names another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.console import EMAIL, PASSWORD, Console
from tests.integration.conftest import LocalCloudProcess, local_cloud_factory  # noqa: F401 - a fixture

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("KILN_CHROMIUM"), *CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


# Package scope: Playwright's sync API keeps an event loop running in the worker's thread while
# it is started, so it must be stopped before the worker runs other tests (asyncio.run() fails
# under a running loop); the browser tests form one xdist group, run together.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium on this machine (looked for KILN_CHROMIUM, " + ", ".join(CANDIDATES) + "): "
            "`make test` installs Debian's `chromium` with apt-get when it runs as root"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: `make install` installs the dev dependencies")
    playwright = sync_playwright().start()
    # Chromium refuses to run as root with its sandbox on; CI and containers run as root.
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    launched = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture(scope="package")
def console_cloud(local_cloud_factory: Callable[..., LocalCloudProcess]) -> Iterator[LocalCloudProcess]:  # noqa: F811
    """A local cloud of the browser tests, with a person who can sign in; stopped with them."""
    cloud = local_cloud_factory(env={"KILN_LOCAL_ADMIN_EMAIL": EMAIL, "KILN_LOCAL_ADMIN_PASSWORD": PASSWORD})
    yield cloud
    cloud.stop()


@pytest.fixture
def new_console(browser: Any, console_cloud: LocalCloudProcess) -> Iterator[Callable[..., Console]]:
    """Opens the console in a fresh browser context (laptop width unless told otherwise)."""
    opened: list[Console] = []

    def open_console(width: int = 1280, height: int = 800, **options: Any) -> Console:
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True, **options)
        console = Console(context, console_cloud.url)
        opened.append(console)
        return console

    yield open_console
    problems = [problem for console in opened for problem in console.problems]
    for console in opened:
        console.context.close()
    assert not problems, "the browser reported: " + "; ".join(problems)


@pytest.fixture
def console(new_console: Callable[..., Console]) -> Console:
    return new_console()

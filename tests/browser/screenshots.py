"""Screenshots of the console's main views for docs/console/, taken from a real run:
`python -m tests.browser.screenshots` (a local cloud of its own, Debian's Chromium).

The same steps as the browser tests (tests/browser/console.py), stopping on each view.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import chromium_path
from tests.browser.console import EMAIL, PASSWORD, Console
from tests.integration.conftest import REPO, start_local_cloud

OUT = REPO / "docs" / "console"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shoot(console: Console, out: Path, name: str) -> None:
    console.page.wait_for_load_state("networkidle")
    console.page.screenshot(path=str(out / f"{name}.png"), full_page=False)
    print(f"wrote {out / name}.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    executable = chromium_path()
    if executable is None:
        print("no Chromium found (set KILN_CHROMIUM)", file=sys.stderr)
        return 1
    env = {"KILN_LOCAL_ADMIN_EMAIL": EMAIL, "KILN_LOCAL_ADMIN_PASSWORD": PASSWORD}
    with tempfile.TemporaryDirectory() as workdir:
        cloud = start_local_cloud(Path(workdir), _port(), _port(), env=env)
        try:
            with sync_playwright() as playwright:
                args_ = ["--no-sandbox"] if os.geteuid() == 0 else []
                browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args_)
                context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
                console = Console(context, cloud.url)
                console.open()
                console.page.get_by_role("heading", name="Sign in to Kiln").wait_for()
                shoot(console, args.out, "sign-in")
                console.sign_in()
                console.create_project("Field Notes", "A small app where people write short notes and tag them.")
                console.page.get_by_role("button", name="Ask the clarifying questions").click()
                console.page.locator("form.questions").wait_for()
                shoot(console, args.out, "questions")
                console.go("#/projects")
                console.page.get_by_role("heading", name="Projects", level=1).wait_for()
                console.page.locator("table.list").wait_for()
                console.page.go_back()
                console.page.get_by_role("button", name="Write the specification").wait_for()
                # Answer as the tests do (the questions are already asked).
                form = console.page.locator("form.questions")
                for index in range(form.locator("[data-question]").count()):
                    question = form.locator("[data-question]").nth(index)
                    if question.locator("textarea").count():
                        question.locator("textarea").fill("Keep the first version small.")
                    else:
                        question.locator("input").first.check()
                console.page.get_by_role("button", name="Write the specification").click()
                console.page.get_by_role("heading", name="Specification").wait_for()
                console.regenerate("Add a CSV export of the notes.")
                console.page.locator("table.diff td.line.add").first.scroll_into_view_if_needed()
                shoot(console, args.out, "spec-versions")
                console.approve(2)
                console.start_build()
                console.page.locator("#event-log li").nth(5).wait_for(timeout=120_000)
                shoot(console, args.out, "build-live")
                console.wait_for_build("succeeded")
                console.page.locator("#verification-result").scroll_into_view_if_needed()
                shoot(console, args.out, "build-succeeded")
                console.page.get_by_role("link", name="Browse the files").click()
                console.page.get_by_role("link", name="app/").click()
                console.page.get_by_role("link", name="store.py", exact=True).click()
                console.page.locator("pre.code").wait_for()
                shoot(console, args.out, "files")
                console.go("#/projects")
                console.page.locator("table.list").wait_for()
                shoot(console, args.out, "projects")
                try:
                    console.create_key("laptop")
                except AssertionError as error:  # shown all the same: the view and its error
                    print(f"the key was not created: {error}", file=sys.stderr)
                shoot(console, args.out, "api-keys")
                console.go("#/oauth")
                console.page.get_by_label("Name").fill("Planner")
                console.page.get_by_label("Redirect URIs").fill("http://127.0.0.1:8765/callback")
                console.page.get_by_role("button", name="Register app").click()
                console.page.locator("li.card", has_text="Planner").wait_for()
                shoot(console, args.out, "oauth-apps")
                console.go("#/webhooks")
                console.page.get_by_label("URL").fill("http://127.0.0.1:9/hooks/kiln")  # nobody listens: retried
                console.page.get_by_role("button", name="Add webhook").click()
                console.page.get_by_role("button", name="Send a test event").click()
                console.page.locator("tr[data-delivery]").wait_for()
                console.page.wait_for_timeout(2500)
                shoot(console, args.out, "webhooks")
                console.go("#/import")
                console.page.get_by_role("heading", name="Import an archive").wait_for()
                shoot(console, args.out, "import")
                phone = Console(browser.new_context(viewport={"width": 390, "height": 844}), cloud.url)
                phone.sign_in()
                phone.page.locator("table.list").wait_for()
                shoot(phone, args.out, "projects-phone")
                browser.close()
        finally:
            cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

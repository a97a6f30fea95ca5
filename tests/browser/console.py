"""The web console as a person uses it, for the browser tests and the screenshot script: each
step finds things by their role and label, as a screen reader would, and waits for what a
person would wait for."""

from __future__ import annotations

import re
from typing import Any

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"
BUILD_TIMEOUT_MS = 240_000
STEP_TIMEOUT_MS = 30_000


class Console:
    def __init__(self, context: Any, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.problems: list[str] = []
        # Every change the page sent: (method, url, X-CSRF-Token header).
        self.changes: list[tuple[str, str, str | None]] = []
        self.page = context.new_page()
        self.page.set_default_timeout(STEP_TIMEOUT_MS)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught error: {error}"))
        self.page.on("request", self._on_request)

    def _on_console(self, message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text}")

    def _on_request(self, request: Any) -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.url.startswith(self.base_url + "/v"):
            self.changes.append((request.method, request.url, request.headers.get("x-csrf-token")))

    # --- navigation ------------------------------------------------------------------------

    def open(self, fragment: str = "") -> None:
        self.page.goto(f"{self.base_url}/app/{fragment}")

    def go(self, fragment: str) -> None:
        """Moves to a view as a link would: the page is not reloaded."""
        self.page.evaluate("fragment => { window.location.hash = fragment }", fragment)

    def heading(self) -> Any:
        return self.page.locator("main h1")

    # --- steps -----------------------------------------------------------------------------

    def sign_in(self, email: str = EMAIL, password: str = PASSWORD) -> None:
        self.open()
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("heading", name="Projects", level=1).wait_for()

    def create_project(self, name: str, description: str) -> str:
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_label("Description").fill(description)
        self.page.get_by_role("button", name="Create project").click()
        self.page.get_by_role("heading", name=name, level=1).wait_for()
        return self.page.evaluate("() => decodeURIComponent(location.hash.split('/')[2])")

    def answer_questions(self) -> int:
        """Asks the questions and answers each as its type allows: the first option of a choice,
        yes, or a sentence. Returns how many were asked."""
        self.page.get_by_role("button", name="Ask the clarifying questions").click()
        form = self.page.locator("form.questions")
        form.wait_for()
        questions = form.locator("[data-question]")
        count = questions.count()
        for index in range(count):
            question = questions.nth(index)
            text = question.locator("textarea")
            if text.count():
                text.fill("Keep the first version small.")
            else:
                question.locator("input").first.check()
        self.page.get_by_role("button", name="Write the specification").click()
        self.page.get_by_role("heading", name="Specification").wait_for()
        return count

    def regenerate(self, feedback: str) -> None:
        self.page.get_by_label("Feedback").fill(feedback)
        self.page.get_by_role("button", name="Regenerate with this feedback").click()
        self.page.get_by_role("button", name=re.compile(r"^Approve version 2$")).wait_for()

    def approve(self, version: int) -> None:
        self.page.get_by_role("button", name=f"Approve version {version}").click()
        self.page.get_by_role("button", name="Start a build").wait_for()

    def start_build(self) -> None:
        self.page.get_by_role("button", name="Start a build").click()
        self.page.get_by_role("heading", name=re.compile(r"^Build #\d+$")).wait_for()

    def wait_for_build(self, status: str = "succeeded") -> None:
        self.page.locator(f'#run-status [data-status="{status}"]').wait_for(timeout=BUILD_TIMEOUT_MS)

    def export(self, fmt: str) -> Any:
        """Exports the project and downloads the archive; returns Playwright's Download."""
        self.page.get_by_role("button", name=f"Export as .{fmt}").click()
        link = self.page.get_by_role("link", name=f"Download .{fmt}")
        link.wait_for(timeout=60_000)
        with self.page.expect_download() as download:
            link.click()
        return download.value

    def create_key(self, name: str) -> str:
        self.go("#/keys")
        self.page.get_by_role("heading", name="API keys", level=1).wait_for()
        self.page.get_by_label("Name").fill(name)
        self.page.get_by_role("button", name="Create key").click()
        # The secret, or the error the view shows instead (failing at once, with its words).
        self.page.locator("#new-secret, main .error").first.wait_for()
        error = self.page.locator("main .error")
        if error.count():
            raise AssertionError(f"the key was not created: {error.first.inner_text()}")
        return str(self.page.locator("#new-secret").inner_text())

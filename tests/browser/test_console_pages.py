"""Focused browser checks of the console: a wrong password, signing out, keyboard-only use,
phone width, text contrast, and importing an archive by drag and drop."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Callable

import pytest

from tests.browser.console import EMAIL, Console

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("browser")]

SESSION_COOKIE = "__Host-kiln_session"

# WCAG 2.2 AA, 1.4.3: the contrast of every visible text node's colour with the first opaque
# background behind it, at least 4.5:1 (3:1 for large text: 24px, or 18.66px bold).
CONTRAST = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.closest(".visually-hidden, [hidden], noscript")) continue;
    const fg = parse(style.color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) failures.push(`${node.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)} < ${needed}`);
  }
  return failures;
}"""


def test_a_wrong_password_is_refused_with_a_message_and_no_cookie(console: Console) -> None:
    console.open()
    console.page.get_by_label("Email").fill(EMAIL)
    console.page.get_by_label("Password").fill("not the password at all")
    console.page.get_by_role("button", name="Sign in").click()
    alert = console.page.get_by_role("alert")
    alert.wait_for()
    assert "email or password is wrong" in alert.inner_text()
    assert console.page.get_by_role("heading", name="Sign in to Kiln").is_visible()
    assert not [c for c in console.context.cookies() if c["name"] == SESSION_COOKIE]


def test_signing_out_ends_the_session(console: Console) -> None:
    console.sign_in()
    console.page.get_by_role("button", name="Sign out").click()
    console.page.get_by_role("heading", name="Sign in to Kiln").wait_for()
    assert not [c for c in console.context.cookies() if c["name"] == SESSION_COOKIE]
    console.page.reload()  # a fresh load: still signed out
    console.page.get_by_role("heading", name="Sign in to Kiln").wait_for()


def test_keyboard_alone_signs_in_and_reaches_the_views(console: Console) -> None:
    page = console.page
    console.open()
    page.get_by_role("heading", name="Sign in to Kiln").wait_for()
    # The form takes the focus; the skip link comes first in the tab order.
    assert page.evaluate("() => document.activeElement.name") == "email"
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Projects", level=1).wait_for()
    # A fresh load, from the top: the skip link, then the brand and the main navigation, each
    # with a visible focus outline.
    page.reload()
    page.get_by_role("heading", name="Projects", level=1).wait_for()
    seen = []
    for _ in range(4):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => { const el = document.activeElement;"
                " return [el.textContent.trim(), getComputedStyle(el).outlineStyle]; }"
            )
        )
    assert [text for text, _ in seen] == ["Skip to content", "Kiln", "Projects", "Import"]
    assert all(outline != "none" for _, outline in seen)
    page.keyboard.press("Enter")  # on "Import"
    page.get_by_role("heading", name="Import an archive").wait_for()
    # Focus moves to the new view's heading once the view has finished rendering (its data
    # loaded), which may be a moment after the heading itself appears.
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'H1'")
    assert page.evaluate("() => document.activeElement.textContent") == "Import an archive"
    assert page.locator("header").count() == 1 and page.locator("main").count() == 1
    assert page.locator("nav[aria-label=Main]").is_visible()


@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "laptop"])
def test_views_fit_the_width_and_meet_the_contrast_minimum(new_console: Callable[..., Console], width: int) -> None:
    console = new_console(width=width, height=844)
    console.open()
    console.page.get_by_role("heading", name="Sign in to Kiln").wait_for()
    assert console.page.evaluate(CONTRAST) == []
    console.sign_in()
    for fragment, title in (("#/projects", "Projects"), ("#/keys", "API keys"), ("#/import", "Import an archive")):
        console.go(fragment)
        console.page.get_by_role("heading", name=title, level=1).wait_for()
        console.page.wait_for_load_state("networkidle")
        assert console.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), fragment
        assert console.page.evaluate(CONTRAST) == [], fragment


def test_an_archive_dropped_on_the_import_view_is_uploaded_with_progress_and_imported(console: Console) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.md", "# Dropped\n")
        archive.writestr("app.py", "def main() -> int:\n    return 1\n")
    console.sign_in()
    console.go("#/import")
    page = console.page
    page.get_by_label("Name of the new project (optional)").fill("Dropped project")
    # What a drop hands the page: a DataTransfer holding the file.
    page.evaluate(
        """data => {
          const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], "dropped.zip", { type: "application/zip" }));
          const zone = document.querySelector(".dropzone");
          zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
          zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        base64.b64encode(buffer.getvalue()).decode(),
    )
    link = page.get_by_role("link", name="Dropped project")
    link.wait_for(timeout=60_000)
    assert page.get_by_label("Upload progress").evaluate("el => el.value") == 100
    link.click()
    page.get_by_role("heading", name="Dropped project", level=1).wait_for()

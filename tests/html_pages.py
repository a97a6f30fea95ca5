"""Reading Kiln's HTML pages as a browser and an assistive tool would, for the tests of the
/oauth/authorize pages (unit and over HTTP): the page's forms and text, and the structural
rules a page must keep (balanced elements, a language, one <main>, a label for every field,
unique ids, no script and no inline style or event handler). html.parser only: no browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements with no end tag (HTML Living Standard, "void elements").
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


@dataclass
class Form:
    action: str | None
    method: str | None
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (type, name, value)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)

    def hidden(self) -> dict[str, str]:
        return {name: value for kind, name, value in self.fields if kind == "hidden"}

    def submit(self, button: str, **values: str) -> list[tuple[str, str]]:
        """The pairs a browser sends when `button` (its value) is pressed, `values` typed in."""
        pairs = [(name, values.get(name, value)) for _, name, value in self.fields]
        name, value, _ = next(b for b in self.buttons if b[1] == button)
        return [*pairs, (name, value)]


class Page(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.forms: list[Form] = []
        self.doctype = ""
        self.lang: str | None = None
        self.title = ""
        self.text_parts: list[str] = []
        self.elements: list[str] = []
        self.ids: list[str] = []
        self.labels: list[str] = []
        self.labelled_inputs: list[str] = []
        self._stack: list[str] = []
        self._button: list[str] | None = None
        self._style = 0
        self.feed(markup)
        self.close()
        if self._stack:
            self.problems.append(f"unclosed elements: {self._stack}")
        for wanted in self.labelled_inputs:
            if wanted not in self.labels:
                self.problems.append(f"the field #{wanted} has no <label for>")
        if len(self.ids) != len(set(self.ids)):
            self.problems.append(f"repeated ids: {self.ids}")
        if self.doctype.lower() != "doctype html":
            self.problems.append(f"doctype {self.doctype!r}")
        if not self.lang:
            self.problems.append("<html> has no lang")
        if self.elements.count("main") != 1 or self.elements.count("h1") != 1:
            self.problems.append("a page has one <main> and one <h1>")
        if not self.title.strip():
            self.problems.append("no <title>")

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if len(values) != len(attrs):
            self.problems.append(f"<{tag}> repeats an attribute")
        self.elements.append(tag)
        if tag == "script":
            self.problems.append("a <script>")
        if "style" in values or any(name.startswith("on") for name in values):
            self.problems.append(f"<{tag}> has an inline style or event handler: {values}")
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "label":
            self.labels.append(values.get("for", ""))
        if tag == "form":
            self.forms.append(Form(values.get("action"), values.get("method")))
        if tag == "input":
            kind = values.get("type", "text")
            if self.forms:
                self.forms[-1].fields.append((kind, values.get("name", ""), values.get("value", "")))
            if kind not in ("hidden", "submit"):
                self.labelled_inputs.append(values.get("id", "(no id)"))
        if tag == "button":
            self._button = [values.get("name", ""), values.get("value", ""), ""]
        if tag == "style":
            self._style += 1
        if tag not in VOID:
            self._stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"</{tag}> closes a void element")
            return
        if not self._stack or self._stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close the open <{self._stack[-1] if self._stack else ''}>")
            return
        self._stack.pop()
        if tag == "button" and self._button is not None and self.forms:
            name, value, text = self._button
            self.forms[-1].buttons.append((name, value, " ".join(text.split())))
            self._button = None
        if tag == "style":
            self._style -= 1

    def handle_data(self, data: str) -> None:
        if self._style:
            return
        if "title" in self._stack:
            self.title += data
        if self._button is not None:
            self._button[2] += data
        if "body" in self._stack:
            self.text_parts.append(data)


def read_page(markup: str) -> Page:
    """The page, failing the test on a broken rule."""
    page = Page(markup)
    assert not page.problems, page.problems
    return page


def policy(header: str) -> dict[str, str]:
    """A Content-Security-Policy header as {directive: its sources}."""
    rules = {}
    for directive in header.split(";"):
        name, _, sources = directive.strip().partition(" ")
        rules[name] = sources
    return rules

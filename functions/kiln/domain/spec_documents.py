"""The four specification documents, rendered from SpecContent, and DATA.md parsed back.

Whichever generator wrote the content, Kiln renders it here, so the documents always have
one shape. SPEC.md, ACCEPTANCE.md and ROUTES.md are for people; DATA.md is also read by
machines (builds, archive import), so it follows a strict grammar that `parse_data_model`
reads back into exactly the entities it was rendered from.

Rendering is deterministic: the same content gives byte-identical documents.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from kiln.domain.generation import ApiRoute, Entity, EntityField, Relation, SpecContent

DOCUMENT_NAMES = ("SPEC.md", "ACCEPTANCE.md", "ROUTES.md", "DATA.md")

# Every character str.splitlines() breaks on. Text that must stay on one line (table cells,
# the description line) escapes all of them, so a parser splitting lines cannot be fooled.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def render_documents(content: SpecContent) -> dict[str, str]:
    """SPEC.md, ACCEPTANCE.md, ROUTES.md and DATA.md for the content, in that order."""
    return {
        "SPEC.md": _spec(content),
        "ACCEPTANCE.md": _acceptance(content),
        "ROUTES.md": _routes(content),
        "DATA.md": _data(content),
    }


# --- people-facing documents ------------------------------------------------------------


def _inline(text: str) -> str:
    """One line of Markdown: every run of whitespace (line breaks included) becomes a space."""
    return " ".join(text.split())


def _cell(text: str) -> str:
    """An inline table cell for the people-facing tables."""
    return _inline(text).replace("|", "\\|")


def _block(text: str) -> str:
    """A paragraph as written, with uniform line endings and no trailing spaces."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def _join(lines: list[str]) -> str:
    return "\n".join(lines).rstrip("\n") + "\n"


def _spec(content: SpecContent) -> str:
    out = [f"# {_inline(content.title)}", "", "## Overview", "", _block(content.overview), ""]

    out += ["## Users", ""]
    out += [f"- **{_inline(role.name)}**: {_inline(role.description)}" for role in content.users]
    out.append("")

    out += ["## Features", ""]
    for number, feature in enumerate(content.features, start=1):
        last = len(feature.acceptance)
        criteria = f"AC-{number}.1" if last == 1 else f"AC-{number}.1 to AC-{number}.{last}"
        out.append(f"{number}. **{_inline(feature.name)}**: {_inline(feature.summary)} (acceptance: {criteria})")
    out.append("")

    out += ["## Decisions", ""]
    out += [f"- {_inline(line)}" for line in content.decisions] or ["None recorded."]
    out.append("")

    out += ["## Non-functional requirements", ""]
    out += [f"- {_inline(line)}" for line in content.non_functional] or ["None recorded."]
    out.append("")

    if content.feedback:
        out += ["## Changes from review feedback", ""]
        for number, response in enumerate(content.feedback, start=1):
            out += [f"### Feedback {number}", ""]
            out += [f"> {line}".rstrip() for line in _block(response.feedback).split("\n")]
            out += ["", "Changes made:", ""]
            out += [f"- {_inline(change)}" for change in response.changes]
            out.append("")
    return _join(out)


def _acceptance(content: SpecContent) -> str:
    out = [
        f"# Acceptance criteria: {_inline(content.title)}",
        "",
        "Criteria are numbered AC-<feature>.<criterion>, following the order of the features in SPEC.md.",
        "",
    ]
    for number, feature in enumerate(content.features, start=1):
        out += [f"## {number}. {_inline(feature.name)}", "", _inline(feature.summary), ""]
        out += [
            f"- [ ] **AC-{number}.{index}** {_inline(criterion)}"
            for index, criterion in enumerate(feature.acceptance, start=1)
        ]
        out.append("")
    return _join(out)


def _routes(content: SpecContent) -> str:
    groups: dict[str | None, list[ApiRoute]] = {entity.name: [] for entity in content.entities}
    groups[None] = []
    for route in content.routes:
        groups.setdefault(route.entity, []).append(route)
    out = [
        f"# HTTP routes: {_inline(content.title)}",
        "",
        'Routes are grouped by the entity they act on (see DATA.md); "Other" holds the rest.',
        "",
    ]
    for name, routes in groups.items():
        if not routes:
            continue
        heading = name or ("Other" if "Other" not in groups else "Other (no entity)")
        out += [f"## {heading}", "", _row(("method", "path", "summary")), _row(("---",) * 3)]
        out += [f"| {route.method} | `{route.path}` | {_cell(route.summary)} |" for route in routes]
        out.append("")
    return _join(out)


# --- DATA.md ------------------------------------------------------------------------------
#
# The grammar (one block per entity, in order; blank lines between parts are allowed):
#
#   ## Entity: <EntityName>
#   Description: <escaped text>
#   | field | type | required | unique | values | description |
#   | --- | --- | --- | --- | --- | --- |
#   | <field> | <type> | yes|no | yes|no | <v1>, <v2>, ... (enum only, else empty) | <escaped text> |
#   ### Relations
#   - belongs_to <Entity> via <field>  |  - has_many <Entity>  |  - many_to_many <Entity>
#   - none                              (when the entity has no relations)
#
# Anything before the first entity heading is free text, except that no line there may
# start with "##". Escaped text: backslash -> \\, pipe -> \|, newline -> \n, carriage
# return -> \r, any other line-breaking character -> \uXXXX. Cells are padded with one space.
# The parser also accepts CRLF line endings, a byte-order mark and spaces around lines and cells.

_HEADER = ("field", "type", "required", "unique", "values", "description")
_ENTITY = "## Entity:"
_DESCRIPTION = "Description:"
_RELATIONS = "### Relations"
_NO_RELATIONS = "- none"
_ESCAPES = {ord("\\"): "\\\\", ord("|"): "\\|", ord("\n"): "\\n", ord("\r"): "\\r"}
_ESCAPES.update({ord(c): f"\\u{ord(c):04x}" for c in _LINE_BREAKS if ord(c) not in _ESCAPES})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _row(cells: Iterable[str]) -> str:
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _data(content: SpecContent) -> str:
    out = [
        f"# Data model: {_inline(content.title)}",
        "",
        "Every entity below has the same shape, which builds parse: a heading `## Entity: <Name>`, "
        "a `Description:` line, a table with the columns field, type, required, unique, values "
        "(the allowed values of enum fields) and description, then a `### Relations` list whose "
        "items read `belongs_to <Entity> via <field>`, `has_many <Entity>`, `many_to_many <Entity>` "
        "or `none`. In descriptions, `\\|` stands for a pipe, `\\\\` for a backslash and `\\n` for a line break.",
        "",
    ]
    for entity in content.entities:
        out += [f"{_ENTITY} {entity.name}", "", f"{_DESCRIPTION} {_escape(entity.description)}", ""]
        out.append(_row(_HEADER))
        out.append(_row(["---"] * len(_HEADER)))
        for f in entity.fields:
            values = ", ".join(f.values) if f.values is not None else ""
            out.append(_row((f.name, f.type, _yes(f.required), _yes(f.unique), values, _escape(f.description))))
        out += ["", _RELATIONS, ""]
        for relation in entity.relations:
            via = f" via {relation.via}" if relation.via is not None else ""
            out.append(f"- {relation.kind} {relation.target}{via}")
        if not entity.relations:
            out.append(_NO_RELATIONS)
        out.append("")
    return _join(out)


def parse_data_model(text: str) -> list[Entity]:
    """The entities of a DATA.md in the grammar above; ValueError (with a line number) otherwise.

    Checks what one document can check on its own: each entity is valid, entity names are
    distinct and every relation points at an entity of the document.
    """
    if not isinstance(text, str):
        raise ValueError("DATA.md must be text")
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = [line.strip(" \t") for line in text.removeprefix("\ufeff").splitlines()]
        self.at = 0  # index of the next line to read

    def fail(self, message: str, index: int | None = None) -> ValueError:
        line = (self.at if index is None else index) + 1
        return ValueError(f"DATA.md line {line}: {message}")

    def skip_blank(self) -> None:
        while self.at < len(self.lines) and not self.lines[self.at]:
            self.at += 1

    def expect(self, what: str) -> str:
        self.skip_blank()
        if self.at >= len(self.lines):
            raise self.fail(f"expected {what}, found the end of the document")
        line = self.lines[self.at]
        self.at += 1
        return line

    def parse(self) -> list[Entity]:
        while self.at < len(self.lines) and not self.lines[self.at].startswith(_ENTITY):
            if self.lines[self.at].startswith("##"):
                raise self.fail(f"expected an entity heading '{_ENTITY} <Name>'")
            self.at += 1
        if self.at >= len(self.lines):
            raise self.fail(f"no entity found: each entity starts with '{_ENTITY} <Name>'")
        entities: list[Entity] = []
        headings: dict[str, int] = {}
        targets: list[tuple[str, int]] = []
        while self.at < len(self.lines):
            heading = self.at
            entity, relation_lines = self.entity()
            if entity.name in headings:
                raise self.fail(f"entity {entity.name} is already defined at line {headings[entity.name] + 1}", heading)
            headings[entity.name] = heading
            entities.append(entity)
            targets += [(r.target, index) for r, index in zip(entity.relations, relation_lines, strict=True)]
            self.skip_blank()
        for target, index in targets:
            if target not in headings:
                raise self.fail(f"relation to unknown entity {target}", index)
        return entities

    def entity(self) -> tuple[Entity, list[int]]:
        heading = self.at
        name = self.lines[self.at][len(_ENTITY) :].strip(" \t")
        self.at += 1
        line = self.expect(f"a '{_DESCRIPTION} ...' line")
        if not line.startswith(_DESCRIPTION):
            raise self.fail(f"expected a '{_DESCRIPTION} ...' line", self.at - 1)
        description = self.unescape(line[len(_DESCRIPTION) :].strip(" \t"), self.at - 1)

        if tuple(self.row(self.expect("the fields table header"), self.at - 1)) != _HEADER:
            raise self.fail("the fields table header must be | " + " | ".join(_HEADER) + " |", self.at - 1)
        separator = self.row(self.expect("the table separator row"), self.at - 1)
        if len(separator) != len(_HEADER) or not all(_is_rule(cell) for cell in separator):
            raise self.fail("expected the table separator row | --- | --- | ... |", self.at - 1)
        fields = []
        self.skip_blank()
        while self.at < len(self.lines) and self.lines[self.at].startswith("|"):
            fields.append(self.field(self.row(self.lines[self.at], self.at), self.at))
            self.at += 1
        if not fields:
            raise self.fail("an entity needs at least one field row")

        if self.expect(f"'{_RELATIONS}'") != _RELATIONS:
            raise self.fail(f"expected '{_RELATIONS}'", self.at - 1)
        relations: list[Relation] = []
        relation_lines: list[int] = []
        self.skip_blank()
        if self.at < len(self.lines) and self.lines[self.at] == _NO_RELATIONS:
            self.at += 1
        else:
            while self.at < len(self.lines) and self.lines[self.at].startswith("- "):
                relations.append(self.relation(self.lines[self.at], self.at))
                relation_lines.append(self.at)
                self.at += 1
            if not relations:
                raise self.fail(f"expected relation items ('- has_many <Entity>', ...) or '{_NO_RELATIONS}'")
        self.skip_blank()
        if self.at < len(self.lines) and not self.lines[self.at].startswith(_ENTITY):
            raise self.fail(f"expected the next '{_ENTITY} <Name>' heading or the end of the document")
        try:
            return Entity(name=name, description=description, fields=fields, relations=relations), relation_lines
        except ValidationError as exc:
            raise self.fail(_summary(exc), heading) from None

    def row(self, line: str, index: int) -> list[str]:
        """The cells of a table row, still escaped, padding removed."""
        if not line.startswith("|"):
            raise self.fail("expected a table row starting with |", index)
        cells, current, i = [], [], 1
        while i < len(line):
            char = line[i]
            if char == "\\":
                current.append(line[i : i + 2])
                i += 2
                continue
            if char == "|":
                cells.append("".join(current).strip(" \t"))
                current = []
            else:
                current.append(char)
            i += 1
        if "".join(current).strip(" \t"):
            raise self.fail("a table row must end with an unescaped |", index)
        return cells

    def field(self, cells: list[str], index: int) -> EntityField:
        if len(cells) != len(_HEADER):
            raise self.fail(f"a field row has {len(_HEADER)} cells, found {len(cells)}", index)
        name, kind, required, unique, values, description = (self.unescape(c, index) for c in cells)
        flags = {"yes": True, "no": False}
        if required not in flags or unique not in flags:
            raise self.fail("required and unique are yes or no", index)
        try:
            return EntityField(
                name=name,
                type=kind,
                required=flags[required],
                unique=flags[unique],
                description=description,
                values=[v.strip(" \t") for v in values.split(",")] if values else None,
            )
        except ValidationError as exc:
            raise self.fail(_summary(exc), index) from None

    def relation(self, line: str, index: int) -> Relation:
        words = line[2:].split(" ")
        if len(words) == 2:
            kind, target, via = words[0], words[1], None
        elif len(words) == 4 and words[2] == "via":
            kind, target, via = words[0], words[1], words[3]
        else:
            raise self.fail("a relation reads '- <kind> <Entity>' or '- belongs_to <Entity> via <field>'", index)
        try:
            return Relation(kind=kind, target=target, via=via)
        except ValidationError as exc:
            raise self.fail(_summary(exc), index) from None

    def unescape(self, text: str, index: int) -> str:
        if "\\" not in text:
            return text
        out, i = [], 0
        while i < len(text):
            char = text[i]
            if char != "\\":
                out.append(char)
                i += 1
                continue
            code = text[i + 1 : i + 2]
            if code in ("\\", "|"):
                out.append(code)
            elif code == "n":
                out.append("\n")
            elif code == "r":
                out.append("\r")
            elif code == "u" and _is_hex4(text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 4
            else:
                raise self.fail(f"unknown escape sequence {text[i : i + 2]!r}", index)
            i += 2
        return "".join(out)


def _is_rule(cell: str) -> bool:
    dashes = cell.removeprefix(":").removesuffix(":")
    return len(dashes) >= 3 and set(dashes) == {"-"}


def _is_hex4(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)

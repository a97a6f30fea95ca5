"""Matching catalogue phrases in text: normalised words, negations, and small text helpers.

Text is lower-cased, split into words and clause marks ("|", so no phrase matches across a
comma), and every word is put in the singular (kiln.domain.generators.naming), so "task
boards" matches the phrase "task board". Phrases that follow a negation ("no comments",
"without time tracking", "remove the tags and labels") are set apart: they switch nothing
on, and feedback uses them to remove what they name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from kiln.domain.generators import naming
from kiln.domain.generators.builtin.catalogue import ENTITIES, MODULES

# Words and the punctuation that separates clauses ("|"), so no phrase matches across it.
_TOKEN = re.compile(r"[^\W_]+|[.,;:!?()\[\]{}\n\r]")
_DETERMINERS = frozenset({"the", "a", "an", "any", "all", "my", "our", "their", "your", "of", "for", "need"})
_CONJUNCTIONS = frozenset({"and", "or", "nor"})
_NOISE = ("in order to", "in order for", "order by", "sort order")  # "order" that is not a purchase


def tokens(text: str) -> list[str]:
    return ["|" if not token[0].isalnum() else naming.singular(token) for token in _TOKEN.findall(text.lower())]


@lru_cache(maxsize=4096)
def norm(phrase: str) -> str:
    return " ".join(token for token in tokens(phrase) if token != "|")


# Phrases that negate what follows: "no comments", "without time tracking", "remove the tags".
NEGATIONS = tuple(
    sorted(
        {
            tuple(norm(phrase).split())
            for phrase in (
                "no",
                "not",
                "without",
                "remove",
                "drop",
                "exclude",
                "skip",
                "get rid of",
                "don't need",
                "do not need",
                "does not need",
                "doesn't need",
                "no need for",
                "no longer",
                "leave out",
                "take out",
                "delete",
            )
        },
        key=lambda words: (-len(words), words),
    )
)


@lru_cache(maxsize=1)
def removal_targets() -> tuple[dict[str, tuple[tuple[str, ...], tuple[str, ...]]], int]:
    """Phrase -> (entities it names, modules it names), and the longest phrase in tokens."""
    entities: dict[str, list[str]] = {}
    modules: dict[str, list[str]] = {}
    for template in ENTITIES:
        for alias in template.aliases:
            entities.setdefault(norm(alias), []).append(template.name)
    for module in MODULES:
        for keyword in module.keywords + module.description_only:
            modules.setdefault(norm(keyword), []).append(module.key)
    phrases = {
        phrase: (tuple(entities.get(phrase, ())), tuple(modules.get(phrase, ())))
        for phrase in [*entities, *modules]
        if phrase
    }
    return phrases, max(len(phrase.split()) for phrase in phrases)


class Text:
    """Normalized words of some text, for phrase lookups; negated phrases are set apart.

    `extra` are more phrases (normalised) a negation can name, such as the things a
    description named ("remove clicks").
    """

    def __init__(self, *parts: str, extra: frozenset[str] = frozenset()) -> None:
        words: list[str] = []
        for part in parts:
            words += tokens(part)
            words.append("|")
        self.raw = " " + " ".join(words) + " "
        self.negated: list[str] = []
        blanked = list(words)
        for start, end, phrases in _negated_spans(words, extra):
            blanked[start:end] = ["|"] * (end - start)
            self.negated += [p for p in phrases if p not in self.negated]
        index = " " + " ".join(blanked) + " "
        for noise in _NOISE:
            index = index.replace(f" {norm(noise)} ", " | ")
        self.index = index

    def has(self, phrase: str) -> bool:
        normal = norm(phrase)
        if not normal:
            return False
        # Phrases that are themselves negations ("no login") are looked up in the raw text.
        words = tuple(normal.split())
        negative = any(words[: len(n)] == n for n in NEGATIONS)
        return f" {normal} " in (self.raw if negative else self.index)

    def any(self, phrases: tuple[str, ...]) -> bool:
        return any(self.has(phrase) for phrase in phrases)


def _negated_spans(words: list[str], extra: frozenset[str]) -> Iterator[tuple[int, int, list[str]]]:
    targets, longest = removal_targets()
    longest = max([longest, *(len(phrase.split()) for phrase in extra)])
    at = 0
    while at < len(words):
        trigger = next((n for n in NEGATIONS if tuple(words[at : at + len(n)]) == n), None)  # longest first
        if trigger is None:
            at += 1
            continue
        cursor, found, end = at + len(trigger), [], at + len(trigger)
        while True:
            while cursor < len(words) and words[cursor] in _DETERMINERS:
                cursor += 1
            phrase = next(
                (
                    " ".join(words[cursor : cursor + size])
                    for size in range(longest, 0, -1)
                    if cursor + size <= len(words)
                    and (
                        " ".join(words[cursor : cursor + size]) in targets
                        or " ".join(words[cursor : cursor + size]) in extra
                    )
                ),
                None,
            )
            if phrase is None:
                break
            found.append(phrase)
            end = cursor + len(phrase.split())
            if end < len(words) and words[end] in _CONJUNCTIONS:
                cursor = end + 1
                continue
            break
        if found:
            yield at, end, found
        at = max(end, at + 1)


# --- small text helpers ----------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word where possible."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


class Blanks(dict[str, str]):
    """Template placeholders; unknown ones stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"

"""Names, once: singular and plural nouns, and the case forms of entity, field and path names.

Both halves of the built-in generator (the spec writer and the build planner) name things
from the same words: an entity `TimeEntry` has the path segment `time-entries`, the table
`time_entry`, the foreign key `time_entry_id` and the path parameter `{timeEntryId}`. Two
hand-written copies of these rules used to disagree, so every conversion lives here.

Singular and plural forms come from `inflect` (irregular nouns, Latin and Greek plurals:
person/people, criterion/criteria, status/statuses). `inflect.singular_noun` assumes its
argument is plural ("status" would become "statu"), so words that are already singular or
never plural are recognised first. The engine is built on first use: importing inflect costs
about 25 ms, paid only by the functions that generate.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import inflect

# Nouns with no separate plural, or whose plural-looking form is the usual singular.
UNCOUNTABLE = frozenset(
    {
        "data",
        "metadata",
        "media",
        "news",
        "series",
        "species",
        "analytics",
        "staff",
        "equipment",
        "software",
        "hardware",
        "feedback",
        "information",
        "info",
        "inventory",
        "luggage",
        "baggage",
        "furniture",
        "mail",
        "research",
        "advice",
        "evidence",
        "traffic",
        "music",
        "money",
        "cash",
        "rice",
        "water",
        "maintenance",
        "headquarters",
        "premises",
        "physics",
        "mathematics",
        "statistics",
        "logistics",
        "ethics",
        "economics",
        "electronics",
        "clothing",
        "sheep",
        "fish",
        "deer",
        "aircraft",
        "content",
        "access",
        "progress",
        "storage",
        "pricing",
        "billing",
        "shipping",
        "housing",
        "sms",
        "gps",
        "scissors",
        "diabetes",
        "canvas",
    }
)
# Endings of words that are singular although they end in "s" (class, bus, analysis, famous).
_SINGULAR_ENDINGS = ("ss", "us", "is", "ous", "ness")
# Plurals the endings above would keep, and Latin or Greek plurals inflect leaves alone.
_IRREGULAR = {
    "menus": "menu",
    "gurus": "guru",
    "emus": "emu",
    "haikus": "haiku",
    "criteria": "criterion",
    "phenomena": "phenomenon",
    "bacteria": "bacterium",
    "curricula": "curriculum",
    "cacti": "cactus",
    "fungi": "fungus",
    "alumni": "alumnus",
    "syllabi": "syllabus",
    "stimuli": "stimulus",
}
_PLURAL_ENDINGS = ("sses", "uses", "ises", "xes", "ches", "shes", "zzes")
_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _engine() -> inflect.engine:
    import inflect

    return inflect.engine()


@lru_cache(maxsize=8192)
def singular(word: str) -> str:
    """The singular of a lower-case noun: copies -> copy, people -> person, status -> status."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if not _WORD.fullmatch(word) or word in UNCOUNTABLE or len(word) <= 3:
        # Short words ending in s are almost never plurals of anything we name (bus, gas, its).
        return word
    if word.endswith(_SINGULAR_ENDINGS) and not word.endswith(_PLURAL_ENDINGS):
        return word
    if not word.endswith(("s", "men", "ren", "ice", "eet", "eeth", "ople")):
        return word
    result = _engine().singular_noun(word)
    return result if isinstance(result, str) and result else word


@lru_cache(maxsize=8192)
def plural(word: str) -> str:
    """The plural of a lower-case singular noun: copy -> copies, person -> people."""
    if not _WORD.fullmatch(word) or word in UNCOUNTABLE:
        return word
    result = _engine().plural_noun(word)
    return result if isinstance(result, str) and result else word + "s"


def plural_phrase(phrase: str) -> str:
    """The plural of the last word of a phrase: "time entry" -> "time entries"."""
    head, _, last = phrase.rpartition(" ")
    return (head + " " if head else "") + plural(last)


_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def words(name: str) -> str:
    """An entity name as lower-case words: TimeEntry -> time entry, HTTPServer -> http server."""
    return _BOUNDARY.sub(" ", name).lower()


def snake(name: str) -> str:
    """TimeEntry -> time_entry, HTTPServer -> http_server."""
    return words(name).replace(" ", "_")


def kebab(name: str) -> str:
    """TimeEntry -> time-entry."""
    return words(name).replace(" ", "-")


def collection(name: str) -> str:
    """The path segment of an entity's records: TimeEntry -> time-entries, Person -> people."""
    return plural_phrase(words(name)).replace(" ", "-")


def param(name: str) -> str:
    """The path parameter naming one record: TimeEntry -> timeEntryId."""
    return name[0].lower() + name[1:] + "Id"


def param_snake(text: str) -> str:
    """A path parameter as a field name: projectId -> project_id, project-id -> project_id."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def pascal(phrase: str) -> str:
    """Lower-case words as an entity name: "purchase order" -> PurchaseOrder."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", phrase) if part)


def foreign_key(name: str) -> str:
    """The field that points at an entity: TimeEntry -> time_entry_id."""
    return snake(name) + "_id"


def article(phrase: str) -> str:
    """ "a" or "an" before lower-case words, by their sound: an hour, a user, a URL."""
    first = phrase.split(" ", 1)[0]
    vowel = first[:1] in set("aeiou") and not first.startswith(("user", "uni", "use", "eu", "one", "url", "uuid"))
    return ("an " if vowel or first in {"hour", "honest", "sms", "html"} else "a ") + phrase


def singular_segment(segment: str) -> str:
    """A path segment as a singular snake name: time-entries -> time_entry, people -> person."""
    words_ = [word for word in re.split(r"[^a-z0-9]+", segment.lower()) if word]
    if not words_:
        return ""
    return "_".join(words_[:-1] + [singular(words_[-1])])

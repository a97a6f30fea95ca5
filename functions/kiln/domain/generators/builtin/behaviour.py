"""What the generated service does beyond storing records, and how the documents say it.

The build reads only the approved documents, so behaviour travels in them, in two plain
conventions the spec writer also follows:

- **Bounds**: an integer or decimal field whose DATA.md description says "from 1 to 5"
  refuses values outside that range (a rating).
- **Actions**: `POST /<records>/{id}/<verb>` stamps the moment on the field the verb names
  (`pay` -> `paid_at`, `stop` -> `stopped_at` or `ended_at`, `start` -> `started_at`), sets a
  `status` enum to the verb's participle when it is one of its values (`cancel` ->
  `cancelled`), and a `stop` with a start time fills a `duration_minutes` integer. A verb
  that names none of these applies the request body as a partial update (a `move`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiln.domain.generators.builtin.lexicon import ACTION_VERBS

_BOUNDS = re.compile(r"\bfrom (-?\d{1,9}) to (-?\d{1,9})\b")

# Participles of verbs whose routes the catalogue writes besides the ones of the lexicon.
PARTICIPLES: dict[str, str] = {
    **ACTION_VERBS,
    "read": "read",
    "end": "ended",
    "open": "opened",
    "reopen": "reopened",
    "check in": "checked_in",
    "check out": "checked_out",
    "done": "done",
}
# Timestamps a verb may stamp, best first, besides <participle>_at and <participle>_on.
_STAMPS: dict[str, tuple[str, ...]] = {
    "stop": ("stopped_at", "ended_at", "ends_at", "finished_at"),
    "end": ("ended_at", "ends_at", "stopped_at"),
    "finish": ("finished_at", "completed_at", "ended_at"),
    "complete": ("completed_at", "finished_at", "done_at"),
    "start": ("started_at", "starts_at", "began_at"),
    "return": ("returned_at", "returned_on"),
    "pay": ("paid_at", "paid_on"),
}
_STARTS = ("started_at", "starts_at", "began_at")
_DURATIONS = ("duration_minutes",)


def bounds(description: str) -> tuple[int, int] | None:
    """(low, high) when a description says "from <low> to <high>" with low <= high."""
    match = _BOUNDS.search(description or "")
    if match is None:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    return (low, high) if low <= high else None


def bounds_text(low: int, high: int) -> str:
    return f"from {low} to {high}"


def verb_of(segment: str) -> str:
    """The verb of an action path segment: "stop" -> stop, "mark-paid" -> pay, "check-in" -> check in."""
    words = re.sub(r"[^a-z]+", " ", segment.lower()).split()
    if len(words) >= 2 and " ".join(words[:2]) in PARTICIPLES:
        return " ".join(words[:2])
    if words and words[0] == "mark" and len(words) > 1:
        return next((verb for verb, participle in PARTICIPLES.items() if participle == words[1]), words[1])
    return words[0] if words else ""


def stamp_names(verb: str) -> tuple[str, ...]:
    """The fields an action may stamp, best first."""
    participle = PARTICIPLES.get(verb)
    names = list(_STAMPS.get(verb, ()))
    if participle:
        names += [f"{participle}_at", f"{participle}_on"]
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Effect:
    """What an action does to its record, besides applying the body."""

    stamp: str | None = None  # field set to now
    stamp_type: str = "datetime"  # datetime (now) or date (today)
    status: str | None = None  # value the status field takes
    status_field: str | None = None
    duration: tuple[str, str, str] | None = None  # (start field, end field, minutes field)

    @property
    def empty(self) -> bool:
        return self.stamp is None and self.status is None


def effect(verb: str, fields: dict[str, tuple[str, tuple[str, ...]]]) -> Effect:
    """The effect of `verb` on a record with `fields` (name -> (type, enum values)), writable fields only."""
    stamp = next(
        (name for name in stamp_names(verb) if name in fields and fields[name][0] in ("datetime", "date")), None
    )
    participle = PARTICIPLES.get(verb)
    status, status_field = None, None
    for name in ("status", "state"):
        if name in fields and fields[name][0] == "enum" and participle:
            values = fields[name][1]
            wanted = [participle, participle.replace("cancelled", "canceled"), "done" if verb == "complete" else ""]
            status = next((value for value in wanted if value and value in values), None)
            if status is not None:
                status_field = name
                break
    duration = None
    if verb in ("stop", "end", "finish") and stamp is not None and fields[stamp][0] == "datetime":
        start = next((name for name in _STARTS if name in fields and fields[name][0] == "datetime"), None)
        minutes = next((name for name in _DURATIONS if name in fields and fields[name][0] == "integer"), None)
        if start is not None and minutes is not None:
            duration = (start, stamp, minutes)
    return Effect(stamp, fields[stamp][0] if stamp else "datetime", status, status_field, duration)

"""The data model a description names: its things, the questions about them and their answers.

`read` finds the things (kiln.domain.generators.builtin.nouns); `questions` offers them for the
user to confirm, drop, rename or add to, and asks what a thing records when nothing says;
`Model.from_answers` applies the answers; `Model.templates` turns the things into entity
templates the spec writer treats like the catalogue's own. A thing the catalogue knows
("task", "appointment") takes the catalogue's fields and keeps the user's word for its name;
any other thing takes the fields the lexicon knows for its noun, the attributes the text gave
it ("with due dates"), the answers' fields and a timestamp per action ("pay fines").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from kiln.domain.generation import ENTITY_NAME, AnswerValue, Question, QuestionType
from kiln.domain.generators import naming
from kiln.domain.generators.builtin import lexicon as lx
from kiln.domain.generators.builtin import nouns
from kiln.domain.generators.builtin.behaviour import PARTICIPLES, bounds, bounds_text, stamp_names
from kiln.domain.generators.builtin.catalogue import (
    ENTITIES,
    TEMPLATES,
    EntityTemplate,
    FieldTemplate,
    ParentTemplate,
)
from kiln.domain.generators.builtin.lexicon import FieldSpec
from kiln.domain.generators.builtin.nouns import Reading, Thing
from kiln.domain.generators.builtin.text import clip

DATA_MODEL = "data_model"
DATA_MODEL_MORE = "data_model_more"
FIELDS_PREFIX = "fields_"
KEEP_ALL = "All of them"
MAX_FIELD_QUESTIONS = 4
_ENTITY_NAME = re.compile(ENTITY_NAME)
# Catalogue words that name something else in most descriptions ("a bank account", "items").
_NOT_CATALOGUE = frozenset({"account", "item", "file", "upload", "setting", "contact", "purchase", "lead"})
_NAME_FIELD = FieldSpec("name", "string", True, False, "What it is called")
_NOTES_FIELD = FieldSpec("notes", "text", False, False, "Anything else worth writing down")


@lru_cache(maxsize=1)
def known() -> dict[str, str]:
    """Catalogue phrases (singular, lower case) -> the catalogue entity they name."""
    phrases: dict[str, str] = {}
    for template in ENTITIES:
        if template.name == "Item":
            continue
        for phrase in (naming.words(template.name), *template.aliases):
            normal = " ".join(naming.singular(word) for word in phrase.lower().split())
            if normal not in _NOT_CATALOGUE:
                phrases.setdefault(normal, template.name)
    return phrases


def read(text: str) -> Reading:
    return nouns.read(text, known())


def default_name(thing: Thing) -> str:
    """The entity name of a thing: the user's word, or the catalogue's where the word is a phrase
    of its own ("time tracking" is TimeEntry, "task board" is Board)."""
    if thing.template is not None:
        template = TEMPLATES[thing.template]
        word = thing.key
        if template.domain and " " not in word and naming.pascal(word) != template.name:
            return naming.pascal(word)
        return template.name
    return naming.pascal(thing.key)


# --- questions -----------------------------------------------------------------------------------


def questions(reading: Reading) -> list[Question]:
    """The model as understood, to confirm or change, and what the unknown things record."""
    names = list(dict.fromkeys(default_name(thing) for thing in reading.things))
    out: list[Question] = []
    if names:
        shown = names[:11]
        out.append(
            Question(
                id=DATA_MODEL,
                type=QuestionType.MULTI_CHOICE,
                required=False,
                options=[KEEP_ALL, *shown],
                question=clip(
                    "Kiln read these things in the description: " + ", ".join(shown) + ". Which should the "
                    "data model keep? (All of them when left unanswered.)",
                    500,
                ),
            )
        )
    out.append(
        Question(
            id=DATA_MODEL_MORE,
            type=QuestionType.TEXT,
            required=False,
            question="Anything to add to or rename in the data model? Name more things it should keep track of (e.g. "
            '"suppliers with their invoices"), or rename one as "Link -> ShortLink".',
        )
    )
    asked = 0
    for thing in reading.things:
        if asked == MAX_FIELD_QUESTIONS:
            break
        if thing.template is None and thing.spec is None and not thing.attributes and not thing.derived:
            question_id = FIELDS_PREFIX + naming.snake(default_name(thing))
            if len(question_id) <= 64 and all(q.id != question_id for q in out):
                out.append(
                    Question(
                        id=question_id,
                        type=QuestionType.TEXT,
                        required=False,
                        question=clip(
                            f"What does {naming.article(thing.key)} record? For example: a name, a date, an "
                            "amount, a status.",
                            500,
                        ),
                    )
                )
                asked += 1
    return out


# --- answers --------------------------------------------------------------------------------------

_RENAME = re.compile(
    r"(?:rename\s+(?:the\s+)?)?\b([A-Za-z][A-Za-z0-9 ]{0,60}?)\s*(?:->|=>|→|\bto\b|\bas\b|\binto\b)\s*"
    r"([A-Za-z0-9][A-Za-z0-9 ]{0,60}?)\s*(?=[,;.\n]|$|\band\b)",
    re.IGNORECASE,
)


@dataclass
class Model:
    """The things of the data model after answers and feedback, in the order they were named."""

    things: list[Thing]
    names: dict[str, str] = field(default_factory=dict)  # thing key -> entity name
    fields: dict[str, list[FieldSpec]] = field(default_factory=dict)  # answered fields per thing key
    product_attributes: list[FieldSpec] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # entity names the answers or feedback dropped
    notes: list[str] = field(default_factory=list)  # decisions taken on the model

    @classmethod
    def from_reading(cls, reading: Reading) -> Model:
        # Two words for one catalogue entity ("tasks and to-dos") are one thing: the first named.
        things: list[Thing] = []
        first: dict[str, Thing] = {}
        for thing in reading.things:
            if thing.template is not None and thing.template in first:
                kept = first[thing.template]
                for parent, structural in thing.parents:
                    kept.add_parent(parent, structural)
                for attribute in thing.attributes:
                    kept.add_attribute(attribute)
                continue
            if thing.template is not None:
                first[thing.template] = thing
            things.append(thing)
        merged = {
            thing.key: first[thing.template].key
            for thing in reading.things
            if thing.template is not None and thing not in things
        }
        for thing in things:
            thing.parents = list(
                dict.fromkeys(
                    (merged.get(parent, parent), structural)
                    for parent, structural in thing.parents
                    if merged.get(parent, parent) != thing.key
                )
            )
        model = cls(things, product_attributes=list(reading.product_attributes))
        model.names = {thing.key: default_name(thing) for thing in model.things}
        return model

    def name(self, key: str) -> str | None:
        return self.names.get(key)

    def key_of(self, name: str) -> str | None:
        wanted = name.strip().lower().replace(" ", "")
        return next(
            (
                thing.key
                for thing in self.things
                if self.names[thing.key].lower() == wanted or thing.key.replace(" ", "") == wanted
            ),
            None,
        )

    def apply_answers(self, asked: dict[str, Question], answers: dict[str, AnswerValue]) -> None:
        keep = answers.get(DATA_MODEL)
        if DATA_MODEL in asked and isinstance(keep, list) and keep and KEEP_ALL not in keep:
            chosen = {str(value) for value in keep}
            offered = set(asked[DATA_MODEL].options or ())
            for thing in list(self.things):
                name = self.names[thing.key]
                if name in offered and name not in chosen:
                    self.drop(thing.key)
            self.notes.append(
                clip(
                    "Data model: kept " + ", ".join(sorted(chosen)) + " of the things the "
                    "description named, as answered.",
                    500,
                )
            )
        more = answers.get(DATA_MODEL_MORE)
        if isinstance(more, str) and more.strip():
            rest = self.rename_from(more)
            self.add_from(rest)
        for question_id, answer in answers.items():
            if question_id.startswith(FIELDS_PREFIX) and isinstance(answer, str) and question_id in asked:
                key = next(
                    (
                        thing.key
                        for thing in self.things
                        if FIELDS_PREFIX + naming.snake(self.names[thing.key]) == question_id
                        or FIELDS_PREFIX + naming.snake(default_name(thing)) == question_id
                    ),
                    None,
                )
                if key is not None:
                    self.fields.setdefault(key, []).extend(self.parse_fields(answer, key))

    def drop(self, key: str) -> None:
        thing = next((thing for thing in self.things if thing.key == key), None)
        if thing is None:
            return
        self.things.remove(thing)
        self.dropped.append(self.names[key])
        for other in self.things:
            other.parents = [(parent, structural) for parent, structural in other.parents if parent != key]

    def rename_from(self, text: str) -> str:
        """Applies "Link -> ShortLink" and "rename Link to ShortLink"; returns the rest of the text."""
        rest = text
        for match in _RENAME.finditer(text):
            old, new = match.group(1).strip(), match.group(2).strip()
            old = re.sub(r"^(?:rename|the|a|an)\s+", "", old, flags=re.IGNORECASE).strip()
            key = self.key_of(old) or self.key_of(old.split()[-1]) if old else None
            arrow = any(mark in match.group(0) for mark in ("->", "=>", "→")) or match.group(0).lower().startswith(
                "rename"
            )
            if key is None or not arrow:
                continue
            name = naming.pascal(new) if " " in new or new[:1].islower() else new
            if not _ENTITY_NAME.fullmatch(name) or name == "User" or name in self.names.values():
                self.notes.append(
                    clip(
                        f"Data model: kept the name {self.names[key]}; {new!r} is not a usable "
                        "entity name or is taken.",
                        500,
                    )
                )
            else:
                self.notes.append(clip(f"Data model: {self.names[key]} is called {name}, as asked.", 500))
                self.names[key] = name
            rest = rest.replace(match.group(0), " ")
        return rest

    def add_from(self, text: str, *, only_objects_of: frozenset[str] | None = None) -> list[str]:
        """Adds the things a text names (all of them, or only the objects of the given verbs)."""
        reading = read(text)
        added: list[str] = []
        wanted = None
        if only_objects_of is not None:
            wanted = {key for verb, keys in reading.objects.items() if verb in only_objects_of for key in keys}
            wanted |= {
                thing.key
                for thing in reading.things
                if any(parent in wanted for parent, _ in thing.parents) and thing.key not in self.names
            }
        for thing in reading.things:
            if wanted is not None and thing.key not in wanted:
                continue
            if thing.key in self.names:
                current = next(t for t in self.things if t.key == thing.key)
                for parent, structural in thing.parents:
                    current.add_parent(parent, structural)
                for attribute in thing.attributes:
                    current.add_attribute(attribute)
                continue
            if thing.template is not None and thing.template in {t.template for t in self.things}:
                continue
            thing.order = len(self.things)
            self.things.append(thing)
            self.names[thing.key] = default_name(thing)
            added.append(self.names[thing.key])
        for thing in self.things:  # relations to things this text did not name are dropped
            thing.parents = [(parent, structural) for parent, structural in thing.parents if parent in self.names]
        if added:
            self.notes.append(clip("Data model: added " + ", ".join(added) + " from the answers.", 500))
        return added

    def parse_fields(self, text: str, owner: str) -> list[FieldSpec]:
        """ "a name, a website and a visit count" -> name (string), website (url), visit_count (integer)."""
        specs: list[FieldSpec] = []
        for part in re.split(r"[,;\n]|\band\b|\bor\b|\bwith\b|\bplus\b|\balso\b", text.lower()):
            words = [w for w in re.findall(r"[a-z]+", part) if w not in _FIELD_FILLERS]
            if not words:
                continue
            words = words[-3:]
            phrase = " ".join(words[:-1] + [naming.singular(words[-1])])
            spec = lx.ATTRIBUTES.get(phrase)
            known_last = lx.ATTRIBUTES.get(naming.singular(words[-1]))
            if spec is None and known_last is not None:
                # "a difficulty rating": the attribute's type and rules under the answer's own name.
                spec = (
                    known_last
                    if len(words) == 1
                    else FieldSpec(
                        re.sub(r"[^a-z0-9]+", "_", phrase).strip("_")[:60],
                        known_last.type,
                        False,
                        known_last.unique,
                        clip(
                            phrase.capitalize()
                            + (f", {bounds_text(*limits)}" if (limits := bounds(known_last.description)) else ""),
                            300,
                        ),
                        known_last.values,
                    )
                )
            target = self.key_of(naming.pascal(phrase)) or self.key_of(naming.singular(words[-1]))
            if target is not None and target != owner:
                thing = next(t for t in self.things if t.key == owner)
                thing.add_parent(target, False)
                continue
            if spec is None:
                spec = infer_field(phrase)
            if spec is not None and all(existing.name != spec.name for existing in specs):
                specs.append(spec)
        return specs[:20]


_FIELD_FILLERS = (
    lx.DETERMINERS
    | lx.AUXILIARIES
    | lx.PRONOUNS
    | lx.ADVERBS
    | lx.CLAUSE_WORDS
    | frozenset(
        {
            "record",
            "records",
            "store",
            "stores",
            "keep",
            "keeps",
            "track",
            "tracks",
            "hold",
            "holds",
            "it",
            "its",
            "each",
            "every",
            "one",
            "of",
            "the",
            "for",
            "to",
            "in",
            "on",
            "at",
            "by",
            "from",
            "about",
            "who",
            "when",
            "contain",
            "contains",
            "include",
            "includes",
            "just",
            "some",
            "information",
            "info",
            "details",
            "data",
        }
    )
)
_DATE_WORDS = frozenset({"date", "day", "deadline", "birthday", "due"})
_TIME_WORDS = frozenset({"time", "timestamp", "moment", "when"})
_MONEY_WORDS = frozenset(
    {
        "price",
        "cost",
        "fee",
        "fine",
        "amount",
        "total",
        "balance",
        "budget",
        "salary",
        "payment",
        "charge",
        "wage",
        "tax",
        "discount",
        "revenue",
        "income",
        "expense",
        "spend",
        "value",
    }
)
_COUNT_WORDS = frozenset(
    {
        "count",
        "quantity",
        "age",
        "year",
        "minute",
        "hour",
        "second",
        "capacity",
        "seat",
        "serving",
        "position",
        "rank",
        "level",
        "mileage",
        "number",
        "views",
        "visits",
        "click",
    }
)
_TEXT_WORDS = frozenset(
    {
        "note",
        "notes",
        "description",
        "body",
        "content",
        "text",
        "instruction",
        "instructions",
        "bio",
        "comment",
        "summary",
        "message",
        "details",
    }
)
_FLAG_WORDS = frozenset(
    {
        "active",
        "enabled",
        "done",
        "paid",
        "available",
        "verified",
        "public",
        "archived",
        "flag",
        "completed",
        "approved",
    }
)
_UNIQUE_WORDS = frozenset({"alias", "slug", "code", "isbn", "sku", "serial", "plate", "username", "handle", "vin"})


def infer_field(phrase: str) -> FieldSpec | None:
    """A field for a phrase nothing else describes, its type read from its last word."""
    name = re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")[:60]
    if not name or not name[0].isalpha() or name in ("id", "created_at", "updated_at"):
        return None
    last = name.rsplit("_", 1)[-1]
    description = clip(phrase[:1].upper() + phrase[1:], 300)
    if last in ("rating", "stars", "star"):
        return FieldSpec(name, "integer", False, False, f"{description}, from 1 to 5")
    if last in _DATE_WORDS:
        return FieldSpec(name if last != "due" else name + "_date", "date", False, False, description)
    if last in _TIME_WORDS or name.endswith("_at"):
        return FieldSpec(name if name.endswith("_at") else name + "_at", "datetime", False, False, description)
    if last in _MONEY_WORDS:
        return FieldSpec(name, "decimal", False, False, description)
    if last in _COUNT_WORDS or name.startswith("number_of"):
        return FieldSpec(name, "integer", False, False, description)
    if last == "email":
        return FieldSpec(name, "email", False, False, description)
    if last in ("url", "link", "website", "homepage"):
        return FieldSpec(name, "url", False, False, description)
    if last in ("photo", "image", "picture", "avatar"):
        return FieldSpec(name + "_url", "url", False, False, description)
    if last in _TEXT_WORDS:
        return FieldSpec(name, "text", False, False, description)
    if last in _FLAG_WORDS or name.startswith(("is_", "has_")):
        return FieldSpec(name, "boolean", False, False, description)
    return FieldSpec(name, "string", False, last in _UNIQUE_WORDS, description)


# --- entity templates -------------------------------------------------------------------------------


def _field(spec: FieldSpec) -> FieldTemplate:
    return FieldTemplate(spec.name, spec.type, spec.description, spec.required, spec.unique, spec.values)


def action_fields(actions: list[str], existing: set[str]) -> list[FieldTemplate]:
    """A timestamp for each action that has none yet: pay -> paid_at."""
    fields = []
    for verb in actions:
        names = stamp_names(verb)
        if names and not any(name in existing for name in names):
            participle = PARTICIPLES[verb]
            name = f"{participle}_at"
            fields.append(FieldTemplate(name, "datetime", f"When it was {participle.replace('_', ' ')}", False))
            existing.add(name)
    return fields


def primary(model: Model) -> str | None:
    """The thing the application is mostly about: the first named thing that belongs to nothing."""
    roots = [thing for thing in model.things if not thing.derived and not thing.parents]
    chosen = roots[0] if roots else (model.things[0] if model.things else None)
    return chosen.key if chosen is not None else None


def templates(model: Model) -> tuple[list[EntityTemplate], dict[str, EntityTemplate]]:
    """Entity templates of the things the catalogue does not know, and the catalogue's own
    templates with what the description adds to them (keyed by catalogue template name)."""
    made: list[EntityTemplate] = []
    overrides: dict[str, EntityTemplate] = {}
    main = primary(model)
    for thing in model.things:
        name = model.names[thing.key]
        attributes = list(thing.attributes) + model.fields.get(thing.key, [])
        if thing.key == main:
            attributes += model.product_attributes
        parents: list[ParentTemplate] = []
        nested = False
        for key, structural in thing.parents:
            target = model.names.get(key)
            if target is None:
                continue
            nest = structural and not nested
            nested = nested or nest
            parents.append(
                ParentTemplate(
                    target,
                    naming.foreign_key(target),
                    required=structural,
                    nest=nest,
                    description=f"The {naming.words(target)} it belongs to",
                )
            )
        if thing.by_user:
            parents.append(ParentTemplate("User", "user_id", description="Who did it"))
        if thing.template is not None:
            base = TEMPLATES[thing.template]
            have = {f.name for f in base.fields} | {p.via or naming.foreign_key(p.target) for p in base.parents}
            extra = [_field(spec) for spec in attributes if spec.name not in have]
            extra += action_fields(thing.actions, have | {f.name for f in extra})
            overrides[thing.template] = replace(
                base,
                fields=base.fields + tuple(extra),
                # The catalogue's own nesting stays; a relation the text adds is one more parent.
                parents=base.parents + tuple(replace(p, nest=False) for p in parents if p.target != name),
                actions=tuple(dict.fromkeys(base.actions + tuple(thing.actions))),
            )
            continue
        specs = list(thing.spec.fields) if thing.spec is not None else [_NAME_FIELD, _NOTES_FIELD]
        fields = [_field(spec) for spec in specs]
        have = {f.name for f in fields} | {p.via or "" for p in parents}
        for spec in attributes:
            if spec.name not in have:
                fields.append(_field(spec))
                have.add(spec.name)
        fields += action_fields(thing.actions, have)
        description = (
            thing.spec.description
            if thing.spec is not None
            else (
                f"{naming.article(thing.key).capitalize()} the description names; it records what the answers and the "
                "fields below say."
            )
        )
        made.append(
            EntityTemplate(
                name,
                naming.collection(name),
                description,
                tuple(fields[:50]),
                tuple(parents),
                aliases=tuple(dict.fromkeys((thing.key, naming.plural_phrase(thing.key), naming.words(name)))),
                domain=True,
                soft_delete=True,
                actions=tuple(thing.actions),
            )
        )
    return made, overrides

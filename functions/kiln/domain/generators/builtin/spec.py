"""Writing the specification: the plan the description, answers and feedback ask for, and the draft.

`write_spec` reads the description for the things it names (kiln.domain.generators.builtin.model)
and for the catalogue's keywords (modules of specification: sign-in, teams, boards, reports...),
applies the answers to the clarifying questions, builds a draft, then takes each piece of
review feedback in turn and records what it changed.

The same input always gives the same output: no randomness, no clock, and every loop that
produces output walks a catalogue or a list in its fixed order, never a set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from kiln.domain.generation import (
    FEEDBACK_MAX,
    AnswerValue,
    GenerationFailed,
    ProjectBrief,
    QuestionType,
    SpecContent,
    SpecRequest,
)
from kiln.domain.generators import naming
from kiln.domain.generators.builtin.behaviour import PARTICIPLES, bounds
from kiln.domain.generators.builtin.catalogue import (
    ENTITIES,
    GOVERNED,
    MAIN_ENTITIES,
    MODULE_BY_KEY,
    MODULES,
    TEMPLATES,
    TOPIC_BY_KEY,
    TOPICS,
    EntityTemplate,
    Module,
    Option,
    Topic,
)
from kiln.domain.generators.builtin.model import FIELDS_PREFIX, Model, primary, read
from kiln.domain.generators.builtin.model import templates as model_templates
from kiln.domain.generators.builtin.nouns import Reading
from kiln.domain.generators.builtin.text import Blanks, Text, capital, clip, dedupe, norm, removal_targets

Route = tuple[str, str, str, "str | None"]

# --- the main noun, for projects no catalogue entry matches ---------------------------------

_NOUN_VERBS = frozenset(
    {
        "track",
        "tracks",
        "tracking",
        "manage",
        "manages",
        "managing",
        "organize",
        "organise",
        "organizing",
        "organising",
        "catalog",
        "catalogue",
        "collect",
        "collecting",
        "log",
        "logging",
        "record",
        "recording",
        "share",
        "sharing",
        "sell",
        "selling",
        "rent",
        "renting",
        "book",
        "booking",
        "plan",
        "planning",
        "monitor",
        "monitoring",
        "browse",
        "compare",
        "rate",
        "review",
        "reviewing",
        "find",
        "discover",
        "swap",
        "trade",
        "lend",
        "borrow",
        "keep",
        "keeping",
        "list",
        "listing",
        "store",
        "storing",
    }
)
_NOUN_SUFFIXES = frozenset(
    {
        "tracker",
        "manager",
        "catalog",
        "catalogue",
        "log",
        "library",
        "directory",
        "planner",
        "journal",
        "registry",
        "marketplace",
        "organizer",
        "organiser",
        "finder",
        "exchange",
        "collection",
        "diary",
        "logbook",
    }
)
_NOT_NOUNS = frozenset(
    {
        "a",
        "an",
        "the",
        "my",
        "our",
        "their",
        "your",
        "his",
        "her",
        "its",
        "all",
        "of",
        "and",
        "or",
        "every",
        "each",
        "new",
        "own",
        "some",
        "many",
        "various",
        "different",
        "simple",
        "small",
        "local",
        "online",
        "shared",
        "daily",
        "personal",
        "favorite",
        "favourite",
        "app",
        "application",
        "tool",
        "platform",
        "system",
        "web",
        "website",
        "site",
        "mobile",
        "data",
        "thing",
        "things",
        "stuff",
        "everything",
        "time",
        "way",
        "ways",
        "people",
        "user",
        "users",
        "team",
        "teams",
        "it",
        "them",
        "this",
        "that",
        "what",
        "how",
        "when",
        "where",
        "which",
        "who",
        "to",
        "for",
        "with",
        "in",
        "on",
        "at",
        "from",
        "by",
        "is",
        "are",
        "be",
        "can",
        "will",
        "track",
        "manage",
        "easy",
        "help",
        "helps",
        "lets",
        "allows",
        "other",
        "more",
        "most",
        "any",
        "upcoming",
        "current",
        "information",
        "info",
        "details",
        "list",
        "lists",
        "service",
        "services",
        "project",
        "kiln",
        "tracker",
        "manager",
        "better",
        "quick",
        "quickly",
        "free",
        "best",
        "good",
        "great",
        "just",
        "also",
        "very",
        "so",
    }
)


def _main_noun(name: str, description: str) -> str:
    """The thing the project is about, singular and lower case ("recipe"), or "item"."""

    def ok(word: str) -> bool:
        return 3 <= len(word) <= 30 and word.isascii() and word.isalpha() and word not in _NOT_NOUNS

    text = re.findall(r"[a-z]+", description[:2_000].lower())
    for at, word in enumerate(text[:-1]):
        if word in _NOUN_VERBS:
            follow = [
                w
                for w in text[at + 1 : at + 5]
                if w
                not in {
                    "my",
                    "our",
                    "the",
                    "their",
                    "your",
                    "all",
                    "of",
                    "a",
                    "an",
                    "every",
                    "personal",
                    "favorite",
                    "favourite",
                    "own",
                    "new",
                }
            ]
            if follow and ok(follow[0]):
                return naming.singular(follow[0])
    for words in (re.findall(r"[a-z]+", name.lower()), text):
        for at, word in enumerate(words[1:], start=1):
            if word in _NOUN_SUFFIXES and ok(words[at - 1]):
                # "bird watching log" is about birds, not about watchings.
                if words[at - 1].endswith("ing") and at > 1 and ok(words[at - 2]):
                    return naming.singular(words[at - 2])
                return naming.singular(words[at - 1])
    for word in re.findall(r"[a-z]+", name.lower()):
        if ok(word):
            return naming.singular(word)
    return "item"


def _generic_entity(noun: str) -> EntityTemplate:
    name = noun.capitalize()
    if not re.fullmatch(r"[A-Z][a-z]{2,29}", name) or name in TEMPLATES:
        name, noun = "Item", "item"
    base = TEMPLATES["Item"]
    return EntityTemplate(
        name,
        naming.plural(noun),
        f"A {noun} kept in the application: the main thing it keeps track of.",
        base.fields,
        base.parents,
        (noun,),
        domain=True,
        soft_delete=True,
    )


# --- the plan: what description, answers and feedback ask for -------------------------------


@dataclass
class _Plan:
    title: str
    description: str
    generic: EntityTemplate
    model: Model
    active: set[str] = field(default_factory=set)  # module keys (membership only; never iterated)
    suppressed: set[str] = field(default_factory=set)  # switched off by feedback
    removed: set[str] = field(default_factory=set)  # entity names removed by description or feedback
    decisions: list[str] = field(default_factory=list)
    late_decisions: list[str] = field(default_factory=list)  # from feedback, after the module decisions
    # Criteria from feedback: (feature module key, text, fallback feature name, fallback summary).
    criteria: list[tuple[str, str, str, str]] = field(default_factory=list)
    features: list[tuple[str, str, list[str]]] = field(default_factory=list)  # features from unmatched feedback

    def switch_on(self, keys: tuple[str, ...], *, restore: bool) -> None:
        """Switch modules on; `restore` also brings back what earlier feedback removed."""
        pending = list(keys)
        while pending:
            key = pending.pop(0)
            module = MODULE_BY_KEY[key]
            if restore:
                self.suppressed.discard(key)
                for name in module.entities:
                    self.removed.discard(name)
                for other in module.excludes:
                    if other in self.active and not MODULE_BY_KEY[other].protected:
                        self.active.discard(other)
                        self.suppressed.add(other)
            elif key in self.suppressed:
                continue
            if key not in self.active:
                self.active.add(key)
                pending += list(module.implies)


def scan(brief: ProjectBrief, extra: tuple[str, ...] = ()) -> tuple[Text, set[str], Reading]:
    """The description as text, the modules its keywords switch on (questions decide the others)
    and the things it names.

    Keywords are matched on the description with the user's own things and ambiguous verbs
    blanked out, so "cooks post recipes" switches no blog on and "purchase orders" no shop.
    """
    reading = read(brief.description)
    text = Text(brief.name, brief.description, *extra)
    own = {word for thing in reading.things if thing.template is None for word in thing.key.split()}
    name = " ".join("|" if naming.singular(word.lower()) in own else word for word in brief.name.split())
    keywords = Text(name, reading.masked_text, *extra)
    found = {
        module.key
        for module in MODULES
        if module.key not in GOVERNED and keywords.any(module.keywords + module.description_only)
    }
    return text, found, reading


def settled(topic: Topic, text: Text) -> tuple[Option, ...]:
    """The options the description already chooses: any for multi_choice, exactly one otherwise."""
    chosen = tuple(option for option in topic.options if option.settles and text.any(option.settles))
    if topic.type == QuestionType.MULTI_CHOICE:
        return chosen
    return chosen if len(chosen) == 1 else ()


def triggered(topic: Topic, text: Text, found: set[str]) -> bool:
    return topic.always or text.any(topic.asked_when) or any(key in found for key in topic.asked_with)


def _chosen(topic: Topic, answer: AnswerValue) -> tuple[Option, ...] | None:
    """The options an answer picks, or None when it names none of them (then it is taken as text)."""
    if topic.type == QuestionType.BOOLEAN:
        if isinstance(answer, str):
            answer = {"yes": True, "true": True, "no": False, "false": False}.get(answer.strip().lower(), answer)
        if isinstance(answer, bool):
            return (topic.options[0] if answer else topic.options[1],)
        return None
    values = answer if isinstance(answer, list) else [answer]
    labels = {option.label.lower(): option for option in topic.options}
    picked = [labels[v.strip().lower()] for v in values if isinstance(v, str) and v.strip().lower() in labels]
    if not picked:
        return None
    return tuple(option for option in topic.options if option in picked)


def _answer_text(answer: AnswerValue) -> str:
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, list):
        return ", ".join(str(v) for v in answer) or "none"
    return str(answer)


def _plan(request: SpecRequest) -> _Plan:
    brief = request.brief
    answers = request.answers or {}
    asked = {question.id: question for question in request.questions}
    # Free-text answers count as description: "we also need invoices" switches invoicing on.
    free_text = tuple(
        str(value)
        for key, value in answers.items()
        if isinstance(value, str)
        and (key not in TOPIC_BY_KEY or TOPIC_BY_KEY[key].type == QuestionType.TEXT)
        and not key.startswith(FIELDS_PREFIX)
    )
    text, found, reading = scan(brief, free_text)
    title = clip(brief.name, 200) or "Untitled project"
    model = Model.from_reading(reading)
    model.apply_answers(asked, answers)
    plan = _Plan(title, brief.description, _generic_entity(_main_noun(brief.name, brief.description)), model)
    plan.removed.update(model.dropped)
    for phrase in text.negated:  # "without time tracking": out, whatever else mentions it
        plan.removed.update(name for name in removal_targets()[0][phrase][0] if name != "User")
    plan.switch_on(("core", "permissions"), restore=False)
    plan.switch_on(tuple(module.key for module in MODULES if module.key in found), restore=False)

    lines: dict[str, str] = {}  # question id -> decision, to keep the order of the questions
    for topic in TOPICS:
        if topic.type == QuestionType.TEXT:
            if topic.id in answers:
                lines[topic.id] = f'{topic.label} (from the answers): "{clip(_answer_text(answers[topic.id]), 420)}"'
            elif topic.id in asked or triggered(topic, text, found):
                lines[topic.id] = f"Assumption: {topic.label.lower()}: none beyond the description and the answers."
            continue
        options: tuple[Option, ...]
        if topic.id in answers:
            picked = _chosen(topic, answers[topic.id])
            options = picked if picked is not None else settled(topic, Text(_answer_text(answers[topic.id])))
            if picked is None:  # an answer in its own words: take what it mentions
                lines[topic.id] = f'{topic.label}: "{clip(_answer_text(answers[topic.id]), 400)}".'
            source = "answer"
        elif options := settled(topic, text):
            source = "description"
        elif topic.id in asked or triggered(topic, text, found):
            options = tuple(topic.options[i] for i in topic.default)
            source = "assumption"
        else:
            continue
        for option in options:
            plan.switch_on(option.modules, restore=source == "answer")
        if topic.id in lines:
            continue
        chosen = "; ".join(option.label for option in options)
        if source == "answer":
            lines[topic.id] = f"{topic.label}: {chosen or 'none'}."
        elif source == "description":
            lines[topic.id] = f"{topic.label}: {chosen} (as the description says)."
        else:
            note = "the question was not answered" if topic.id in asked else "not asked"
            lines[topic.id] = f"Assumption: {topic.label}: {chosen or 'none'} ({note})."
    if not any(MODULE_BY_KEY[key].role for key in plan.active):
        plan.switch_on(("role_admin", "role_member"), restore=False)

    # Decisions follow the order the questions were asked in, then the catalogue's.
    for question in request.questions:
        if question.id in lines:
            plan.decisions.append(lines.pop(question.id))
        elif question.id in answers:
            answer = clip(_answer_text(answers[question.id]), 250)
            plan.decisions.append(f'{clip(question.question, 200)} Answer: "{answer}".')
        else:
            plan.decisions.append(
                f'Assumption: no preference given for "{clip(question.question, 300)}"; the '
                f"draft keeps the simplest option."
            )
    plan.decisions += [lines[topic.id] for topic in TOPICS if topic.id in lines]
    plan.decisions += model.notes
    for key in sorted(k for k in answers if k not in asked and k not in TOPIC_BY_KEY):
        plan.decisions.append(f'{clip(key, 64)}: "{clip(_answer_text(answers[key]), 400)}".')
    return plan


# --- building the specification ---------------------------------------------------------------


@dataclass
class _Draft:
    entities: list[dict[str, Any]]
    routes: list[Route]
    features: list[tuple[str, str, list[str]]]
    users: list[tuple[str, str]]
    decisions: list[str]
    non_functional: list[str]


def _closure(plan: _Plan) -> set[str]:
    active = set()
    pending = [module.key for module in MODULES if module.key in plan.active]
    while pending:
        key = pending.pop(0)
        if key in active or (key in plan.suppressed and not MODULE_BY_KEY[key].protected):
            continue
        active.add(key)
        pending += list(MODULE_BY_KEY[key].implies)
    return active


def _satisfied(requires: tuple[str, ...], present: set[str], active: set[str]) -> bool:
    return all((name in present) if name[:1].isupper() else (name in active) for name in requires)


def _head_tail(items: list, limit: int) -> list:
    """At most `limit` items: the first half and the newest half."""
    if len(items) <= limit:
        return items
    return items[: limit // 2] + items[len(items) - (limit - limit // 2) :]


def _build(plan: _Plan) -> _Draft:
    active = _closure(plan)
    generic = plan.generic
    made, overrides = model_templates(plan.model)
    # Catalogue entities the description names in its own word keep that word: an Event the
    # user calls an appointment is an Appointment, with the Event's fields.
    rename: dict[str, str] = {"Item": generic.name}
    for thing in plan.model.things:
        if thing.template is not None and plan.model.names[thing.key] != thing.template:
            rename[thing.template] = plan.model.names[thing.key]

    def real(name: str) -> str:
        return rename.get(name, name)

    templates: dict[str, EntityTemplate] = {}
    for template in ENTITIES:
        template = overrides.get(template.name, template)
        if template.name == "Item":
            templates[generic.name] = generic
        elif real(template.name) != template.name:
            final = real(template.name)
            templates[final] = replace(
                template, name=final, plural=naming.collection(final), aliases=template.aliases + (naming.words(final),)
            )
        else:
            templates[template.name] = template
    for template in made:
        templates[template.name] = template
    order = ["User"] + [template.name for template in made] + [real(t.name) for t in ENTITIES if t.name != "User"]
    order = list(dict.fromkeys(order))

    wanted = {real(name) for module in MODULES if module.key in active for name in module.entities}
    wanted |= {plan.model.names[thing.key] for thing in plan.model.things}
    wanted -= {real(name) for name in plan.removed}
    wanted.add("User")
    if not any(templates[name].domain for name in wanted):
        active.add("item")
        wanted.add(generic.name)
    present_list = [name for name in order if name in wanted]
    while True:  # drop entities whose indispensable parent is gone (Column without Board)
        keep = [
            name
            for name in present_list
            if not templates[name].needs_any or any(real(n) in present_list for n in templates[name].needs_any)
        ]
        if len(keep) == len(present_list):
            break
        present_list = keep
    present_list = present_list[:40]
    present = set(present_list)

    # Placeholders for template texts.
    def first(candidates: Iterable[str]) -> str | None:
        return next((real(n) for n in candidates if real(n) in present), None)

    made_names = [template.name for template in made if template.name in present]
    lead = plan.model.names.get(primary(plan.model) or "")
    main = (lead if lead in present else None) or first(MAIN_ENTITIES) or generic.name
    blanks = Blanks(
        item=naming.words(generic.name),
        items=generic.plural.replace("-", " "),
        main_item=naming.words(main),
        main_items=templates[main].plural.replace("-", " "),
        scope=naming.words(first(("Project", "Team", "Organization")) or "workspace"),
    )
    for key, holder in (("comment_subject", "Comment"), ("attachment_subject", "Attachment")):
        subject = first(p.target for p in templates[holder].parents if p.group == "subject")
        blanks[key] = naming.words(subject) if subject else "item"
    blanks["tag_target"] = naming.words(first(templates["Tag"].links) or main)

    def fill(text: str) -> str:
        return text.format_map(blanks)

    enum_values: dict[str, list[str]] = {}
    for module in MODULES:
        if module.key in active:
            for key, value in module.enum_values:
                if value not in enum_values.setdefault(key, []):
                    enum_values[key].append(value)
    soft = (
        ("deleted_at", "When it was moved to the trash")
        if "retention_trash" in active
        else (("archived_at", "When it was archived") if "retention_archive" in active else None)
    )

    entities: list[dict[str, Any]] = []
    nests: dict[str, str] = {}
    for name in present_list:
        template = templates[name]
        fields: list[dict[str, Any]] = [
            dict(name="id", type="uuid", required=True, unique=True, description="Primary key", values=None)
        ]
        for spec in template.fields + tuple(
            f for m in MODULES if m.key in active for e, f in m.fields if real(e) == name
        ):
            if any(real(n) in present for n in spec.unless):
                continue
            values = None
            if spec.values is not None:
                values = list(spec.values)
                if values[0].startswith("@"):
                    values = enum_values.get(values[0][1:]) or values[1:]
            fields.append(
                dict(
                    name=spec.name,
                    type=spec.type,
                    required=spec.required,
                    unique=spec.unique,
                    description=spec.description,
                    values=values,
                )
            )
        relations: list[dict[str, Any]] = []
        groups: set[str] = set()
        for parent in template.parents:
            target = real(parent.target)
            if target not in present or (parent.group and parent.group in groups):
                continue
            if parent.group:
                groups.add(parent.group)
            via = parent.via or f"{naming.snake(target)}_id"
            fields.append(
                dict(
                    name=via,
                    type="uuid",
                    required=parent.required,
                    unique=parent.unique,
                    description=parent.description or f"The {naming.words(target)} it belongs to",
                    values=None,
                )
            )
            relations.append(dict(kind="belongs_to", target=target, via=via))
            if parent.nest and name not in nests:
                nests[name] = target
        if soft and template.soft_delete:
            fields.append(
                dict(name=soft[0], type="datetime", required=False, unique=False, description=soft[1], values=None)
            )
        fields.append(
            dict(
                name="created_at",
                type="datetime",
                required=True,
                unique=False,
                description="When it was created",
                values=None,
            )
        )
        if not template.immutable:
            fields.append(
                dict(
                    name="updated_at",
                    type="datetime",
                    required=True,
                    unique=False,
                    description="When it last changed",
                    values=None,
                )
            )
        unique_fields: dict[str, dict[str, Any]] = {}
        for spec_field in fields:
            unique_fields.setdefault(spec_field["name"], spec_field)
        fields = list(unique_fields.values())[:60]
        entities.append(
            dict(name=name, description=clip(template.description, 500), fields=fields, relations=relations)
        )
    by_name = {entity["name"]: entity for entity in entities}
    for entity in entities:  # the other side of each relation
        for relation in list(entity["relations"]):
            if relation["kind"] == "belongs_to":
                back = dict(kind="has_many", target=entity["name"], via=None)
                if back not in by_name[relation["target"]]["relations"]:
                    by_name[relation["target"]]["relations"].append(back)
        for partner in templates[entity["name"]].links:
            partner = real(partner)
            if partner in present:
                entity["relations"].append(dict(kind="many_to_many", target=partner, via=None))
                by_name[partner]["relations"].append(dict(kind="many_to_many", target=entity["name"], via=None))
    for entity in entities:
        entity["relations"] = entity["relations"][:30]
    entities_by_name = by_name

    routes: list[Route] = []
    for name in present_list:
        routes += _crud(
            templates[name], templates.get(nests.get(name, "")), soft is not None and "retention_trash" in active
        )
    for name in present_list:
        routes += _relation_routes(templates[name], nests.get(name), templates, present) if name in made_names else []
        routes += _action_routes(templates[name])
    renamed = {old: templates[new] for old, new in rename.items() if new in templates and old in TEMPLATES}
    for module in MODULES:
        if module.key in active:
            for route in module.routes:
                if _satisfied(route.requires, present, active) and (
                    route.entity is None or real(route.entity) in present
                ):
                    routes.append(
                        (
                            route.method,
                            _renamed_path(route.path, renamed),
                            route.summary,
                            real(route.entity) if route.entity else None,
                        )
                    )
    if "Tag" in present:
        for partner in templates["Tag"].links:
            if real(partner) in present:
                linked = templates[real(partner)]
                routes.append(
                    (
                        "PUT",
                        f"/{linked.plural}/{{{naming.param(linked.name)}}}/tags",
                        f"Replace the tags of {naming.article(naming.words(linked.name))}",
                        "Tag",
                    )
                )
    distinct: dict[tuple[str, str], Route] = {}
    for one in routes:
        distinct.setdefault((one[0], one[1]), one)
    routes = list(distinct.values())[:300]

    features: list[tuple[str, str, list[str]]] = []
    keys: dict[str, int] = {}
    for module in MODULES:
        template_feature = module.feature
        if module.key not in active or template_feature is None:
            continue
        if template_feature.anchor is not None and real(template_feature.anchor) not in present:
            continue
        criteria = [fill(c.text) for c in template_feature.criteria if _satisfied(c.requires, present, active)]
        for other in MODULES:
            if other.key in active:
                criteria += [
                    fill(c.text)
                    for key, c in other.criteria
                    if key == module.key and _satisfied(c.requires, present, active)
                ]
        keys[module.key] = len(features)
        # Six criteria at most from the catalogue; review feedback may add more below.
        features.append((capital(fill(template_feature.name)), fill(template_feature.summary), dedupe(criteria)[:6]))
    for name in made_names:
        feature = _thing_feature(templates[name], entities_by_name[name], routes)
        if feature[0] not in {existing[0] for existing in features}:
            features.append(feature)
    names = {feature[0] for feature in features}
    extra: dict[str, tuple[str, str, list[str]]] = {}
    for name, summary, criteria in plan.features:
        extra[name] = (name, summary, list(criteria))
    for key, text, name, summary in plan.criteria:
        if key in keys:
            features[keys[key]][2].append(text)
        else:
            extra.setdefault(name, (name, summary, []))[2].append(text)
    for name, summary, criteria in extra.values():
        unique_name, number = name, 2
        while unique_name in names:
            unique_name = clip(f"{name} ({number})", 120)
            number += 1
        names.add(unique_name)
        features.append((unique_name, summary, criteria))
    features = [
        (name, summary, dedupe([clip(c, 500) for c in criteria]) or [clip(summary, 500)])
        for name, summary, criteria in features
    ]
    features = [(name, summary, _head_tail(criteria, 20)) for name, summary, criteria in features]
    if len(features) > 40:
        folded = [c for _, _, criteria in features[39:] for c in criteria[:1]]
        features = features[:39] + [
            ("Further requirements", "Requests that did not fit a feature of their own.", _head_tail(folded, 20))
        ]

    users = [module.role for module in MODULES if module.key in active and module.role][:20] or [
        ("Member", "Does the day-to-day work: creates, edits and completes items.")
    ]
    decisions = dedupe(
        plan.decisions + [fill(d) for m in MODULES if m.key in active for d in m.decisions] + plan.late_decisions
    )
    non_functional = dedupe([fill(n) for m in MODULES if m.key in active for n in m.non_functional])
    return _Draft(
        entities,
        routes,
        features,
        users,
        [clip(d, 500) for d in _head_tail(decisions, 50)],
        [clip(n, 500) for n in _head_tail(non_functional, 30)],
    )


def _crud(template: EntityTemplate, parent: EntityTemplate | None, restorable: bool) -> list[Route]:
    if template.crud == "none":
        return []
    one, many, name = naming.words(template.name), template.plural.replace("-", " "), template.name
    item = f"/{template.plural}/{{{naming.param(name)}}}"
    if parent is not None:
        collection = f"/{parent.plural}/{{{naming.param(parent.name)}}}/{template.plural}"
        owner = naming.article(naming.words(parent.name))
        of, into = f" of {owner}", f" in {owner}"
    else:
        collection, of, into = f"/{template.plural}", "", ""
    routes: list[Route] = [("GET", collection, f"List {many}{of}", name)]
    if template.crud in ("full", "create_read"):
        routes.append(("POST", collection, f"Create {naming.article(one)}{into}", name))
    routes.append(("GET", item, f"Get {naming.article(one)}", name))
    if template.crud == "full":
        routes.append(("PATCH", item, f"Update {naming.article(one)}", name))
        gone = " (moves it to the trash)" if restorable and template.soft_delete else ""
        routes.append(("DELETE", item, f"Delete {naming.article(one)}{gone}", name))
        if restorable and template.soft_delete:
            routes.append(("POST", f"{item}/restore", f"Restore {naming.article(one)} from the trash", name))
    return routes


# --- feedback --------------------------------------------------------------------------------

_FILLERS = frozenset(
    {
        "please",
        "can",
        "could",
        "would",
        "you",
        "we",
        "i",
        "it",
        "should",
        "also",
        "add",
        "make",
        "need",
        "needs",
        "want",
        "like",
        "to",
        "the",
        "a",
        "an",
        "there",
        "be",
        "lets",
        "let's",
        "kindly",
        "maybe",
        "and",
        "nice",
        "if",
        "is",
        "really",
        "think",
        "must",
        "have",
        "some",
    }
)


_TRAILING = frozenset(
    {
        "for",
        "with",
        "of",
        "in",
        "on",
        "at",
        "by",
        "from",
        "or",
        "but",
        "so",
        "that",
        "when",
        "new",
        "our",
        "my",
        "their",
        "your",
        "this",
        "these",
        "those",
        "which",
        "who",
    }
)


def _feedback_title(text: str, number: int) -> str:
    words = re.findall(r"[^\W_][\w'\u2019-]*", text[:600])
    start = 0
    while start < len(words) and words[start].lower() in _FILLERS:
        start += 1
    chosen = words[start : start + 8] or words[:8]
    while len(chosen) > 1 and (chosen[-1].lower() in _FILLERS or chosen[-1].lower() in _TRAILING):
        chosen = chosen[:-1]
    title = clip(capital(" ".join(chosen)), 70)
    return title or f"Review request {number}"


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text[:FEEDBACK_MAX])
    return [clip(part, 380) for part in parts if part.strip() and any(ch.isalnum() for ch in part)][:5]


def _take_feedback(plan: _Plan, feedback: str, number: int) -> list[str]:
    """Change the plan for one piece of feedback; returns notes on what was not done."""
    model = plan.model
    things = {norm(thing.key): thing.key for thing in model.things}
    things.update({norm(naming.words(model.names[thing.key])): thing.key for thing in model.things})
    text = Text(feedback, extra=frozenset(things))
    excerpt = clip(feedback, 200)
    notes: list[str] = []
    targets = removal_targets()[0]
    removed = []
    for phrase in text.negated:
        entities, modules = targets.get(phrase, ((), ()))
        if phrase in things and not entities:
            key = things[phrase]
            if model.name(key) is not None:
                plan.removed.add(model.names[key])
                model.drop(key)
        elif entities:
            for name in entities:
                if name == "User":
                    notes.append("Kept the User entity: every other part of the specification depends on accounts.")
                else:
                    plan.removed.add(name)
        else:
            for key in modules:
                if not MODULE_BY_KEY[key].protected:
                    plan.active.discard(key)
                    plan.suppressed.add(key)
        removed.append(phrase)
    if removed:
        plan.late_decisions.append(clip(f"Out of scope after review feedback {number}: {', '.join(removed)}.", 500))
    if _RENAMING.search(feedback):
        model.rename_from(feedback)
    elif not removed:
        # "Add warranties per vehicle", "we also track fuel costs": the things the request adds.
        for name in model.add_from(feedback, only_objects_of=_ADDING_VERBS):
            plan.removed.discard(name)

    matched = [module for module in MODULES if not module.protected and text.any(module.keywords)]
    before = _closure(plan)
    plan.switch_on(tuple(module.key for module in matched), restore=True)
    # The request's criterion goes to what it brought in; to something already there only when it is
    # not a removal ("remove comments, we use Slack" says nothing new about Slack).
    fresh = [module for module in matched if module.key not in before]
    home = next((key for module in fresh + ([] if removed else matched) for key in _homes(module)), None)
    title = _feedback_title(feedback, number)
    if home is not None:
        plan.criteria.append(
            (
                home,
                f'Given the review request "{excerpt}", when this feature is demonstrated, then '
                f"the request is visibly met.",
                title,
                f'Requested in review: "{excerpt}"',
            )
        )
    elif not removed:
        criteria = [
            f'Given the finished feature, when it is checked against the review request, then this holds: "{sentence}"'
            for sentence in _sentences(feedback)
        ]
        if len(criteria) < 2:
            criteria.append(
                f'Given the review request "{excerpt}", when the feature is demonstrated to the '
                f"reviewer, then they confirm it does what was asked."
            )
        plan.features.append((title, clip(f'Requested in review: "{clip(feedback, 3_500)}"', 4_000), criteria))
    return notes


def _homes(module: Module) -> list[str]:
    """The features a module's feedback criteria can go to, best first."""
    return ([module.key] if module.feature else []) + [key for key, _ in module.criteria]


def _diff(before: _Draft, after: _Draft) -> list[str]:
    changes: list[str] = []
    old = {e["name"]: e for e in before.entities}
    new = {e["name"]: e for e in after.entities}
    for name, entity in new.items():
        if name not in old:
            changes.append(f"Added entity {name} with fields " + ", ".join(f["name"] for f in entity["fields"]) + ".")
            continue
        was = {f["name"]: f for f in old[name]["fields"]}
        now = {f["name"]: f for f in entity["fields"]}
        added = [f for f in now if f not in was]
        gone = [f for f in was if f not in now]
        if added:
            changes.append(f"{name}: added fields {', '.join(added)}.")
        if gone:
            changes.append(f"{name}: removed fields {', '.join(gone)}.")
        for field_name, spec in now.items():
            if field_name in was and spec["values"] and spec["values"] != was[field_name]["values"]:
                changes.append(f"{name}.{field_name}: allowed values are now {', '.join(spec['values'])}.")
    changes += [f"Removed entity {name}." for name in old if name not in new]

    old_routes = {(r[0], r[1]) for r in before.routes}
    new_routes = {(r[0], r[1]) for r in after.routes}
    added_routes = [f"{r[0]} {r[1]}" for r in after.routes if (r[0], r[1]) not in old_routes]
    gone_routes = [f"{r[0]} {r[1]}" for r in before.routes if (r[0], r[1]) not in new_routes]
    if added_routes:
        changes.append("Added routes: " + ", ".join(added_routes) + ".")
    if gone_routes:
        changes.append("Removed routes: " + ", ".join(gone_routes) + ".")

    old_features = {f[0]: f for f in before.features}
    new_features = {f[0]: f for f in after.features}
    for name, feature in new_features.items():
        if name not in old_features:
            count = len(feature[2])
            changes.append(f'Added feature "{name}" with {count} acceptance criteri{"on" if count == 1 else "a"}.')
        else:
            for criterion in feature[2]:
                if criterion not in old_features[name][2]:
                    changes.append(f'Feature "{name}": added acceptance criterion: {criterion}')
    changes += [f'Removed feature "{name}".' for name in old_features if name not in new_features]

    for label, was_list, now_list in (
        ("role", before.users, after.users),
        ("decision", before.decisions, after.decisions),
        ("non-functional requirement", before.non_functional, after.non_functional),
    ):

        def show(item: str | tuple[str, str]) -> str:
            return item[0] if isinstance(item, tuple) else item

        changes += [f"Added {label}: {show(item)}" for item in now_list if item not in was_list]
        changes += [f"Removed {label}: {show(item)}" for item in was_list if item not in now_list]
    return changes


# --- the generator ------------------------------------------------------------------------------


def _overview(plan: _Plan, draft: _Draft) -> str:
    described = clip(plan.description, 2_500) or f"{plan.title}."
    scope = clip("This first draft covers " + ", ".join(name for name, _, _ in draft.features) + ".", 700)
    data = clip(
        f"It stores {len(draft.entities)} kinds of records ("
        + ", ".join(entity["name"] for entity in draft.entities)
        + f") and offers {len(draft.routes)} HTTP routes.",
        700,
    )
    return f"{described}\n\n{scope} {data}"


# --- routes and features of the things the description names -----------------------------------


def _relation_routes(
    template: EntityTemplate, nest: str | None, templates: dict[str, EntityTemplate], present: set[str]
) -> list[Route]:
    """A list route per belongs_to relation besides the nesting one: GET /links/{linkId}/clicks."""
    routes: list[Route] = []
    many = template.plural.replace("-", " ")
    for parent in template.parents:
        target = parent.target
        if target == nest or target not in present or target not in templates:
            continue
        if (parent.via or naming.foreign_key(target)) != naming.foreign_key(target):
            continue
        owner = templates[target]
        routes.append(
            (
                "GET",
                f"/{owner.plural}/{{{naming.param(owner.name)}}}/{template.plural}",
                f"List the {many} of {naming.article(naming.words(owner.name))}",
                template.name,
            )
        )
    return routes


def _action_routes(template: EntityTemplate) -> list[Route]:
    """POST /fines/{fineId}/pay for each action the description names."""
    item = f"/{template.plural}/{{{naming.param(template.name)}}}"
    one = naming.article(naming.words(template.name))
    routes: list[Route] = []
    for verb in template.actions:
        participle = PARTICIPLES.get(verb, verb).replace("_", " ")
        summary = f"{capital(verb)} {one}" if verb in ("start", "stop") else f"Mark {one} as {participle}"
        routes.append(("POST", f"{item}/{verb.replace(' ', '-')}", summary, template.name))
    return routes


def _renamed_path(path: str, renamed: dict[str, EntityTemplate]) -> str:
    """A catalogue route of an entity the user names differently: /events/{eventId} -> /appointments/{appointmentId}."""
    for old, template in renamed.items():
        before = TEMPLATES[old]
        path = re.sub(rf"(?<=/){re.escape(before.plural)}(?=/|$)", template.plural, path)
        path = path.replace("{" + naming.param(before.name) + "}", "{" + naming.param(template.name) + "}")
    return path


def _thing_feature(template: EntityTemplate, entity: dict[str, Any], routes: list[Route]) -> tuple[str, str, list[str]]:
    """A feature with acceptance criteria for a thing the description names, from its fields."""
    one, many = naming.words(template.name), template.plural.replace("-", " ")
    fields = [f for f in entity["fields"] if f["name"] not in ("id", "created_at", "updated_at")]
    required = [f["name"] for f in fields if f["required"] and f["type"] != "uuid"]
    criteria = [
        f"Given a signed-in person, when they create {naming.article(one)} with "
        + (", ".join(required[:4]) if required else "no fields")
        + ", then it is listed with those values "
        "and an id."
    ]
    for f in fields:
        if f["unique"]:
            criteria.append(
                f"Given {naming.article(one)} with the {f['name']} X, when another one is saved with the "
                f"{f['name']} X, then it is refused with 409 and nothing changes."
            )
            break
    for f in fields:
        limits = bounds(f["description"]) if f["type"] in ("integer", "decimal") else None
        if limits is not None:
            criteria.append(
                f"Given {naming.article(one)} whose {f['name']} is {limits[1] + 1}, when it is saved, "
                f"then it is refused with 400: {f['name']} goes from {limits[0]} to {limits[1]}."
            )
    for relation in entity["relations"]:
        if relation["kind"] == "belongs_to" and relation["target"] != "User":
            owner = naming.words(relation["target"])
            criteria.append(
                f"Given two {naming.plural_phrase(owner)}, when the {many} of one are listed, then only "
                f"its own {many} appear."
            )
            break
    for method, path, _summary, name in routes:
        if (
            name == template.name
            and method == "POST"
            and path.count("/") == 3
            and path.endswith(tuple("/" + verb.replace(" ", "-") for verb in template.actions))
        ):
            verb = path.rsplit("/", 1)[1]
            criteria.append(
                f"Given {naming.article(one)}, when {verb.replace('-', ' ')} is called on it ({method} "
                f"{path}), then the time it happened is recorded and shown."
            )
    criteria.append(
        f"Given {naming.article(one)} that does not exist, when someone asks for it, then the API answers 404."
    )
    summary = clip(
        f"{capital(template.description)} Kept as {many} with " + ", ".join(f["name"] for f in fields[:8]) + ".", 4_000
    )
    return capital(naming.plural_phrase(one)), summary, criteria[:6]


# --- the specification --------------------------------------------------------------------------

_RENAMING = re.compile(r"->|=>|→|\brename\b", re.IGNORECASE)
# Verbs whose objects, in review feedback, are things to add to the data model.
_ADDING_VERBS = frozenset({"add", "track", "record", "store", "keep", "log", "capture", "manage", "create"})


def write_spec(request: SpecRequest) -> SpecContent:
    plan = _plan(request)
    draft = _build(plan)
    responses: list[tuple[str, list[str]]] = []
    for number, raw in enumerate(request.feedback, start=1):
        feedback = str(raw).strip()[:FEEDBACK_MAX].strip()
        if not feedback:
            continue
        notes = _take_feedback(plan, feedback, number)
        after = _build(plan)
        changes = notes + _diff(draft, after)
        if not changes:
            changes = ["No further change: the specification already covered this request."]
        if len(changes) > 30:
            changes = changes[:29] + [f"... and {len(changes) - 29} smaller changes."]
        responses.append((feedback, [clip(change, 500) for change in changes]))
        draft = after
    content = {
        "title": plan.title,
        "overview": _overview(plan, draft),
        "users": [{"name": name, "description": description} for name, description in draft.users],
        "features": [
            {"name": name, "summary": clip(summary, 4_000), "acceptance": criteria}
            for name, summary, criteria in draft.features
        ],
        "entities": draft.entities,
        "routes": [
            {"method": method, "path": path, "summary": clip(summary, 500), "entity": entity}
            for method, path, summary, entity in draft.routes
        ],
        "decisions": draft.decisions,
        "non_functional": draft.non_functional,
        "feedback": [{"feedback": feedback, "changes": changes} for feedback, changes in responses[-50:]],
    }
    try:
        return SpecContent.model_validate(content)
    except ValidationError as exc:  # a catalogue bug, not bad input: report it like any generator failure
        raise GenerationFailed(
            f"the built-in generator produced an invalid specification: {exc}", "malformed_output"
        ) from exc

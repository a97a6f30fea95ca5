"""Reading a description for the things it names: a small, deterministic noun-phrase reader.

No model and no network: words are tagged from the lists in `lexicon` (determiners,
prepositions, verbs, adjectives...), words that can be a noun or a verb ("post", "book",
"order") are settled by their neighbours, and the runs of nouns that remain are the noun
phrases. Each phrase is read as a thing (a record the application keeps), an attribute of a
thing, the application itself, or nothing (a feature word, a vague noun). Relations come from
the words between phrases:

- "X per Y", "X of Y", "X for Y", "X in Y", "X sent to Y": X belongs to Y;
- "Y with X": X belongs to Y, or is a field of Y when X is an attribute ("with due dates");
- "Y's X": X belongs to Y; "book copies": copies belong to books;
- subject, verb, object: "cooks post recipes" (a recipe belongs to its cook), "members borrow
  copies" (a Loan links member and copy), "pay fines" (a fine is paid: paid_at and an action),
  "rate and review them" (a Review with a rating, of what "them" stood for).

Everything is walked in text order, so the same words always give the same reading.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kiln.domain.generators import naming
from kiln.domain.generators.builtin import lexicon as lx
from kiln.domain.generators.builtin.lexicon import FieldSpec

# Token kinds.
DET, PREP, CONJ, CLAUSE, PRON, AUX, ADV, ADJ, NUM = "det", "prep", "conj", "clause", "pron", "aux", "adv", "adj", "num"
NOUN, VERB, AMBIG, ING, ED, GERUND, COMMA, POSS = "noun", "verb", "ambig", "ing", "ed", "gerund", "comma", "poss"

MAX_THINGS = 16
_SEGMENTS = re.compile(r"[.;:!?()\[\]{}\n\r\"]+|\s[-\u2013\u2014]\s")  # dashes between words end a clause
_TOKENS = re.compile(r"[a-z0-9]+'s|[a-z0-9]+s'|[a-z0-9]+|,|&|/|\+")


@dataclass
class Token:
    text: str  # as written, lower case; compounds joined by spaces
    word: str  # singular form (nouns), the phrase (compounds)
    kind: str
    plural: bool = False
    verb: str | None = None  # the base verb, when the word can be one
    compound: bool = False
    past: bool = False  # a past participle: "orders sent to suppliers"
    masked: bool = False  # hidden from catalogue keywords: "a repair shop system" is no shop


@dataclass
class Thing:
    """Something the description names that the application keeps records of."""

    key: str  # singular lower-case phrase: "purchase order"
    template: str | None = None  # the catalogue entity it is, when it is one
    spec: lx.ThingSpec | None = None
    parents: list[tuple[str, bool]] = field(default_factory=list)  # (parent key, structural)
    attributes: list[FieldSpec] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # verbs of lexicon.ACTION_VERBS
    by_user: bool = False  # someone (a user) does it: belongs to the User who acted
    derived: bool = False  # made from a verb ("borrow" -> loan), not a noun of the text
    audience: int = 0  # mentions as the people the application is for
    mentions: int = 0
    order: int = 0

    def add_parent(self, key: str, structural: bool) -> None:
        if key == self.key:
            return
        for index, (existing, was) in enumerate(self.parents):
            if existing == key:
                self.parents[index] = (key, was or structural)
                return
        self.parents.append((key, structural))

    def add_attribute(self, spec: FieldSpec) -> None:
        if all(existing.name != spec.name for existing in self.attributes):
            self.attributes.append(spec)

    def add_action(self, verb: str) -> None:
        if verb not in self.actions:
            self.actions.append(verb)


@dataclass
class Reading:
    things: list[Thing]
    product_attributes: list[FieldSpec]  # attributes of the application's main thing ("a URL shortener")
    masked_text: str  # the text with the user's own things and ambiguous verbs blanked out
    objects: dict[str, list[str]] = field(default_factory=dict)  # verb -> keys of the things it acts on

    def get(self, key: str) -> Thing | None:
        return next((thing for thing in self.things if thing.key == key), None)


@dataclass(frozen=True)
class _Ref:
    kind: str  # thing | attr | user | product | action
    key: str = ""  # the thing; for an action, its verb
    attr: FieldSpec | None = None


_PRODUCT, _USER = _Ref("product"), _Ref("user")


def verb_base(word: str) -> str | None:
    """The base form of a verb form: borrows -> borrow, stopped -> stop, sharing -> share."""
    if word in lx.IRREGULAR_VERB_FORMS:
        return lx.IRREGULAR_VERB_FORMS[word]
    if word in lx.VERBS:
        return word
    candidates: list[str] = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    elif word.endswith("es"):
        candidates += [word[:-1], word[:-2]]
    elif word.endswith("s") and not word.endswith("ss"):
        candidates.append(word[:-1])
    elif word.endswith("ied"):
        candidates.append(word[:-3] + "y")
    elif word.endswith("ed"):
        candidates += [word[:-1], word[:-2], word[:-3]]
    elif word.endswith("ing") and len(word) > 5:
        candidates += [word[:-3], word[:-3] + "e", word[:-4]]
    return next((candidate for candidate in candidates if candidate in lx.VERBS), None)


# Nouns with an adjective's ending.
_NOT_ADJECTIVES = frozenset(
    {
        "table",
        "cable",
        "vegetable",
        "timetable",
        "deliverable",
        "variable",
        "receivable",
        "payable",
        "constable",
        "stable",
        "bible",
        "crucible",
        "syllable",
        "fable",
        "turntable",
    }
)


def _is_adjective(word: str) -> bool:
    if word in _NOT_ADJECTIVES:
        return False
    return word in lx.ADJECTIVES or (len(word) > 5 and word.endswith(("ful", "ous", "less", "able", "ible")))


class _Reader:
    def __init__(self, known: Mapping[str, str]) -> None:
        self.known = known  # catalogue phrases (singular) -> entity template name
        self.compounds = sorted(
            {*lx.COMPOUNDS, *(phrase for phrase in known if " " in phrase)},
            key=lambda phrase: (-len(phrase.split()), phrase),
        )
        self.things: dict[str, Thing] = {}
        self.product_attributes: list[FieldSpec] = []
        self.last_objects: list[_Ref] = []
        self.objects: dict[str, list[str]] = {}
        self.records: dict[str, str] = {}  # object key -> the record its verb made ("copies" -> loan)
        self.opening = True

    # --- tokens -----------------------------------------------------------------------------

    def tokens(self, segment: str) -> list[Token]:
        raw: list[Token] = []
        for text in _TOKENS.findall(segment):
            if text in {",", "&", "/", "+"}:
                raw.append(Token(text, text, COMMA if text == "," else CONJ))
                continue
            possessive = text.endswith(("'s", "s'"))
            word = text[:-2] if text.endswith("'s") else text[:-1] if text.endswith("s'") else text
            raw.append(self._lexical(word))
            if possessive and word not in lx.PRONOUNS and word not in {"let", "that", "what", "there", "here"}:
                raw.append(Token("'s", "'s", POSS))
        return self._merge_phrasal(self._merge_compounds(raw))

    @staticmethod
    def _merge_phrasal(tokens: list[Token]) -> list[Token]:
        """ "check in", "sign up": one verb, not a verb and a preposition."""
        merged: list[Token] = []
        for token in tokens:
            if (
                merged
                and token.kind == PREP
                and merged[-1].verb is not None
                and f"{merged[-1].verb} {token.text}" in lx.PHRASAL_VERBS
            ):
                last = merged.pop()
                merged.append(
                    Token(
                        f"{last.text} {token.text}",
                        f"{last.verb} {token.text}",
                        VERB,
                        False,
                        f"{last.verb} {token.text}",
                    )
                )
                continue
            merged.append(token)
        return merged

    def _lexical(self, word: str) -> Token:
        singular = naming.singular(word)
        plural = singular != word
        if word.isdigit():
            return Token(word, word, NUM)
        if word in lx.CLAUSE_WORDS:
            return Token(word, word, CLAUSE)
        for kind, words in (
            (DET, lx.DETERMINERS),
            (PREP, lx.PREPOSITIONS),
            (CONJ, lx.CONJUNCTIONS),
            (PRON, lx.PRONOUNS),
            (AUX, lx.AUXILIARIES),
            (ADV, lx.ADVERBS),
        ):
            if word in words:
                return Token(word, word, kind)
        nounish = singular in lx.THINGS or singular in lx.ATTRIBUTES or singular in self.known
        if _is_adjective(word) and not nounish:
            return Token(word, word, ADJ)
        base = verb_base(word)
        if base is not None and base != word and word.endswith("ing"):
            return Token(word, word if not nounish else singular, NOUN if nounish else ING, plural, base)
        if base is not None and (word.endswith("ed") or (word in lx.IRREGULAR_VERB_FORMS and word != base)):
            return Token(word, word, ED, False, base, past=True)
        if base is not None:
            ambiguous = base in lx.NOUN_VERBS or nounish
            return Token(word, singular if ambiguous else word, AMBIG if ambiguous else VERB, plural, base)
        return Token(word, singular, NOUN, plural)

    def _merge_compounds(self, tokens: list[Token]) -> list[Token]:
        merged: list[Token] = []
        at = 0
        while at < len(tokens):
            found = None
            for phrase in self.compounds:
                size = len(phrase.split())
                window = tokens[at : at + size]
                if (
                    len(window) == size
                    and all(t.kind not in (COMMA, POSS, CONJ, PREP, DET) for t in window)
                    and " ".join(t.word if t.kind != ED else t.text for t in window) == phrase
                ):
                    found = (phrase, window)
                    break
            if found is None:
                merged.append(tokens[at])
                at += 1
                continue
            phrase, window = found
            merged.append(Token(" ".join(t.text for t in window), phrase, NOUN, window[-1].plural, compound=True))
            at += len(window)
        return merged

    # --- settling nouns and verbs by their neighbours -----------------------------------------

    def settle(self, tokens: list[Token]) -> None:
        seen_verb = False
        for at, token in enumerate(tokens):
            before = next((t for t in reversed(tokens[:at]) if t.kind != ADV), None)
            after = tokens[at + 1] if at + 1 < len(tokens) else None
            nxt = after.kind if after else None
            prev = before.kind if before else None
            if token.kind == CLAUSE:
                seen_verb = False
            elif token.kind == AMBIG:
                token.kind = self._ambiguous(tokens, at, before, nxt, seen_verb)
            elif token.kind == ING:
                # "a system tracking shipments" acts on shipments; "a recipe sharing site" is a kind of site.
                acts = after is not None and after.kind in (NOUN, AMBIG) and after.plural
                if (
                    prev in (NOUN, ADJ, DET, AMBIG, GERUND)
                    and not acts
                    and nxt in (NOUN, AMBIG, None, COMMA, CONJ, PREP, CLAUSE)
                ):
                    token.kind = GERUND
                elif nxt in (DET, NOUN, AMBIG, ADJ, PRON):
                    token.kind = VERB
                else:
                    token.kind = GERUND
            elif token.kind == ED:
                if nxt in (NOUN, AMBIG) and not (prev == NOUN and not seen_verb):
                    token.kind = ADJ
                else:
                    token.kind = VERB
            if token.kind == VERB:
                seen_verb = True

    @staticmethod
    def _ambiguous(tokens: list[Token], at: int, before: Token | None, nxt: str | None, seen_verb: bool) -> str:
        token = tokens[at]
        prev = before.kind if before else None
        objectish = (DET, NOUN, AMBIG, ADJ, PRON, NUM)
        if prev in (DET, ADJ, POSS, NUM, VERB, GERUND, ED):
            return NOUN
        if prev == PREP:
            if before is not None and before.text == "to" and not token.plural and nxt in objectish:
                return VERB
            return NOUN
        if prev in (PRON, AUX):
            return VERB
        if prev == CLAUSE:
            return VERB if before is not None and before.text in {"who", "that", "which"} else NOUN
        if prev == CONJ:
            earlier = next((t for t in reversed(tokens[: at - 1]) if t.kind not in (ADV, COMMA)), None)
            if earlier is not None and earlier.kind == VERB:
                return VERB
            if seen_verb and not token.plural and nxt in (DET, PRON) + ((NOUN, AMBIG) if tokens[at + 1].plural else ()):
                return VERB
            return NOUN
        if prev == NOUN and before is not None:
            agrees = (before.plural and not token.plural) or (not before.plural and token.text.endswith("s"))
            index = tokens.index(before)
            # "... and buyers schedule viewings": a new clause may start after "and".
            fresh = not seen_verb or (index > 0 and tokens[index - 1].kind == CONJ)
            if fresh and agrees and nxt in objectish:
                return VERB
            return NOUN
        if prev in (None, COMMA) and nxt in (DET, PRON):
            return VERB
        if (
            prev is None
            and not token.plural
            and at + 2 < len(tokens)
            and tokens[at + 1].plural
            and tokens[at + 1].kind == NOUN
            and tokens[at + 2].kind not in (AUX, VERB, ED)
        ):
            return VERB  # "Log expenses with receipts": an imperative opening a clause
        return NOUN

    # --- noun phrases -----------------------------------------------------------------------------

    def thing(self, key: str, template: str | None = None, *, derived: bool = False) -> Thing:
        thing = self.things.get(key)
        if thing is None:
            spec = lx.THINGS.get(key) or lx.THINGS.get(key.rsplit(" ", 1)[-1]) if template is None else None
            thing = Thing(key, template, spec, derived=derived, order=len(self.things))
            self.things[key] = thing
        if not derived:
            thing.derived = False
            thing.mentions += 1
        return thing

    def resolve(self, words: list[Token], opening: bool) -> list[_Ref]:
        """The things, attributes, user or product that a noun phrase names."""
        nouns = [t for t in words if t.kind in (NOUN, GERUND, AMBIG)]
        while nouns and nouns[0].kind == GERUND and len(nouns) > 1 and not opening:
            nouns = nouns[1:]  # "scheduled", "recurring": modifiers, not things
        if not nouns:
            return []
        return self._phrase(nouns, opening)

    def _phrase(self, nouns: list[Token], opening: bool) -> list[_Ref]:
        words = [t.word for t in nouns]
        head = words[-1]
        # Whole-phrase lookups, longest first: "time tracking", "due date", "purchase order".
        for start in range(len(words)):
            phrase = " ".join(words[start:])
            modifiers = nouns[:start]
            if phrase in lx.ATTRIBUTES and phrase not in self.known:
                return self._with_attribute(nouns, start, lx.ATTRIBUTES[phrase])
            if phrase in lx.GENERIC_PEOPLE:
                return [_USER]
            if phrase in self.known and self.known[phrase] != "User":
                refs = self._modifier_things(modifiers)
                inner = [
                    word
                    for word in phrase.split()
                    if word in self.known and self.known[word] not in ("User", self.known[phrase])
                ]
                refs += [_Ref("thing", self.thing(word, self.known[word]).key) for word in inner]
                return refs + [_Ref("thing", self.thing(phrase, self.known[phrase]).key)]
            if phrase in self.known:
                return [_USER]
            if " " in phrase and phrase in lx.THINGS:
                return self._modifier_things(modifiers) + [_Ref("thing", self.thing(phrase).key)]
        if head == "number" and len(words) > 1 and _nameable(words[-2]):
            # "seat numbers", "room number": a field, written as text (numbers can have letters).
            name = f"{words[-2]}_number"
            return [_Ref("attr", attr=FieldSpec(name, "string", False, False, f"{words[-2].capitalize()} number"))]
        if (
            head in lx.PRODUCT_HEADS
            or (opening and head in lx.OPENING_PRODUCT_HEADS and len(words) > 1)
            or (opening and head in lx.OPENING_PRODUCT_HEADS and head not in lx.THINGS)
        ):
            refs = [_PRODUCT]
            for token in nouns[:-1]:
                if token.kind == GERUND:
                    record = lx.RECORD_VERBS.get(token.verb or "")
                    if record:
                        refs.append(_Ref("thing", self.thing(record, self.known.get(record), derived=False).key))
                elif token.word in lx.OPENING_PRODUCT_HEADS:
                    token.masked = True
                elif (
                    token.word not in lx.PRODUCT_MODIFIERS
                    and token.word not in lx.PRODUCT_HEADS
                    and not self._gerund_noun(token.word)
                ):
                    refs += self._phrase([token], False)  # "event ticketing platform": events, not ticketings
            return refs
        if nouns[-1].kind == GERUND or (head in lx.FEATURE_HEADS and head not in self.known):
            if len(nouns) > 1:
                return self._phrase(nouns[:-1], False)
            return []
        nouns = [t for t in nouns if t.kind != GERUND and not (self._gerund_noun(t.word) and not t.plural)]
        if not nouns:
            return []
        words = [t.word for t in nouns]
        head = words[-1]
        if head in lx.GENERIC_PEOPLE:
            return [_USER]
        if head in lx.NOMINAL_ACTIONS and len(words) == 1:
            return [_Ref("action", lx.NOMINAL_ACTIONS[head])]
        if head in lx.VAGUE_NOUNS:
            return self._phrase(nouns[:-1], False) if len(nouns) > 1 else []
        if not _nameable(head):
            return []
        if len(words) == 1:
            return [_Ref("thing", self.thing(head).key)]
        modifier = words[-2]
        if head in lx.ATTRIBUTES:
            return self._with_attribute(nouns, len(nouns) - 1, lx.ATTRIBUTES[head])
        if (
            head in lx.PART_HEADS
            and _nameable(modifier)
            and modifier not in lx.VAGUE_NOUNS
            and modifier not in lx.ATTRIBUTES
        ):
            owner = self._phrase(nouns[:-1], False)
            owner_things = [ref for ref in owner if ref.kind == "thing"]
            part = self.thing(head if head in lx.THINGS else f"{modifier} {head}")
            for ref in owner_things:
                part.add_parent(ref.key, True)
            return owner_things + [_Ref("thing", part.key)]
        if modifier in lx.ATTRIBUTES or not _nameable(modifier) or modifier in lx.VAGUE_NOUNS:
            return [_Ref("thing", self.thing(head).key)]
        return [_Ref("thing", self.thing(f"{modifier} {head}").key)]

    def _with_attribute(self, nouns: list[Token], start: int, spec: FieldSpec) -> list[_Ref]:
        """A phrase ending in an attribute: "due dates", "book prices", "fuel costs", "delivery date"."""
        if start == 0:
            return [_Ref("attr", attr=spec)]
        modifier = nouns[start - 1].word
        if modifier in lx.THINGS or modifier in self.known or modifier in self.things:
            owners = [ref for ref in self._phrase(nouns[:start], False) if ref.kind == "thing"]
            for owner in owners:  # "book prices": the price of a book
                self.things[owner.key].add_attribute(spec)
            return owners
        if not _nameable(modifier) or modifier in lx.VAGUE_NOUNS:
            return [_Ref("attr", attr=spec)]
        phrase = f"{modifier} {' '.join(t.word for t in nouns[start:])}"
        if spec.name in _MONEY and nouns[-1].plural:
            # "fuel costs per vehicle": records of their own, each with an amount.
            thing = self.thing(phrase)
            thing.add_attribute(FieldSpec(spec.name, spec.type, True, False, spec.description))
            return [_Ref("thing", thing.key)]
        name = phrase.replace(" ", "_")[:60]  # "delivery date": one field
        return [_Ref("attr", attr=FieldSpec(name, spec.type, False, spec.unique, phrase.capitalize()))]

    def _gerund_noun(self, word: str) -> bool:
        """ "ticketing", "seating": an activity named after a noun, not a record of its own."""
        if not word.endswith("ing") or word in lx.THINGS or word in self.known:
            return False
        stem = word[:-3]
        return any(
            candidate in lx.VERBS or candidate in lx.THINGS or candidate in self.known
            for candidate in (stem, stem + "e", stem[:-1])
        )

    def _modifier_things(self, modifiers: list[Token]) -> list[_Ref]:
        return self._phrase(modifiers, False) if modifiers else []

    # --- clauses ------------------------------------------------------------------------------------

    def read_segment(self, tokens: list[Token]) -> None:
        subject: list[_Ref] = []
        verbs: list[str] = []
        participle = False
        objects: list[_Ref] = []
        last: list[_Ref] = []  # the last noun phrase, with the phrases joined to it by "and" or ","
        topic: list[_Ref] = []  # what the clause is about: its first phrases, past any possessor
        owner: list[_Ref] | None = None  # after "Y's": the possessor, for every phrase of the list
        pending: tuple[str, list[_Ref]] | None = None
        listing: tuple[str, list[_Ref]] | None = None  # "with A, B and C": the preposition carries on
        previous = ""
        for kind, payload in _elements(tokens):
            if kind == "np":
                refs = self.resolve(payload, self.opening)
                self.opening = False
                joined = previous in ("comma", "conj")
                if pending is not None:
                    self.attach(pending[1], pending[0], refs, plural=payload[-1].plural)
                    listing, pending = pending, None
                elif listing is not None and joined:
                    self.attach(listing[1], listing[0], refs)
                elif previous == "poss" or (owner is not None and joined):
                    owner = last if previous == "poss" or owner is None else owner
                    self.attach(refs, "of", owner)
                    topic = refs if previous == "poss" else topic + refs
                elif verbs and not participle:
                    objects += refs
                    self.apply(subject, verbs, refs)
                    self.last_objects = [ref for ref in objects if ref.kind == "thing"] or self.last_objects
                elif joined and not verbs:
                    subject += refs
                    topic += refs
                else:
                    subject = refs
                    topic = topic or refs
                    if not verbs:
                        self._to_product(refs)
                last = (last + refs) if joined and pending is None else refs
            elif kind == "verb":
                token = payload[0]
                base = token.verb or token.text
                owner = None
                if token.past and last and not verbs:
                    participle = True  # "orders sent to suppliers": the verb describes the phrase before it
                    verbs = [base]
                    self.apply([], [base], last)
                    pending = None
                elif previous == "conj" and verbs and not objects:
                    verbs.append(base)  # "rate and review them"
                else:
                    if previous == "np" and not verbs and last:
                        subject = last  # else "borrow copies and pay fines": the same subject goes on
                    verbs, objects, participle = [base], [], False
                listing = None
            elif kind == "prep":
                word = payload[0].text
                loose = previous == "comma" and word == "with" and bool(topic)
                left = topic if loose else last
                # ", with owners": about the clause's topic, and looser than "pets with owners".
                pending = (word + ("," if loose else ""), left if left else [_PRODUCT])
                listing, owner = None, None
            elif kind == "pron":
                word = payload[0].text
                if word in lx.BACK_REFERENCES and verbs and not participle:
                    refs = list(self.last_objects)
                    objects += refs
                    self.apply(subject, verbs, refs)
                elif word not in lx.BACK_REFERENCES:
                    subject, verbs, objects, participle = [_USER], [], [], False  # "others rate ...": people
                listing, owner = None, None
            elif kind == "clause":
                subject, verbs, objects, pending, listing, participle, owner = [], [], [], None, None, False, None
            previous = kind

    def _to_product(self, refs: list[_Ref]) -> None:
        for ref in refs:
            if ref.kind == "attr" and ref.attr is not None:
                self.product_attributes.append(ref.attr)

    def attach(self, left: list[_Ref], prep: str, right: list[_Ref], plural: bool = False) -> None:
        structural = not prep.endswith(",")
        right_plural = {ref.key: plural for ref in right}
        prep = prep.rstrip(",")
        to_product = any(ref.kind == "product" for ref in left)
        owners = [] if to_product else [ref for ref in left if ref.kind == "thing"]
        if prep in ("of", "per") and not owners:  # "the price of each book": the attribute is the book's
            for ref in left:
                if ref.kind == "attr" and ref.attr is not None:
                    for thing in right:
                        if thing.kind == "thing":
                            self.things[thing.key].add_attribute(ref.attr)
        for ref in right:
            if ref.kind == "attr" and ref.attr is not None:
                if prep not in _ATTRIBUTE_PREPS:
                    continue  # "usable on phones" says nothing about a phone field
                if owners:
                    # "borrow copies with due dates": the due date is the loan's (dates belong to the act;
                    # "buy tickets with seat numbers": the seat number stays the ticket's).
                    acted = prep == "with" and ref.attr.type in ("date", "datetime")
                    holders = [self.records[o.key] for o in owners if o.key in self.records] if acted else []
                    for holder in dict.fromkeys(holders or [owner.key for owner in owners]):
                        self.things[holder].add_attribute(ref.attr)
                else:
                    self.product_attributes.append(ref.attr)
            elif ref.kind == "action":
                for owner in owners:
                    self.things[owner.key].add_action(ref.key)
            elif ref.kind == "thing":
                named = self.things[ref.key]
                person = named.spec is not None and named.spec.person
                if to_product and prep == "for" and (person or right_plural.get(ref.key, False)):
                    named.audience += 1  # "a recipe library for home cooks": who it is for
                    continue
                for owner in owners:
                    if owner.key == ref.key:
                        continue
                    if prep == "with" and person:
                        self.things[owner.key].add_parent(ref.key, False)  # "pets with owners"
                    elif prep == "with":
                        named.add_parent(owner.key, structural)
                    elif prep in _BELONGS:
                        self.things[owner.key].add_parent(ref.key, True)
        if any(ref.kind == "thing" for ref in right) and not owners:
            self.last_objects = [ref for ref in right if ref.kind == "thing"]

    def apply(self, subject: list[_Ref], verbs: list[str], objects: list[_Ref]) -> None:
        things = [ref for ref in objects if ref.kind == "thing"]
        # "book copies": the copies are borrowed; the book is what they are copies of.
        things = [
            ref
            for ref in things
            if not any(
                ref.key in (p for p, _ in self.things[other.key].parents) for other in things if other.key != ref.key
            )
        ]
        actors = [ref for ref in subject if ref.kind == "thing"]
        by_user = any(ref.kind == "user" for ref in subject) or not subject
        reviewing = "review" in verbs
        for verb in verbs:
            done = self.objects.setdefault(verb, [])
            done += [ref.key for ref in things if ref.key not in done]
            record = lx.RECORD_VERBS.get(verb)
            if verb == "rate" and reviewing:
                record = None
            if record is not None and things and all(ref.key != record for ref in things):
                made = self.thing(record, self.known.get(record), derived=True)
                if made.template is None and made.spec is None:
                    made.spec = lx.THINGS.get(record)
                for ref in things:
                    made.add_parent(ref.key, True)
                    self.records.setdefault(ref.key, made.key)
                for actor in actors:
                    made.add_parent(actor.key, True)
                made.by_user = made.by_user or (by_user and not actors)
                if verb == "review" and "rate" in verbs:
                    made.add_attribute(lx.ATTRIBUTES["rating"])
                continue
            for ref in things:
                target = self.things[ref.key]
                if verb in lx.ACTION_VERBS:
                    target.add_action(verb)
                for actor in actors:
                    target.add_parent(actor.key, False)

    def reading(self, masked: str) -> Reading:
        things = [
            thing
            for thing in self.things.values()
            if not (thing.audience and thing.mentions <= thing.audience and not thing.parents)
        ]
        things.sort(key=lambda thing: thing.order)
        return Reading(things[:MAX_THINGS], self.product_attributes, masked, self.objects)


# Amounts that, in the plural with a noun of their own ("fuel costs"), are records rather than a field.
_MONEY = frozenset({"cost", "price", "fee", "amount", "rent", "deposit", "salary"})
# Prepositions that give the thing before them an attribute: "links with custom aliases".
_ATTRIBUTE_PREPS = frozenset({"with", "including", "plus", "per", "for"})
# "X <prep> Y" where X belongs to Y.
_BELONGS = frozenset(
    {"per", "of", "for", "in", "on", "at", "to", "from", "by", "under", "within", "inside", "into", "onto"}
)


def _nameable(word: str) -> bool:
    return (
        3 <= len(word) <= 30
        and all(part.isascii() and part.isalpha() for part in word.split())
        and word not in lx.DETERMINERS
        and word not in lx.PREPOSITIONS
        and word not in lx.AUXILIARIES
    )


def _elements(tokens: list[Token]) -> list[tuple[str, list[Token]]]:
    """Noun phrases and the words between them, in order."""
    out: list[tuple[str, list[Token]]] = []
    phrase: list[Token] = []
    for token in tokens:
        if token.kind in (NOUN, ADJ, GERUND, AMBIG):
            phrase.append(token)
            continue
        if phrase:
            out.append(("np", phrase))
            phrase = []
        kind = {
            VERB: "verb",
            ED: "verb",
            PREP: "prep",
            CONJ: "conj",
            COMMA: "comma",
            CLAUSE: "clause",
            PRON: "pron",
            POSS: "poss",
        }.get(token.kind, "other")
        out.append((kind, [token]))
    if phrase:
        out.append(("np", phrase))
    # A phrase of adjectives only ("it is simple") names nothing.
    return [(kind, items) for kind, items in out if kind != "np" or any(t.kind != ADJ for t in items)]


def read(text: str, known: Mapping[str, str] | None = None) -> Reading:
    """The things a text names, their relations and attributes; `known` maps catalogue phrases
    (singular, lower case) to the catalogue entity they name."""
    reader = _Reader(known or {})
    masked_parts: list[str] = []
    cleaned = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    cleaned = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", cleaned)
    for segment in _SEGMENTS.split(cleaned[:10_000]):
        tokens = reader.tokens(segment)
        reader.settle(tokens)
        reader.read_segment(tokens)
        masked_parts.append(" ".join(_masked(token, reader) for token in tokens))
    return reader.reading(" | ".join(masked_parts))


def _own_words(reader: _Reader) -> set[str]:
    """The words of the things the catalogue does not know: "family member" -> family, member."""
    return {word for key, thing in reader.things.items() if thing.template is None for word in (key, *key.split())}


def _masked(token: Token, reader: _Reader) -> str:
    if token.kind == POSS:
        return ""
    if token.masked:
        return "|"
    if token.kind == VERB and token.verb in lx.NOUN_VERBS:
        return "|"  # "cooks post recipes" is not about blog posts
    if token.kind in (NOUN, AMBIG) and token.word in _own_words(reader):
        return "|"  # "purchase orders" are the user's own thing, not the shop's orders
    return token.text

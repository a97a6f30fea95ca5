# --- reading text ----------------------------------------------------------------------------

# Words and the punctuation that separates clauses ("|"), so no phrase matches across it.
_TOKEN = re.compile(r"[^\W_]+|[.,;:!?()\[\]{}\n\r]")
# Phrases that negate what follows: "no comments", "without time tracking", "remove the tags".
_NEGATIONS = tuple(sorted((tuple(phrase.split()) for phrase in (
    "no", "not", "without", "remove", "drop", "exclude", "skip", "get rid of", "don t need", "do not need",
    "doe not need", "doesn t need", "no need for", "no longer", "leave out", "take out")), key=len, reverse=True))
_DETERMINERS = frozenset({"the", "a", "an", "any", "all", "my", "our", "their", "your", "of", "for", "need"})
_CONJUNCTIONS = frozenset({"and", "or", "nor"})
_NOISE = ("in order to", "in order for", "order by", "sort order")  # "order" that is not a purchase


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "zes", "sses")):
        return word[:-2]
    return word[:-1]


def _tokens(text: str) -> list[str]:
    return ["|" if not token[0].isalnum() else _singular(token) for token in _TOKEN.findall(text.lower())]


@lru_cache(maxsize=4096)
def _norm(phrase: str) -> str:
    return " ".join(token for token in _tokens(phrase) if token != "|")


@lru_cache(maxsize=1)
def _removal_targets() -> tuple[dict[str, tuple[tuple[str, ...], tuple[str, ...]]], int]:
    """Phrase -> (entities it names, modules it names), and the longest phrase in tokens."""
    entities: dict[str, list[str]] = {}
    modules: dict[str, list[str]] = {}
    for template in ENTITIES:
        for alias in template.aliases:
            entities.setdefault(_norm(alias), []).append(template.name)
    for module in MODULES:
        for keyword in module.keywords + module.description_only:
            modules.setdefault(_norm(keyword), []).append(module.key)
    phrases = {phrase: (tuple(entities.get(phrase, ())), tuple(modules.get(phrase, ())))
               for phrase in [*entities, *modules] if phrase}
    return phrases, max(len(phrase.split()) for phrase in phrases)


class _Text:
    """Normalized words of some text, for phrase lookups; negated phrases are set apart."""

    def __init__(self, *parts: str) -> None:
        tokens: list[str] = []
        for part in parts:
            tokens += _tokens(part)
            tokens.append("|")
        self.raw = " " + " ".join(tokens) + " "
        self.negated: list[str] = []
        blanked = list(tokens)
        for start, end, phrases in _negated_spans(tokens):
            blanked[start:end] = ["|"] * (end - start)
            self.negated += [p for p in phrases if p not in self.negated]
        index = " " + " ".join(blanked) + " "
        for noise in _NOISE:
            index = index.replace(f" {_norm(noise)} ", " | ")
        self.index = index

    def has(self, phrase: str) -> bool:
        norm = _norm(phrase)
        if not norm:
            return False
        # Phrases that are themselves negations ("no login") are looked up in the raw text.
        words = tuple(norm.split())
        negative = any(words[:len(n)] == n for n in _NEGATIONS)
        return f" {norm} " in (self.raw if negative else self.index)

    def any(self, phrases: tuple[str, ...]) -> bool:
        return any(self.has(phrase) for phrase in phrases)


def _negated_spans(tokens: list[str]):
    targets, longest = _removal_targets()
    at = 0
    while at < len(tokens):
        trigger = next((n for n in _NEGATIONS if tuple(tokens[at:at + len(n)]) == n), None)  # longest first
        if trigger is None:
            at += 1
            continue
        cursor, found, end = at + len(trigger), [], at + len(trigger)
        while True:
            while cursor < len(tokens) and tokens[cursor] in _DETERMINERS:
                cursor += 1
            phrase = next((" ".join(tokens[cursor:cursor + size]) for size in range(longest, 0, -1)
                           if cursor + size <= len(tokens) and " ".join(tokens[cursor:cursor + size]) in targets),
                          None)
            if phrase is None:
                break
            found.append(phrase)
            end = cursor + len(phrase.split())
            if end < len(tokens) and tokens[end] in _CONJUNCTIONS:
                cursor = end + 1
                continue
            break
        if found:
            yield at, end, found
        at = end


# --- small text helpers ----------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word where possible."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


def _words(name: str) -> str:
    """TimeEntry -> time entry."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def _snake(name: str) -> str:
    return _words(name).replace(" ", "_")


def _param(name: str) -> str:
    return name[0].lower() + name[1:] + "Id"


def _plural(word: str) -> str:
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _article(words: str) -> str:
    vowel = words[:1] in set("aeiou") and not words.startswith(("user", "uni", "use", "eu"))
    return ("an " if vowel else "a ") + words


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Blanks(dict):
    """Template placeholders; unknown ones stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


"""Word lists the noun-phrase reader works from: data only, no logic beyond parsing field specs.

- Function words (determiners, prepositions, pronouns, auxiliaries) and adjectives: not
  part of a thing's name ("custom aliases" names aliases).
- VERBS: words that are verbs when they stand between a subject and an object; some are
  nouns too ("post", "book", "order"), which the reader settles from the neighbours.
- FEATURE_HEADS: nouns that name an activity or a feature rather than a record ("click
  analytics" is about clicks; "team collaboration" about teams).
- PRODUCT_HEADS: nouns that name the application itself ("a URL shortener", "a recipe site").
- ATTRIBUTES: nouns that are a field of the thing they describe, with its type ("due dates"
  is a date field, "price" a decimal, "alias" a unique string, "rating" an integer from 1 to 5).
- THINGS: nouns whose usual fields are known ("book": title, author, isbn). They enrich a
  thing the description names; they never add a thing it does not name.
- RECORD_VERBS: verbs whose act is itself a record ("members borrow copies" -> Loan).
- ACTION_VERBS: verbs that move a record on and stamp the moment ("pay fines" -> Fine.paid_at
  and POST /fines/{fineId}/pay).
"""

from __future__ import annotations

from dataclasses import dataclass

DETERMINERS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "my", "our", "your", "their", "his", "her", "its", "each",
    "every", "all", "any", "some", "many", "several", "multiple", "various", "other", "another", "own", "no",
    "both", "either", "neither", "few", "more", "most", "much", "such", "same", "certain", "one", "two", "three",
    "four", "five", "ten", "whose", "lots", "plenty", "numerous", "what", "which",
})
PREPOSITIONS = frozenset({
    "of", "per", "with", "without", "for", "to", "from", "in", "on", "at", "by", "about", "into", "onto", "over",
    "under", "within", "across", "between", "through", "via", "during", "after", "before", "since", "until",
    "against", "among", "around", "along", "like", "including", "as", "than", "upon", "inside", "outside",
    "toward", "towards", "beyond", "behind", "near", "off", "out", "up", "down", "plus", "except", "versus",
})
CONJUNCTIONS = frozenset({"and", "or", "nor", "but", "yet"})
# Words that open a new clause: the reader resets the subject it tracks.
CLAUSE_WORDS = frozenset({
    "where", "when", "while", "whereas", "which", "who", "whom", "that", "so", "because", "if", "unless", "then",
    "also", "too", "once", "whenever", "wherever", "how", "why", "whether", "although", "though",
})
PRONOUNS = frozenset({
    "i", "we", "you", "they", "them", "it", "he", "she", "him", "us", "me", "itself", "themselves", "someone",
    "somebody", "anyone", "anybody", "everyone", "everybody", "nobody", "something", "anything", "everything",
    "nothing", "others", "mine", "yours", "theirs", "ours", "one's", "each other",
})
# Pronouns that stand for the last object the description named ("rate and review them").
BACK_REFERENCES = frozenset({"them", "it", "they", "these", "those"})
AUXILIARIES = frozenset({
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done", "have", "has", "had",
    "can", "could", "will", "would", "shall", "should", "must", "may", "might", "need", "needs", "needed",
    "let", "lets", "allow", "allows", "allowed", "allowing", "help", "helps", "helping", "enable", "enables",
    "want", "wants", "wish", "get", "gets", "got", "getting", "able", "not", "dont", "don", "doesn", "isn",
    "aren", "won", "cannot", "go", "goes", "going", "become", "becomes", "make", "makes", "making", "made",
    "give", "gives", "given", "gave", "use", "uses", "used", "using", "see", "sees", "seen", "saw", "know",
    "knows", "try", "tries", "like", "likes", "love", "loves", "s", "t", "ll", "re",
    "ve", "d",
})
ADVERBS = frozenset({
    "also", "easily", "quickly", "just", "only", "very", "really", "always", "never", "often", "sometimes",
    "usually", "soon", "later", "now", "then", "there", "here", "together", "online", "automatically", "even",
    "still", "already", "instead", "again", "back", "well", "maybe", "perhaps", "simply", "directly", "anywhere",
    "everywhere", "daily", "weekly", "monthly", "yearly", "annually", "hourly", "currently", "finally", "first",
    "please", "etc", "eg", "ie", "especially", "mainly", "mostly", "fully", "immediately", "publicly", "privately",
})
ADJECTIVES = frozenset({
    "custom", "new", "old", "simple", "small", "large", "big", "little", "local", "public", "private", "personal",
    "shared", "free", "paid", "open", "closed", "active", "inactive", "different", "easy", "quick", "real",
    "basic", "advanced", "digital", "internal", "external", "main", "current", "upcoming", "recent", "past",
    "future", "favorite", "favourite", "popular", "detailed", "individual", "optional", "required", "available",
    "single", "specific", "full", "short", "long", "high", "low", "good", "great", "best", "better", "nice",
    "whole", "entire", "overall", "general", "common", "special", "unique", "related", "relevant", "important",
    "key", "primary", "secondary", "veterinary", "medical", "financial", "social", "mobile", "online", "offline",
    "virtual", "physical", "annual", "monthly", "weekly", "daily", "yearly", "regular", "recurring", "live",
    "manual", "automatic", "automated", "smart", "modern", "lightweight", "secure", "fast", "friendly",
    "collaborative", "interactive", "responsive", "beautiful", "clean", "visual", "central", "centralized",
    "total", "final", "initial", "late", "early", "overdue", "due", "certified", "professional", "independent",
    "small-business", "local-first", "multi", "multiple", "home", "corporate", "commercial", "used",
    "second-hand", "secondhand", "handmade", "organic", "fresh", "healthy", "hungry", "busy", "remote", "hybrid",
    "scheduled", "preventive", "routine", "global", "international", "national", "domestic",
    "anonymous", "verified", "trusted", "premium", "standard", "short-term", "long-term", "easy-to-use",
})
ADJECTIVE_SUFFIXES = ("ful", "ous", "less", "able", "ible")

# Verbs in their base form; -s, -ed and -ing forms are derived (see nouns.verb_forms).
VERBS = frozenset({
    "accept", "add", "approve", "archive", "ask", "assign", "attach", "attend", "bid", "bill", "book", "borrow",
    "browse", "build", "buy", "cancel", "capture", "catalog", "catalogue", "charge", "chat", "check", "choose",
    "claim", "clean", "click", "close", "collect", "comment", "compare", "complete", "confirm", "connect",
    "contact", "cook", "create", "deliver", "design", "discover", "discuss", "display", "donate", "download",
    "drive", "earn", "edit", "email", "enroll", "enter", "export", "favorite", "fill", "find", "finish", "fix",
    "follow", "generate", "grade", "hire", "host", "import", "invite", "invoice", "issue", "join", "keep", "lend",
    "like", "list", "log", "look", "maintain", "manage", "mark", "match", "measure", "meet", "message", "monitor",
    "move", "note", "notify", "offer", "order", "organize", "organise", "own", "pay", "place", "plan", "play",
    "post", "prepare", "print", "process", "publish", "purchase", "rank", "rate", "read", "receive", "record",
    "redeem", "refund", "register", "reject", "remind", "remove", "renew", "rent", "repair", "replace", "reply",
    "report", "request", "reserve", "resolve", "return", "review", "run", "save", "schedule", "search", "sell",
    "send", "service", "set", "share", "ship", "shorten", "sign", "sort", "start", "stop", "store", "submit",
    "subscribe", "suggest", "support", "swap", "take", "teach", "test", "text", "track", "trade", "train",
    "transfer", "treat", "update", "upload", "verify", "view", "visit", "vote", "watch", "water", "write",
    "bookmark", "feed", "walk", "groom", "vaccinate", "examine", "diagnose", "prescribe", "refuel", "inspect",
    "lease", "sponsor", "volunteer", "apply", "interview", "study", "learn", "practice", "count",
    "calculate", "split", "owe", "spend", "budget", "invest", "tag", "label", "link", "answer",
    "reward", "tip", "leave", "bring", "hold", "win", "lose", "score", "ride", "fly", "travel", "stay", "show",
})
# Verbs of two words: "check in daily" is an act, not a place.
PHRASAL_VERBS = frozenset({"check in", "check out", "sign up", "sign in", "log in", "pick up", "drop off", "opt in",
                           "opt out", "follow up", "show up", "clock in", "clock out"})
# Irregular forms that the -s/-ed/-ing rules miss.
IRREGULAR_VERB_FORMS = {
    "sent": "send", "paid": "pay", "sold": "sell", "bought": "buy", "made": "make", "kept": "keep",
    "found": "find", "written": "write", "wrote": "write", "built": "build", "held": "hold", "left": "leave",
    "lent": "lend", "taken": "take", "took": "take", "ran": "run", "read": "read", "met": "meet", "chose":
    "choose", "chosen": "choose", "drove": "drive", "driven": "drive", "taught": "teach", "won": "win",
    "lost": "lose", "brought": "bring", "spent": "spend", "rode": "ride", "flew": "fly", "set": "set",
    "fed": "feed", "swapped": "swap", "shipped": "ship", "planned": "plan", "logged": "log", "tagged": "tag",
}
# Verbs that are usually nouns when they follow a determiner, an adjective or a preposition.
NOUN_VERBS = frozenset({
    "book", "order", "post", "log", "record", "review", "rate", "schedule", "plan", "list", "share", "comment",
    "like", "report", "note", "message", "tag", "label", "bill", "charge", "ship", "contact", "request", "visit",
    "vote", "bid", "return", "transfer", "email", "text", "check", "issue", "link", "click", "invoice", "answer",
    "reward", "tip", "score", "practice", "study", "budget", "service", "support", "process", "design", "match",
    "play", "ride", "stay", "walk", "count", "swap", "trade", "repair", "set", "cook", "drive", "treat", "test",
    "search", "export", "import", "download", "upload", "place", "store", "print", "offer", "claim", "catalog",
    "catalogue", "fix", "watch", "water", "lease", "rent", "interview", "refund", "purchase", "feed", "display",
    "volunteer", "sponsor", "train", "favorite", "bookmark", "view", "capture", "edit", "update", "show",
    "monitor", "sign", "clock", "pick", "drop",
})

# Nouns naming an activity or a feature, not a record: dropped from the end of a phrase.
FEATURE_HEADS = frozenset({
    "analytics", "tracking", "tracker", "management", "reporting", "report", "statistic", "statistics", "stat",
    "stats", "insight", "overview", "history", "collaboration", "sharing", "integration", "feature",
    "functionality", "capability", "support", "search", "access", "ability", "option", "workflow", "process",
    "handling", "processing", "planning", "scheduling", "monitoring", "organization", "organisation", "logging",
    "booking", "ordering", "lending", "renting", "selling", "buying", "shopping", "administration", "control",
    "automation", "notification", "alert", "reminder", "dashboard", "view", "page", "screen", "section", "tab",
    "form", "field", "detail", "info", "information", "data", "record", "entry", "maintenance",
    "total", "number", "summary", "breakdown", "trend", "metric", "chart", "graph", "export", "import",
    "sync", "upload", "download", "setting", "preference", "configuration", "setup", "experience", "content",
})
# A feature head that is still a record when it stands alone after a verb ("log entries", "pay fines").
STANDALONE_RECORDS = frozenset({"entry", "record", "booking", "export", "maintenance"})
# Nouns that always name the application itself ("a booking tool", "an inventory system").
PRODUCT_HEADS = frozenset({
    "app", "application", "tool", "system", "platform", "site", "website", "web", "webapp", "software",
    "solution", "portal", "api", "backend", "program", "suite", "crm", "erp", "saa", "saas", "bot", "clone",
    "dashboard", "toolkit", "service",
})
# Nouns that name the application when they open the description ("A URL shortener with ...",
# "A recipe library for ..."), and a record anywhere else ("libraries lend books").
OPENING_PRODUCT_HEADS = frozenset({
    "shortener", "manager", "planner", "organizer", "organiser", "scheduler", "builder", "generator", "finder",
    "aggregator", "calculator", "logger", "directory", "registry", "hub", "marketplace", "library", "catalog",
    "catalogue", "tracker", "log", "journal", "diary", "logbook", "exchange", "network", "community", "store",
    "shop", "business", "company", "startup", "database", "assistant", "companion", "helper", "inventory",
})
# Modifiers of a product noun that are the domain, not a thing ("a small business CRM").
PRODUCT_MODIFIERS = frozenset({"web", "mobile", "online", "saas", "b2b", "internal", "simple", "small", "business",
                               "real estate", "it", "hr", "crm", "management"})
# Who uses it, not what it keeps: these subjects become the User entity, never a thing of their own.
GENERIC_PEOPLE = frozenset({
    "user", "person", "people", "someone", "somebody", "anyone", "anybody", "everyone", "everybody", "other",
    "visitor", "admin", "administrator", "moderator", "human", "individual", "folk", "we", "you", "they", "i",
    "staff", "team member", "colleague", "coworker", "member of the public", "public", "stakeholder", "manager",
    "supervisor", "approver", "user account", "customer service",
})
# Nouns too vague to be a record of their own.
VAGUE_NOUNS = frozenset({
    "thing", "stuff", "way", "time", "day", "lot", "kind", "type", "sort", "variety", "range", "place",
    "idea", "need", "use", "purpose", "goal", "end", "start", "case", "fact", "example", "set", "group",
    "list", "collection", "bunch", "ton", "level", "area", "aspect", "side", "basis", "manner", "mode", "matter",
    "question", "problem", "issue", "feature", "features", "everything", "anything", "something", "nothing",
    "world", "life", "work", "job", "home", "week", "month", "year", "hour", "minute", "second", "moment", "today",
    "tomorrow", "yesterday", "status", "name", "version", "first", "last", "next", "previous", "top", "bottom",
    "plenty", "lots", "amount", "result", "change", "update", "track", "sense", "focus", "eye", "hand",
    "mind", "people", "app", "tool", "system", "platform", "site", "website", "service", "software",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "weekend", "weekday", "morning",
    "afternoon", "evening", "night", "january", "february", "march", "april", "june", "july", "august",
    "september", "october", "november", "december", "quarter", "now", "later", "soon",
})
# Words that name a part or an instance of what precedes them: "book copies" are copies of books.
PART_HEADS = frozenset({
    "copy", "item", "line", "entry", "page", "version", "photo", "image", "variant", "unit", "slot", "seat",
    "session", "episode", "chapter", "lesson", "room", "review", "rating", "comment", "note", "log", "record",
    "attachment", "file", "step", "ingredient", "task", "milestone", "visit", "reading", "measurement", "result",
})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "string"
    required: bool = True
    unique: bool = False
    description: str = ""
    values: tuple[str, ...] | None = None


def _fields(spec: str) -> tuple[FieldSpec, ...]:
    """Fields written as "name [type] [unique] [?] [lo-hi] [=v1/v2] [: description]; ...".

    `?` makes a field optional; `lo-hi` bounds an integer, written into its description as
    "from lo to hi" (the build enforces bounds written that way); `=a/b/c` lists enum values.
    """
    fields = []
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        head, _, description = part.partition(":")
        tokens = head.split()
        name, kind, required, unique, values = tokens[0], "string", True, False, None
        bounds = ""
        for token in tokens[1:]:
            if token == "?":
                required = False
            elif token == "unique":
                unique = True
            elif token.startswith("="):
                kind, values = "enum", tuple(token[1:].split("/"))
            elif token[0].isdigit() and "-" in token:
                low, high = token.split("-")
                bounds = f"from {low} to {high}"
            else:
                kind = token
        text = description.strip()
        if bounds:
            text = f"{text}, {bounds}" if text else bounds[:1].upper() + bounds[1:]
        fields.append(FieldSpec(name, kind, required, unique, text, values))
    return tuple(fields)


def attribute(spec: str) -> FieldSpec:
    return _fields(spec)[0]


# Attribute phrases (singular, lower case) -> the field they add to the thing they describe.
ATTRIBUTES: dict[str, FieldSpec] = {
    phrase: attribute(spec) for phrase, spec in {
        "due date": "due_date date: When it is due",
        "deadline": "deadline date: When it must be done",
        "date": "date date: The date it happens",
        "start date": "start_date date: When it starts",
        "end date": "end_date date: When it ends",
        "birth date": "birth_date date ?: Date of birth",
        "birthday": "birth_date date ?: Date of birth",
        "date of birth": "birth_date date ?: Date of birth",
        "expiry date": "expires_on date ?: When it expires",
        "expiration date": "expires_on date ?: When it expires",
        "start time": "starts_at datetime: When it starts",
        "end time": "ends_at datetime ?: When it ends",
        "timestamp": "occurred_at datetime: When it happened",
        "price": "price decimal: Price, in the account's currency",
        "cost": "cost decimal: Cost, in the account's currency",
        "fee": "fee decimal: Fee, in the account's currency",
        "amount": "amount decimal: Amount, in the account's currency",
        "budget": "budget decimal ?: Budget, in the account's currency",
        "salary": "salary decimal ?: Salary, in the account's currency",
        "balance": "balance decimal: Current balance",
        "deposit": "deposit decimal ?: Deposit paid",
        "rent": "rent decimal: Rent per period",
        "hourly rate": "hourly_rate decimal ?: Price per hour",
        "rating": "rating integer 1-5: Stars given",
        "star": "rating integer 1-5: Stars given",
        "score": "score integer: Points scored",
        "count": "count integer: How many",
        "grade": "grade string: Grade given",
        "email": "email email unique: Contact address",
        "email address": "email email unique: Contact address",
        "phone": "phone string ?: Phone number in international format",
        "phone number": "phone string ?: Phone number in international format",
        "address": "address string ?: Postal address",
        "location": "location string ?: Where it is",
        "url": "url url: Web address",
        "website": "website url ?: Web address",
        "photo": "photo_url url ?: Link to a photo",
        "image": "image_url url ?: Link to an image",
        "picture": "picture_url url ?: Link to a picture",
        "avatar": "avatar_url url ?: Link to a profile picture",
        "alias": "alias string unique: Short name, unique across all records",
        "custom alias": "alias string unique: Short name, unique across all records",
        "slug": "slug string unique: URL-safe name, unique across all records",
        "code": "code string unique: Short code, unique across all records",
        "short code": "code string unique: Short code, unique across all records",
        "isbn": "isbn string unique ?: International Standard Book Number",
        "sku": "sku string unique: Stock keeping unit",
        "barcode": "barcode string unique: Printed barcode",
        "serial number": "serial_number string unique: Manufacturer's serial number",
        "license plate": "license_plate string unique: Registration plate",
        "plate": "license_plate string unique: Registration plate",
        "vin": "vin string unique ?: Vehicle identification number",
        "username": "username string unique: Public handle",
        "handle": "handle string unique: Public handle",
        "title": "title string: Title",
        "description": "description text ?: Details",
        "summary": "summary text ?: Short summary",
        "note": "notes text ?: Free-form notes",
        "notes": "notes text ?: Free-form notes",
        "instruction": "instructions text: How to do it",
        "body": "body text: The text",
        "caption": "caption string ?: Caption",
        "priority": "priority =low/medium/high: How urgent it is",
        "quantity": "quantity integer: How many",
        "capacity": "capacity integer: How many it holds",
        "duration": "duration_minutes integer ?: Length in minutes",
        "mileage": "mileage integer ?: Odometer reading in kilometres",
        "odometer": "mileage integer ?: Odometer reading in kilometres",
        "weight": "weight decimal ?: Weight in kilograms",
        "age": "age integer ?: Age in years",
        "year": "year integer ?: Year",
        "color": "color string ?: Colour",
        "colour": "color string ?: Colour",
        "size": "size string ?: Size",
        "species": "species string: Species",
        "breed": "breed string ?: Breed",
        "gender": "gender string ?: Gender",
        "author": "author string: Who wrote it",
        "unit": "unit string ?: Unit of measure, e.g. g or ml",
        "currency": "currency string: ISO 4217 code, e.g. EUR",
        "country": "country string ?: Country",
        "city": "city string ?: City",
        "status": "status string: Current state",
        "stock": "stock_quantity integer: Units in stock",
        "stock level": "stock_quantity integer: Units in stock",
        "position": "position integer: Order in its list, from 0",
        "frequency": "frequency string: How often it happens",
        "category": "category string ?: Category",
        "condition": "condition string ?: Condition",
        "referrer": "referrer url ?: Page the visitor came from",
        "user agent": "user_agent string ?: Browser or client that was used",
        "ip address": "ip_address string ?: Where the request came from",
        "distance": "distance_km decimal ?: Distance in kilometres",
        "servings": "servings integer ?: How many people it serves",
        "calorie": "calories integer ?: Energy in kilocalories",
        "calories": "calories integer ?: Energy in kilocalories",
        "deposit amount": "deposit decimal ?: Deposit paid",
        "hour": "hours decimal ?: Hours",
    }.items()
}


@dataclass(frozen=True)
class ThingSpec:
    """What a recognised noun usually records."""

    description: str
    fields: tuple[FieldSpec, ...]
    person: bool = False  # a kind of person: gets an email and stands as a subject


def _thing(description: str, fields: str, *, person: bool = False) -> ThingSpec:
    return ThingSpec(description, _fields(fields), person)


_PERSON = "name: Full name; email email unique ?: Contact address; phone ?: Phone number in international format"

# Singular nouns (or noun phrases) -> what such a record holds. The description supplies the
# name; a noun that is not here gets a name and notes, and Kiln asks what it records.
THINGS: dict[str, ThingSpec] = {
    "link": _thing("A short link that redirects to a long URL.", "url url: The address it redirects to; "
                   "title ?: Label shown in lists"),
    "click": _thing("One visit through a link.", "clicked_at datetime: When the link was followed; "
                    "referrer url ?: Page the visitor came from; country ?: Country of the visitor, from the IP "
                    "address; user_agent ?: Browser or client that was used"),
    "recipe": _thing("A dish with what it takes and how to make it.", "title: Name of the dish; description text "
                     "?: What it is like; servings integer ?: How many people it serves; prep_minutes integer ?: "
                     "Preparation time in minutes"),
    "ingredient": _thing("Something a recipe needs, with how much of it.", "name: What it is, e.g. flour; "
                         "quantity decimal ?: How much; unit ?: Unit of measure, e.g. g or ml"),
    "step": _thing("One step of a method, in order.", "position integer: Order of the step, from 1; "
                   "instruction text: What to do"),
    "review": _thing("A written opinion with a rating.", "rating integer 1-5: Stars given; body text ?: "
                     "What the reviewer wrote"),
    "rating": _thing("A score someone gives.", "score integer 1-5: Stars given"),
    "member": _thing("A person registered with the organization.", _PERSON + "; joined_on date ?: When they "
                     "joined", person=True),
    "book": _thing("A title in the collection.", "title: Book title; author: Who wrote it; isbn unique ?: "
                   "International Standard Book Number; published_year integer ?: Year of publication"),
    "copy": _thing("One physical copy that can be lent out.", "barcode unique: Label on the copy; condition ?: "
                   "Wear and damage noted at the last check"),
    "loan": _thing("A borrowing: who has what, since when and until when.", "borrowed_at datetime: When it was "
                   "lent; due_date date: When it must be back; returned_at datetime ?: When it came back"),
    "fine": _thing("Money owed for breaking a rule, such as a late return.", "amount decimal: Amount owed; "
                   "reason ?: Why it was charged; paid_at datetime ?: When it was paid"),
    "supplier": _thing("A company that supplies goods.", "name: Company name; email email ?: Orders are sent "
                       "here; phone ?: Phone number in international format; address ?: Postal address"),
    "purchase order": _thing("An order for goods sent to a supplier.", "number unique: Order number, e.g. "
                             "PO-2025-0042; status =draft/sent/received/cancelled: Where the order stands; "
                             "order_date date: Date on the order; total decimal ?: Sum of its lines"),
    "vehicle": _thing("A vehicle of the fleet.", "make: Manufacturer; model: Model name; year integer ?: Model "
                      "year; license_plate unique: Registration plate; mileage integer ?: Odometer reading in "
                      "kilometres"),
    "maintenance log": _thing("A record of maintenance work done.", "performed_on date: When the work was done; "
                              "description text: What was done; cost decimal ?: What it cost; mileage integer ?: "
                              "Odometer reading at the time"),
    "pet": _thing("An animal cared for by the clinic.", "name: The pet's name; species: Dog, cat, rabbit...; "
                  "breed ?: Breed; birth_date date ?: Date of birth"),
    "appointment": _thing("A booked time slot.", "starts_at datetime: When it starts; ends_at datetime ?: When "
                          "it ends; reason ?: Why it was booked; status =scheduled/completed/cancelled/no_show: "
                          "What happened"),
    "owner": _thing("A person who owns something kept here.", _PERSON, person=True),
    "patient": _thing("A person or animal receiving care.", "name: Full name; birth_date date ?: Date of birth; "
                      "notes text ?: Medical notes"),
    "vet": _thing("A veterinarian.", "name: Full name; email email unique ?: Contact address", person=True),
    "doctor": _thing("A doctor.", "name: Full name; specialty ?: Field of medicine", person=True),
    "driver": _thing("A person who drives.", _PERSON + "; license_number unique ?: Driving licence number",
                     person=True),
    "trip": _thing("A journey from one place to another.", "started_at datetime: When it started; ended_at "
                   "datetime ?: When it ended; distance_km decimal ?: Distance in kilometres"),
    "expense": _thing("Money spent.", "amount decimal: Amount spent; spent_on date: When; category ?: What kind "
                      "of expense; description ?: What it was for"),
    "transaction": _thing("A movement of money.", "amount decimal: Amount; occurred_at datetime: When; "
                          "description ?: What it was"),
    "account": _thing("An account that holds a balance.", "name: Account name; balance decimal: Current balance"),
    "student": _thing("A person who studies.", _PERSON, person=True),
    "teacher": _thing("A person who teaches.", _PERSON, person=True),
    "course": _thing("A course people enroll in.", "title: Course title; description text ?: What it covers; "
                     "starts_on date ?: First day"),
    "lesson": _thing("One lesson of a course.", "title: Lesson title; position integer: Order within the course; "
                     "content text ?: What it teaches"),
    "enrollment": _thing("A person's place in a course.", "enrolled_at datetime: When they enrolled"),
    "room": _thing("A room that can be used or booked.", "name: Room name or number; capacity integer ?: How many "
                   "people fit"),
    "booking": _thing("A reservation of a time slot.", "starts_at datetime: When it starts; ends_at datetime: When "
                      "it ends; status =requested/confirmed/cancelled: Where the booking stands"),
    "reservation": _thing("A reservation of a time slot.", "starts_at datetime: When it starts; ends_at datetime: "
                          "When it ends; status =requested/confirmed/cancelled: Where the reservation stands"),
    "rental": _thing("A rental of something for a period.", "starts_at datetime: When it starts; ends_at "
                     "datetime: When it ends; price decimal ?: What it costs"),
    "guest": _thing("A person staying or visiting.", _PERSON, person=True),
    "property": _thing("A property that is let or sold.", "address: Postal address; description text ?: What it "
                       "is like"),
    "lease": _thing("A lease agreement.", "starts_on date: First day; ends_on date ?: Last day; rent decimal: "
                    "Rent per month"),
    "tenant": _thing("A person who rents.", _PERSON, person=True),
    "employee": _thing("A person employed by the company.", _PERSON + "; hired_on date ?: First working day",
                       person=True),
    "shift": _thing("A period someone works.", "starts_at datetime: When it starts; ends_at datetime: When it "
                    "ends"),
    "candidate": _thing("A person applying for a job.", _PERSON, person=True),
    "application": _thing("An application someone submits.", "status =submitted/in_review/accepted/rejected: Where "
                          "it stands; submitted_at datetime ?: When it was submitted"),
    "interview": _thing("An interview with a candidate.", "scheduled_at datetime: When it takes place; notes text "
                        "?: What was learned"),
    "plant": _thing("A plant someone looks after.", "name: What it is called; species ?: Species; watered_at "
                    "datetime ?: When it was last watered"),
    "habit": _thing("A habit someone builds.", "name: The habit; frequency: How often, e.g. daily"),
    "workout": _thing("One training session.", "performed_on date: When; duration_minutes integer ?: Length in "
                      "minutes; notes text ?: How it went"),
    "exercise": _thing("An exercise.", "name: Exercise name; sets integer ?: Number of sets; repetitions integer "
                       "?: Repetitions per set"),
    "song": _thing("A song.", "title: Song title; artist ?: Who performs it; duration_seconds integer ?: Length in "
                   "seconds"),
    "playlist": _thing("An ordered list of songs.", "name: Playlist name"),
    "photo": _thing("A photo.", "url url: Where the image is stored; caption ?: Caption; taken_at datetime ?: When "
                    "it was taken"),
    "album": _thing("A collection of photos or songs.", "title: Album title"),
    "video": _thing("A video.", "title: Video title; url url: Where it is stored; duration_seconds integer ?: "
                    "Length in seconds"),
    "episode": _thing("An episode of a series.", "title: Episode title; published_at datetime ?: When it was "
                      "published; duration_seconds integer ?: Length in seconds"),
    "question": _thing("A question someone asks.", "body text: The question"),
    "answer": _thing("An answer to a question.", "body text: The answer"),
    "poll": _thing("A question people vote on.", "question: What is asked; closes_at datetime ?: When voting "
                   "ends"),
    "vote": _thing("One person's vote.", "choice: What they voted for"),
    "donation": _thing("Money given to a cause.", "amount decimal: Amount given; donated_at datetime: When"),
    "donor": _thing("A person who gives money.", _PERSON, person=True),
    "campaign": _thing("A campaign with a goal.", "name: Campaign name; goal_amount decimal ?: Target amount; "
                       "starts_on date ?: First day; ends_on date ?: Last day"),
    "volunteer": _thing("A person who volunteers.", _PERSON, person=True),
    "warehouse": _thing("A place where stock is kept.", "name: Warehouse name; address ?: Postal address"),
    "shipment": _thing("Goods on their way.", "tracking_number unique: Carrier's tracking number; shipped_at "
                       "datetime ?: When it left; delivered_at datetime ?: When it arrived"),
    "delivery": _thing("A delivery to an address.", "address: Where it goes; delivered_at datetime ?: When it "
                       "arrived"),
    "player": _thing("A person who plays.", "name: Full name; position ?: Where they play", person=True),
    "match": _thing("A game between two sides.", "played_at datetime: When it is played; home_score integer ?: "
                    "Points of the home side; away_score integer ?: Points of the away side"),
    "game": _thing("A game.", "played_at datetime: When it is played; score ?: Final score"),
    "tournament": _thing("A competition of several games.", "name: Tournament name; starts_on date: First day"),
    "venue": _thing("A place where things happen.", "name: Venue name; address ?: Postal address; capacity "
                    "integer ?: How many people fit"),
    "dish": _thing("A dish on the menu.", "name: Dish name; price decimal: Price; description text ?: What is in "
                   "it"),
    "menu": _thing("A menu of dishes.", "name: Menu name"),
    "table": _thing("A table that guests sit at.", "number integer unique: Table number; seats integer: Number of "
                    "seats"),
    "meal": _thing("A meal.", "name: What it is; eaten_at datetime ?: When it was eaten; calories integer ?: "
                   "Energy in kilocalories"),
    "part": _thing("A spare part.", "name: Part name; part_number unique: Manufacturer's part number; "
                   "stock_quantity integer ?: Units in stock"),
    "repair": _thing("A repair job.", "description text: What was repaired; performed_on date: When; cost decimal "
                     "?: What it cost"),
    "inspection": _thing("An inspection.", "inspected_on date: When; passed boolean: Whether it passed; notes "
                         "text ?: Findings"),
    "fuel log": _thing("A refuelling.", "filled_on date: When; liters decimal: Fuel added; cost decimal ?: What it "
                       "cost; mileage integer ?: Odometer reading"),
    "treatment": _thing("A treatment given.", "description text: What was done; given_on date: When"),
    "vaccination": _thing("A vaccination given.", "vaccine: Vaccine name; given_on date: When; due_on date ?: "
                          "When the next dose is due"),
    "prescription": _thing("A prescribed medicine.", "medication: What is prescribed; dosage: How much and how "
                           "often; issued_on date: When it was issued"),
    "visit": _thing("A visit.", "visited_at datetime: When; reason ?: Why"),
    "bid": _thing("An offer of money.", "amount decimal: Amount offered; placed_at datetime: When"),
    "auction": _thing("A sale to the highest bidder.", "title: What is sold; ends_at datetime: When bidding "
                      "closes; starting_price decimal: Lowest bid"),
    "listing": _thing("Something offered on the marketplace.", "title: Headline; description text ?: Details; "
                      "price decimal: Asking price"),
    "job": _thing("A job opening.", "title: Job title; description text ?: What the job is; status "
                  "=open/closed: Whether it takes applications"),
    "goal": _thing("A goal to reach.", "title: The goal; target_date date ?: When it should be reached"),
    "milestone": _thing("A milestone on the way.", "title: Milestone; due_date date ?: When it is due"),
    "habit log": _thing("A day a habit was done.", "done_on date: When"),
    "subscriber": _thing("A person who subscribes.", _PERSON, person=True),
    "newsletter": _thing("A newsletter sent to subscribers.", "subject: Subject line; body text: Content; "
                         "sent_at datetime ?: When it was sent"),
    "author": _thing("A person who writes.", _PERSON, person=True),
    "cook": _thing("A person who cooks and shares recipes.", _PERSON, person=True),
    "chef": _thing("A person who cooks.", _PERSON, person=True),
    "mechanic": _thing("A person who repairs vehicles.", _PERSON, person=True),
    "technician": _thing("A person who does technical work.", _PERSON, person=True),
    "seat": _thing("A seat that can be taken.", "number: Seat number, e.g. 12A; section ?: Section or row"),
    "fleet": _thing("A group of vehicles run together.", "name: Fleet name"),
    "clinic": _thing("A clinic.", "name: Clinic name; address ?: Postal address; phone ?: Phone number"),
    "library": _thing("A library.", "name: Library name; address ?: Postal address"),
    "restaurant": _thing("A restaurant.", "name: Restaurant name; address ?: Postal address"),
    "hotel": _thing("A hotel.", "name: Hotel name; address ?: Postal address"),
    "school": _thing("A school.", "name: School name; address ?: Postal address"),
    "gym": _thing("A gym.", "name: Gym name; address ?: Postal address"),
    "store": _thing("A shop.", "name: Shop name; address ?: Postal address"),
    "class": _thing("A class people attend.", "name: Class name; starts_at datetime ?: When it starts; capacity "
                    "integer ?: How many people fit"),
    "attendance": _thing("Who attended what.", "attended_on date: When; present boolean: Whether they came"),
    "registration": _thing("A registration.", "registered_at datetime: When"),
    "purchase": _thing("Something bought.", "amount decimal: What was paid; purchased_at datetime: When"),
    "sale": _thing("Something sold.", "amount decimal: Sale price; sold_at datetime: When"),
    "like": _thing("A like someone gives.", "liked_at datetime: When"),
    "bookmark": _thing("Something saved for later.", "saved_at datetime: When"),
    "favorite": _thing("Something marked as a favourite.", "added_at datetime: When"),
    "timer": _thing("A running clock.", "started_at datetime: When it started; stopped_at datetime ?: When it "
                    "stopped"),
    "ticket": _thing("A ticket.", "code unique: Ticket code; price decimal ?: What it cost"),
    "order": _thing("An order.", "number unique: Order number; status =pending/confirmed/delivered/cancelled: "
                    "Where the order stands; total decimal ?: Total amount"),
    "invoice": _thing("A bill.", "number unique: Invoice number; due_date date: Payment deadline; total decimal: "
                      "Total amount"),
    "item": _thing("An item.", "name: What it is; description text ?: Details"),
    "log": _thing("A log entry.", "logged_at datetime: When; notes text ?: What happened"),
    "entry": _thing("An entry.", "recorded_at datetime: When; notes text ?: What happened"),
    "expense report": _thing("A set of expenses submitted together.", "title: What it covers; status "
                             "=draft/submitted/approved/rejected: Where it stands; total decimal ?: Sum of its "
                             "expenses"),
}

# Verbs whose act is a record of its own: subject + verb + object -> a record linking both.
RECORD_VERBS: dict[str, str] = {
    "borrow": "loan", "lend": "loan", "rent": "rental", "lease": "lease", "hire": "rental", "book": "booking",
    "reserve": "reservation", "buy": "purchase", "purchase": "purchase", "sell": "sale", "review": "review",
    "rate": "rating", "like": "like", "vote": "vote", "bookmark": "bookmark", "favorite": "favorite",
    "enroll": "enrollment", "register": "registration", "donate": "donation", "bid": "bid", "apply": "application",
    "attend": "attendance", "visit": "visit", "order": "order", "click": "click",
}
# Verbs that move a record on: verb -> the participle naming its timestamp (<participle>_at) and status.
ACTION_VERBS: dict[str, str] = {
    "pay": "paid", "send": "sent", "approve": "approved", "cancel": "cancelled", "complete": "completed",
    "finish": "finished", "close": "closed", "resolve": "resolved", "publish": "published", "archive": "archived",
    "ship": "shipped", "deliver": "delivered", "return": "returned", "renew": "renewed", "confirm": "confirmed",
    "accept": "accepted", "reject": "rejected", "submit": "submitted", "sign": "signed", "start": "started",
    "stop": "stopped", "verify": "verified", "redeem": "redeemed", "refund": "refunded", "receive": "received",
    "issue": "issued", "inspect": "inspected", "repair": "repaired", "vaccinate": "vaccinated",
}
# Nouns that are an action on the thing they come with ("orders with approval" are approved).
NOMINAL_ACTIONS: dict[str, str] = {
    "approval": "approve", "cancellation": "cancel", "confirmation": "confirm", "completion": "complete",
    "submission": "submit", "renewal": "renew", "rejection": "reject", "publication": "publish", "closure": "close",
    "resolution": "resolve", "verification": "verify", "acceptance": "accept", "signature": "sign",
    "refund": "refund",
}
# Known compound nouns, read as one word before anything else.
COMPOUNDS: tuple[str, ...] = tuple(sorted(
    {phrase for phrase in (*ATTRIBUTES, *THINGS) if " " in phrase} | {
        "sales order", "work order", "time entry", "time slot", "line item", "order item", "invoice line",
        "credit card", "gift card", "job posting", "blog post", "user account", "bank account", "shopping list",
        "to do", "meeting room", "service record", "service history", "fuel log", "oil change",
        "parking spot", "loyalty point", "loyalty card", "medical record", "lab result", "test result",
        "shopping cart", "wish list", "wishlist", "price list", "pay slip", "time off", "leave request",
        "support ticket", "help desk", "task board", "kanban board", "time tracking", "audit log", "team member",
        "real estate",
        "house plant", "purchase request", "delivery note", "packing slip", "return request", "credit note",
    }, key=lambda phrase: (-len(phrase.split()), phrase)))

"""The built-in generator's catalogues, as data: entities, modules of specification and topics.

- ENTITIES: entity templates with typed fields and the parents they belong to when those
  are present too (a Task belongs to a Project only if the spec has projects). They enrich
  the things a description names ("tasks" are Tasks with a status, a priority and a due
  date); they never stand in for a thing the description names that they do not know.
- MODULES: units of specification: entities, routes, a feature with acceptance criteria,
  criteria for other features, extra fields, roles, decisions and non-functional
  requirements. Description keywords, answers and feedback switch modules on; feedback such
  as "remove comments" switches them off.
- TOPICS: the clarifying questions, when each is asked, which description phrases already
  settle it, and which modules each option switches on.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiln.domain.generation import QuestionType

# --- catalogue shapes ----------------------------------------------------------------------


@dataclass(frozen=True)
class FieldTemplate:
    """A field template. values starting with "@key" are filled from the modules' enum values."""

    name: str
    type: str = "string"
    description: str = ""
    required: bool = True
    unique: bool = False
    values: tuple[str, ...] | None = None
    unless: tuple[str, ...] = ()  # left out when one of these entities is present


def _f(
    name: str,
    type: str = "string",
    description: str = "",
    *,
    req: bool = True,
    unique: bool = False,
    values: tuple[str, ...] | None = None,
    unless: tuple[str, ...] = (),
) -> FieldTemplate:
    return FieldTemplate(name, type, description, req, unique, values, unless)


@dataclass(frozen=True)
class ParentTemplate:
    """A parent: a foreign key plus belongs_to, added only when the target is present.

    Of the parents sharing a group, only the first present one is used (a Task lives in a
    Project if there are projects, else in a Team...). `nest` puts the list/create routes
    under the parent: /projects/{projectId}/tasks.
    """

    target: str
    via: str | None = None
    required: bool = True
    nest: bool = False
    group: str | None = None
    description: str = ""
    unique: bool = False


@dataclass(frozen=True)
class EntityTemplate:
    name: str  # "Item" stands for the generic entity named after the project's main noun
    plural: str  # path segment
    description: str
    fields: tuple[FieldTemplate, ...]
    parents: tuple[ParentTemplate, ...] = ()
    aliases: tuple[str, ...] = ()  # words naming it, for "remove X" feedback
    crud: str = "full"  # full | read | create_read | none
    needs_any: tuple[str, ...] = ()  # dropped when none of these is present
    domain: bool = False  # a domain entity: when none is present, the generic entity is used
    soft_delete: bool = False  # gets deleted_at/archived_at under the matching retention answer
    immutable: bool = False  # no updated_at
    links: tuple[str, ...] = ()  # many_to_many partners, when present
    actions: tuple[str, ...] = ()  # verbs with a route of their own: POST /fines/{fineId}/pay


@dataclass(frozen=True)
class Criterion:
    """An acceptance criterion; `requires` names entities (PascalCase) or modules (lower case)."""

    text: str
    requires: tuple[str, ...] = ()


def _c(text: str, *requires: str) -> Criterion:
    return _C(text, requires)


@dataclass(frozen=True)
class RouteTemplate:
    method: str
    path: str
    summary: str
    entity: str | None = None
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureTemplate:
    name: str
    summary: str
    criteria: tuple[Criterion, ...]
    anchor: str | None = None  # the feature exists only while this entity does


@dataclass(frozen=True)
class Module:
    key: str
    keywords: tuple[str, ...] = ()  # switch it on, in descriptions and in feedback
    description_only: tuple[str, ...] = ()  # too ambiguous in feedback ("order", "post")
    entities: tuple[str, ...] = ()
    feature: FeatureTemplate | None = None
    criteria: tuple[tuple[str, Criterion], ...] = ()  # (feature module key, criterion) for other features
    routes: tuple[RouteTemplate, ...] = ()
    fields: tuple[tuple[str, FieldTemplate], ...] = ()  # (entity, field) added when the entity is present
    enum_values: tuple[tuple[str, str], ...] = ()  # (key, value) for "@key" enum fields
    role: tuple[str, str] | None = None  # (name, description) for the users section
    decisions: tuple[str, ...] = ()
    non_functional: tuple[str, ...] = ()
    implies: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()  # switched off when this one is switched on by feedback
    protected: bool = False  # feedback cannot remove it


@dataclass(frozen=True)
class Option:
    label: str
    modules: tuple[str, ...] = ()
    settles: tuple[str, ...] = ()  # description phrases that already choose this option


@dataclass(frozen=True)
class Topic:
    id: str
    label: str  # short topic name for decisions
    question: str
    type: QuestionType
    options: tuple[Option, ...] = ()  # for boolean questions: (yes, no)
    always: bool = False  # asked whenever the description does not settle it
    asked_when: tuple[str, ...] = ()  # ... or when the description mentions one of these
    asked_with: tuple[str, ...] = ()  # ... or when one of these modules is on
    required: bool = True
    default: tuple[int, ...] = ()  # options assumed when the question is not answered


# Short names for the catalogue literals below.
_P, _E, _C, _R, _Feature, _M, _O, _T = (
    ParentTemplate,
    EntityTemplate,
    Criterion,
    RouteTemplate,
    FeatureTemplate,
    Module,
    Option,
    Topic,
)


# --- entities ------------------------------------------------------------------------------

_SCOPE = (_P("Team", nest=True, group="scope"), _P("Organization", nest=True, group="scope"))
_CONTAINER = (
    _P("Project", nest=True, group="container"),
    _P("Team", nest=True, group="container"),
    _P("Organization", nest=True, group="container"),
)

ENTITIES: tuple[EntityTemplate, ...] = (
    _E(
        "User",
        "users",
        "A person with an account.",
        crud="none",
        aliases=("user", "user account", "account"),
        fields=(
            _f("email", "email", "Sign-in address, stored in lower case", unique=True),
            _f("name", "string", "Display name"),
            _f("avatar_url", "url", "Profile picture", req=False),
            _f("time_zone", "string", "IANA time zone, e.g. Europe/Berlin; dates and reports use it", req=False),
            _f("role", "enum", "What the person may do", values=("@roles", "admin", "member"), unless=("Membership",)),
        ),
    ),
    _E(
        "Organization",
        "organizations",
        "A customer account; its data is never visible to another organization.",
        aliases=("organization", "organisation", "tenant"),
        fields=(_f("name", "string", "Organization name"), _f("slug", "string", "Short URL-safe name", unique=True)),
    ),
    _E(
        "Team",
        "teams",
        "A group of people who work together and share projects.",
        aliases=("team",),
        fields=(_f("name", "string", "Team name"), _f("description", "text", "What the team does", req=False)),
        parents=(_P("Organization", nest=True),),
    ),
    _E(
        "Membership",
        "memberships",
        "A person's place in a team or organization, with their role.",
        aliases=("membership", "team member", "invitation"),
        needs_any=("Team", "Organization"),
        fields=(
            _f("role", "enum", "What the member may do", values=("@roles", "admin", "member")),
            _f("status", "enum", "Invited until the person accepts", values=("invited", "active", "suspended")),
            _f("invited_email", "email", "Address the invitation was sent to", req=False),
        ),
        parents=(
            _P("User", "user_id", required=False, description="The member; empty until the invitation is accepted"),
            *_SCOPE,
        ),
    ),
    _E(
        "IdentityProvider",
        "identity-providers",
        "A company identity provider that people sign in through (SSO).",
        aliases=("identity provider", "sso provider"),
        fields=(
            _f("protocol", "enum", "Sign-in protocol", values=("saml", "oidc")),
            _f("display_name", "string", "Name shown on the sign-in page"),
            _f("issuer", "string", "Entity ID (SAML) or issuer URL (OIDC)"),
            _f("metadata_url", "url", "Where the provider publishes its metadata and keys", req=False),
            _f("email_domain", "string", "Users with this email domain sign in through this provider", unique=True),
            _f("enforced", "boolean", "When set, other sign-in methods are refused for the domain"),
        ),
        parents=(_P("Organization", nest=True, group="scope"), _P("Team", nest=True, group="scope")),
    ),
    _E(
        "Project",
        "projects",
        "A body of work with a goal, a lead and a due date.",
        domain=True,
        soft_delete=True,
        aliases=("project",),
        fields=(
            _f("name", "string", "Project name"),
            _f("description", "text", "Goal and scope", req=False),
            _f("status", "enum", "Lifecycle state", values=("active", "on_hold", "completed", "archived")),
            _f("start_date", "date", "Planned start", req=False),
            _f("due_date", "date", "Planned end", req=False),
        ),
        parents=(
            *_SCOPE,
            _P("User", "owner_id", required=False, description="Project lead"),
            _P("Customer", required=False, description="Client the project is done for"),
        ),
    ),
    _E(
        "Board",
        "boards",
        "A board of columns on which tasks move from start to done.",
        domain=True,
        aliases=("board", "kanban board", "task board", "kanban"),
        fields=(_f("name", "string", "Board name"), _f("description", "text", "What the board is for", req=False)),
        parents=_CONTAINER,
    ),
    _E(
        "Column",
        "columns",
        "A stage on a board, such as To do, In progress or Done.",
        needs_any=("Board",),
        aliases=("column", "board column"),
        fields=(_f("name", "string", "Column title"), _f("position", "integer", "Order on the board, from 0")),
        parents=(_P("Board", nest=True),),
    ),
    _E(
        "Task",
        "tasks",
        "A unit of work with an assignee, a status and a due date.",
        domain=True,
        soft_delete=True,
        aliases=("task", "todo", "to do", "issue"),
        fields=(
            _f("title", "string", "Short summary"),
            _f("description", "text", "Details, in Markdown", req=False),
            _f(
                "status",
                "enum",
                "Workflow state; on a board it follows the task's column",
                values=("todo", "in_progress", "in_review", "done"),
            ),
            _f("priority", "enum", "How urgent it is", values=("low", "medium", "high", "urgent")),
            _f("due_date", "date", "When it should be done", req=False),
            _f("position", "integer", "Order within its column or list, from 0"),
            _f("completed_at", "datetime", "When it was set to done", req=False),
        ),
        parents=(
            *_CONTAINER,
            _P("Board", required=False, description="Board the task is shown on"),
            _P("Column", required=False, description="Column the task sits in"),
            _P("User", "assignee_id", required=False, description="Member responsible for the task"),
            _P("User", "created_by_id", description="Member who created the task"),
        ),
    ),
    _E(
        "Comment",
        "comments",
        "A remark in the discussion of an item.",
        aliases=("comment", "discussion"),
        needs_any=("Task", "Ticket", "Document", "Post", "Note", "Event", "Item"),
        fields=(
            _f("body", "text", "Markdown text; @name mentions notify people"),
            _f("edited_at", "datetime", "Last edit by its author", req=False),
        ),
        parents=(
            _P("Task", nest=True, group="subject"),
            _P("Ticket", nest=True, group="subject"),
            _P("Document", nest=True, group="subject"),
            _P("Post", nest=True, group="subject"),
            _P("Note", nest=True, group="subject"),
            _P("Event", nest=True, group="subject"),
            _P("Item", nest=True, group="subject"),
            _P("User", "author_id", description="Who wrote it"),
        ),
    ),
    _E(
        "TimeEntry",
        "time-entries",
        "Time someone spent on a task or project.",
        domain=True,
        aliases=("time entry", "time tracking", "time tracker", "timesheet", "timer", "time log"),
        fields=(
            _f("started_at", "datetime", "When the work started"),
            _f("ended_at", "datetime", "When it ended; empty while a timer runs", req=False),
            _f(
                "duration_minutes", "integer", "Length in minutes; set when a timer stops or entered by hand", req=False
            ),
            _f("note", "text", "What was done", req=False),
        ),
        parents=(
            _P("User", "user_id", description="Who did the work"),
            _P("Task", required=False),
            _P("Project", required=False),
        ),
    ),
    _E(
        "Customer",
        "customers",
        "A client or customer the organization works for or sells to.",
        domain=True,
        aliases=("customer", "client", "contact"),
        fields=(
            _f("name", "string", "Person or company name"),
            _f("email", "email", "Main contact address", req=False),
            _f("phone", "string", "Phone number in international format", req=False),
            _f("company", "string", "Company name, for people", req=False),
            _f("notes", "text", "Internal notes", req=False),
        ),
        parents=_SCOPE,
    ),
    _E(
        "Invoice",
        "invoices",
        "A bill sent to a customer.",
        domain=True,
        aliases=("invoice", "billing"),
        fields=(
            _f("number", "string", "Sequential number, e.g. INV-2025-0042", unique=True),
            _f("status", "enum", "Where the invoice stands", values=("draft", "sent", "paid", "overdue", "void")),
            _f("issue_date", "date", "Date on the invoice"),
            _f("due_date", "date", "Payment deadline"),
            _f("currency", "string", "ISO 4217 code, e.g. EUR"),
            _f("total", "decimal", "Sum of its lines"),
        ),
        parents=(_P("Customer"), _P("Project", required=False), *_SCOPE),
    ),
    _E(
        "InvoiceLine",
        "invoice-lines",
        "One line of an invoice.",
        needs_any=("Invoice",),
        aliases=("invoice line", "line item"),
        fields=(
            _f("description", "string", "What is billed"),
            _f("quantity", "decimal", "Hours or units"),
            _f("unit_price", "decimal", "Price per hour or unit"),
            _f("amount", "decimal", "quantity times unit_price, rounded to cents"),
        ),
        parents=(
            _P("Invoice", nest=True),
            _P("TimeEntry", required=False, description="The billed time entry, for lines made from tracked time"),
        ),
    ),
    _E(
        "Product",
        "products",
        "Something offered for sale.",
        domain=True,
        aliases=("product", "catalog item"),
        fields=(
            _f("name", "string", "Product name"),
            _f("sku", "string", "Stock keeping unit", unique=True),
            _f("description", "text", "Shown to customers", req=False),
            _f("price", "decimal", "Current price"),
            _f("currency", "string", "ISO 4217 code, e.g. EUR"),
            _f("active", "boolean", "Only active products can be ordered"),
        ),
        parents=_SCOPE,
    ),
    _E(
        "Order",
        "orders",
        "A customer's purchase of one or more products.",
        domain=True,
        aliases=("order", "purchase"),
        fields=(
            _f("number", "string", "Order number shown to the customer", unique=True),
            _f(
                "status",
                "enum",
                "Where the order stands",
                values=("pending", "paid", "shipped", "delivered", "cancelled", "refunded"),
            ),
            _f("currency", "string", "ISO 4217 code, e.g. EUR"),
            _f("total", "decimal", "Sum of its items"),
            _f("placed_at", "datetime", "When the customer checked out"),
        ),
        parents=(_P("Customer"), *_SCOPE),
    ),
    _E(
        "OrderItem",
        "order-items",
        "One product line of an order.",
        needs_any=("Order",),
        aliases=("order item", "order line"),
        fields=(
            _f("quantity", "integer", "Units ordered"),
            _f("unit_price", "decimal", "Price when ordered; later price changes do not affect it"),
        ),
        parents=(_P("Order", nest=True), _P("Product", required=False)),
    ),
    _E(
        "Payment",
        "payments",
        "Money received through the payment provider.",
        crud="read",
        aliases=("payment",),
        fields=(
            _f("amount", "decimal", "Amount paid"),
            _f("currency", "string", "ISO 4217 code, e.g. EUR"),
            _f("status", "enum", "Provider-reported state", values=("pending", "succeeded", "failed", "refunded")),
            _f("provider", "string", "Payment provider, e.g. stripe"),
            _f(
                "provider_reference",
                "string",
                "The provider's id for the payment; matches provider events",
                req=False,
                unique=True,
            ),
            _f("paid_at", "datetime", "When the provider confirmed it", req=False),
        ),
        parents=(
            _P("Order", required=False, group="paid_for"),
            _P("Invoice", required=False, group="paid_for"),
            _P("Subscription", required=False, group="paid_for"),
        ),
    ),
    _E(
        "Subscription",
        "subscriptions",
        "A recurring plan that is billed every period.",
        aliases=("subscription",),
        fields=(
            _f("plan", "string", "Plan name, e.g. pro_monthly"),
            _f("status", "enum", "Billing state", values=("trialing", "active", "past_due", "cancelled")),
            _f("current_period_end", "datetime", "When the paid period ends"),
            _f("cancel_at_period_end", "boolean", "Set when cancelled; access continues until the period ends"),
        ),
        parents=(
            _P("Organization", group="payer"),
            _P("Customer", group="payer"),
            _P("User", "user_id", group="payer"),
        ),
    ),
    _E(
        "Document",
        "documents",
        "A written page or an uploaded file that people share.",
        domain=True,
        soft_delete=True,
        aliases=("document", "doc", "wiki page", "wiki"),
        fields=(
            _f("title", "string", "Document title"),
            _f("content", "text", "Markdown body, for written documents", req=False),
            _f("file_url", "url", "Uploaded file, for stored files", req=False),
            _f("content_type", "string", "MIME type of the uploaded file", req=False),
            _f("size_bytes", "integer", "Size of the uploaded file", req=False),
        ),
        parents=(*_CONTAINER, _P("User", "owner_id", description="Who created it")),
    ),
    _E(
        "Attachment",
        "attachments",
        "A file attached to an item.",
        aliases=("attachment", "file attachment", "file", "upload"),
        needs_any=("Task", "Ticket", "Message", "Note", "Event", "Document", "Item"),
        fields=(
            _f("file_name", "string", "Name of the uploaded file"),
            _f("content_type", "string", "MIME type"),
            _f("size_bytes", "integer", "File size; at most 25 MB"),
            _f("storage_key", "string", "Object key in file storage; served through short-lived links", unique=True),
        ),
        parents=(
            _P("Task", nest=True, group="subject"),
            _P("Ticket", nest=True, group="subject"),
            _P("Message", nest=True, group="subject"),
            _P("Note", nest=True, group="subject"),
            _P("Event", nest=True, group="subject"),
            _P("Document", nest=True, group="subject"),
            _P("Item", nest=True, group="subject"),
            _P("User", "uploaded_by_id", description="Who uploaded it"),
        ),
    ),
    _E(
        "Channel",
        "channels",
        "A conversation space for a group of people.",
        domain=True,
        aliases=("channel", "chat room", "conversation"),
        fields=(
            _f("name", "string", "Channel name"),
            _f("topic", "string", "What the channel is about", req=False),
            _f(
                "visibility", "enum", "Private channels are visible to their members only", values=("public", "private")
            ),
        ),
        parents=(*_CONTAINER, _P("User", "created_by_id", description="Who opened it")),
    ),
    _E(
        "Message",
        "messages",
        "A message posted in a channel.",
        needs_any=("Channel",),
        aliases=("message", "chat message"),
        fields=(_f("body", "text", "Markdown text"), _f("edited_at", "datetime", "Last edit by its author", req=False)),
        parents=(_P("Channel", nest=True), _P("User", "author_id", description="Who posted it")),
    ),
    _E(
        "Event",
        "events",
        "A dated calendar entry, such as a meeting or an appointment.",
        domain=True,
        aliases=("event", "calendar event", "meeting", "appointment"),
        fields=(
            _f("title", "string", "What it is"),
            _f("description", "text", "Agenda or details", req=False),
            _f("starts_at", "datetime", "Start, stored in UTC"),
            _f("ends_at", "datetime", "End, stored in UTC; after starts_at"),
            _f("all_day", "boolean", "Shown as a whole day"),
            _f("location", "string", "Room, address or video link", req=False),
        ),
        parents=(
            _P("Project", required=False, group="container"),
            _P("Team", required=False, group="container"),
            _P("User", "organizer_id", description="Who organizes it"),
        ),
    ),
    _E(
        "Ticket",
        "tickets",
        "A support request that is worked on until it is resolved.",
        domain=True,
        soft_delete=True,
        aliases=("ticket", "support ticket", "support request"),
        fields=(
            _f("subject", "string", "One-line summary"),
            _f("description", "text", "The request as written"),
            _f("status", "enum", "Where it stands", values=("open", "pending", "resolved", "closed")),
            _f("priority", "enum", "How urgent it is", values=("low", "normal", "high", "urgent")),
            _f("resolved_at", "datetime", "When it was resolved", req=False),
        ),
        parents=(
            _P("Customer", group="requester", description="Who asked for help"),
            _P("User", "requester_id", group="requester", description="Who asked for help"),
            _P("User", "assignee_id", required=False, description="Agent working on it"),
            *_SCOPE,
        ),
    ),
    _E(
        "Note",
        "notes",
        "A short piece of writing kept for later.",
        domain=True,
        soft_delete=True,
        aliases=("note",),
        fields=(
            _f("title", "string", "Note title"),
            _f("body", "text", "Markdown text"),
            _f("pinned", "boolean", "Pinned notes are listed first"),
        ),
        parents=(
            _P("Project", required=False, group="container"),
            _P("Team", required=False, group="container"),
            _P("User", "owner_id", description="Who wrote it"),
        ),
    ),
    _E(
        "Post",
        "posts",
        "An article that is drafted, then published.",
        domain=True,
        soft_delete=True,
        aliases=("post", "article", "blog post"),
        fields=(
            _f("title", "string", "Headline"),
            _f("slug", "string", "URL path, derived from the title", unique=True),
            _f("body", "text", "Markdown text"),
            _f("status", "enum", "Publication state", values=("draft", "published", "archived")),
            _f("published_at", "datetime", "When it went public", req=False),
        ),
        parents=(*_SCOPE, _P("User", "author_id", description="Who wrote it")),
    ),
    _E(
        "Item",
        "items",
        "The main thing the application keeps track of.",
        domain=True,
        soft_delete=True,
        aliases=(),
        fields=(
            _f("name", "string", "What it is called"),
            _f("description", "text", "Details", req=False),
            _f("status", "enum", "Archived ones are hidden from the default list", values=("active", "archived")),
        ),
        parents=(*_SCOPE, _P("User", "owner_id", description="Who added it")),
    ),
    _E(
        "Tag",
        "tags",
        "A label used to group and filter items.",
        aliases=("tag", "label", "category"),
        fields=(_f("name", "string", "Label text"), _f("color", "string", "Hex colour, e.g. #3B82F6", req=False)),
        parents=_SCOPE,
        links=("Task", "Ticket", "Document", "Note", "Post", "Product", "Event", "Customer", "Item"),
    ),
    _E(
        "Notification",
        "notifications",
        "A message telling someone about a change that concerns them.",
        crud="read",
        aliases=("notification", "alert", "reminder"),
        fields=(
            _f("kind", "string", "What happened, e.g. task_assigned"),
            _f("channel", "enum", "How it was delivered", values=("@channels", "in_app", "email")),
            _f("title", "string", "One-line summary"),
            _f("body", "text", "Details", req=False),
            _f("link_url", "url", "Where to look", req=False),
            _f("read_at", "datetime", "When the recipient opened it", req=False),
        ),
        parents=(_P("User", "user_id", description="Recipient"),),
    ),
    _E(
        "AuditLog",
        "audit-log",
        "An append-only record of who changed what, and when.",
        crud="read",
        immutable=True,
        aliases=("audit log", "audit trail", "activity log"),
        fields=(
            _f("action", "string", "What was done, e.g. task.updated"),
            _f("target_type", "string", "Kind of record changed, e.g. task"),
            _f("target_id", "uuid", "The record changed"),
            _f("details", "json", "Changed fields, before and after", req=False),
            _f("ip_address", "string", "Where the request came from", req=False),
        ),
        parents=(_P("User", "actor_id", required=False, description="Who acted; empty for system actions"), *_SCOPE),
    ),
    _E(
        "Integration",
        "integrations",
        "A connection to another tool.",
        aliases=("integration",),
        fields=(
            _f(
                "provider", "enum", "The connected tool", values=("@integrations", "slack", "github", "google_calendar")
            ),
            _f(
                "status", "enum", "Failing after repeated delivery errors", values=("active", "disconnected", "failing")
            ),
            _f("settings", "json", "Provider-specific settings, e.g. the Slack channel", req=False),
            _f(
                "credential_ref",
                "string",
                "Reference to the stored credential; the credential never leaves the secret store",
            ),
        ),
        parents=(*_SCOPE, _P("User", "connected_by_id", description="Who connected it")),
    ),
    _E(
        "Webhook",
        "webhooks",
        "An address that receives signed event notifications.",
        aliases=("webhook",),
        fields=(
            _f("url", "url", "HTTPS endpoint that receives the events"),
            _f("events", "json", 'Event names it subscribes to, e.g. ["task.created"]'),
            _f("signing_secret_ref", "string", "Reference to the secret that signs deliveries"),
            _f("active", "boolean", "Paused webhooks receive nothing"),
            _f("last_delivery_at", "datetime", "Last delivery attempt", req=False),
            _f("last_status", "integer", "HTTP status of the last delivery", req=False),
        ),
        parents=(*_SCOPE, _P("User", "created_by_id", description="Who created it")),
    ),
    _E(
        "Export",
        "exports",
        "A file export that is prepared in the background.",
        crud="create_read",
        aliases=("export", "csv export"),
        fields=(
            _f("format", "enum", "File format", values=("csv", "xlsx", "pdf")),
            _f("scope", "string", "What is exported, e.g. time_entries, with the filters applied"),
            _f("status", "enum", "Progress", values=("queued", "running", "ready", "failed")),
            _f("file_url", "url", "Download link, valid for 24 hours", req=False),
            _f("expires_at", "datetime", "When the file is deleted", req=False),
        ),
        parents=(_P("User", "requested_by_id", description="Who asked for it"),),
    ),
    _E(
        "UserPreference",
        "preferences",
        "A person's settings, such as the colour theme.",
        crud="none",
        aliases=("preference", "user preference", "setting"),
        fields=(
            _f("theme", "enum", "Colour theme; system follows the device", values=("system", "light", "dark")),
            _f("locale", "string", "Language and region, e.g. en-GB", req=False),
            _f("email_notifications", "boolean", "Whether notifications are also emailed"),
        ),
        parents=(_P("User", "user_id", unique=True, description="Whose settings these are"),),
    ),
    _E(
        "Device",
        "devices",
        "A phone registered for push notifications.",
        crud="none",
        aliases=("device",),
        fields=(
            _f("platform", "enum", "Operating system", values=("ios", "android")),
            _f("push_token", "string", "Token from Apple or Google push services", unique=True),
            _f("app_version", "string", "Installed app version", req=False),
            _f("last_seen_at", "datetime", "Last time the app called the API", req=False),
        ),
        parents=(_P("User", "user_id", description="Owner of the phone"),),
    ),
)

TEMPLATES = {template.name: template for template in ENTITIES}
# Entities whose name makes the best stand-in for "an item" in generic criteria, best first.
MAIN_ENTITIES = (
    "Task",
    "Ticket",
    "Order",
    "Document",
    "Post",
    "Note",
    "Event",
    "Message",
    "Invoice",
    "Product",
    "Customer",
    "Project",
    "Board",
    "TimeEntry",
    "Item",
)

# --- modules -----------------------------------------------------------------------------

_NOT_SIGNED_IN = _c(
    "Given a signed-out visitor, when they call any route other than sign-in, then the API answers "
    "401 and returns no data.",
    "signin",
)

MODULES: tuple[Module, ...] = (
    _M(
        "core",
        protected=True,
        entities=("User",),
        feature=_Feature(
            "User accounts",
            "People have an account with a profile they manage themselves.",
            (
                _NOT_SIGNED_IN,
                _c(
                    "Given a signed-in user, when they change their display name or time zone, then the change shows "
                    "everywhere their name or dates appear."
                ),
                _c(
                    "Given a signed-in user, when they delete their account, then they are signed out and their profile "
                    "no longer appears to anyone."
                ),
            ),
        ),
        routes=(
            _R("GET", "/users/me", "Get the signed-in user's profile", "User"),
            _R("PATCH", "/users/me", "Update the signed-in user's profile", "User"),
            _R("DELETE", "/users/me", "Delete the signed-in user's account", "User"),
            _R("GET", "/users", "List users (administrators)", "User"),
            _R("GET", "/users/{userId}", "Get a user", "User"),
        ),
        decisions=(
            "API: JSON over HTTPS with one resource per entity, as listed in ROUTES.md; identifiers are UUIDs.",
            "Errors: one JSON error shape with a stable code, a human-readable message and the request id.",
        ),
        non_functional=(
            "All traffic uses HTTPS (TLS 1.2 or later) and stored data is encrypted at rest.",
            "List routes are paginated (50 items by default, at most 200) and answer within 500 ms at the "
            "95th percentile.",
            "Timestamps are stored in UTC and shown in each person's time zone.",
            "The web interface meets WCAG 2.1 level AA.",
        ),
    ),
    _M("signin", protected=True),
    _M(
        "permissions",
        protected=True,
        feature=_Feature(
            "Roles and permissions",
            "Each person acts with a role; the API checks it on every request.",
            (
                _c(
                    "Given a person without the required role, when they call a route, then the API answers 403 with an "
                    "error code and nothing changes."
                ),
            ),
        ),
    ),
    # Sign-in methods (authentication question).
    _M(
        "auth_password",
        keywords=("password",),
        implies=("signin",),
        excludes=("auth_none",),
        feature=_Feature(
            "Email and password sign-in",
            "People sign up and sign in with their email address and a password.",
            (
                _c(
                    "Given a new visitor, when they sign up with an email and a password of at least 12 characters, then "
                    "they get a verification email and can sign in after confirming it."
                ),
                _c(
                    "Given five failed sign-in attempts on one account within 15 minutes, when a sixth is made, then it is "
                    "refused for 15 minutes."
                ),
                _c(
                    "Given a password reset request, when the emailed link is used within 1 hour, then the password can be "
                    "changed once; an older or used link is refused."
                ),
                _c(
                    "Given an unknown email address, when someone asks for a password reset, then the response is the same "
                    "as for a known one."
                ),
            ),
        ),
        fields=(
            ("User", _f("password_hash", "string", "Argon2id hash; never returned by the API")),
            ("User", _f("email_verified_at", "datetime", "When the address was confirmed", req=False)),
        ),
        routes=(
            _R("POST", "/auth/sign-up", "Create an account and send a verification email"),
            _R("POST", "/auth/sign-in", "Sign in with email and password"),
            _R("POST", "/auth/sign-out", "End the current session"),
            _R("POST", "/auth/password-reset", "Email a password reset link"),
            _R("POST", "/auth/password-reset/confirm", "Set a new password with a reset link"),
        ),
        non_functional=("Passwords are hashed with Argon2id; sign-in is rate limited per account and per IP address.",),
    ),
    _M(
        "auth_magic_link",
        keywords=("magic link", "passwordless"),
        implies=("signin",),
        excludes=("auth_none",),
        feature=_Feature(
            "Magic-link sign-in",
            "People sign in with a one-time link sent to their email address.",
            (
                _c(
                    "Given a person who enters their email address, when they open the emailed link within 15 minutes, "
                    "then they are signed in."
                ),
                _c(
                    "Given a sign-in link that was already used or is older than 15 minutes, when it is opened, then it is "
                    "refused and a new link can be requested."
                ),
            ),
        ),
        routes=(
            _R("POST", "/auth/magic-links", "Email a one-time sign-in link"),
            _R("POST", "/auth/magic-links/verify", "Exchange a sign-in link for a session"),
            _R("POST", "/auth/sign-out", "End the current session"),
        ),
    ),
    _M(
        "auth_sso",
        keywords=("sso", "saml", "single sign on", "okta", "oidc"),
        implies=("signin",),
        excludes=("auth_none",),
        entities=("IdentityProvider",),
        feature=_Feature(
            "Single sign-on",
            "Companies connect their identity provider (SAML 2.0 or OpenID Connect) so "
            "their people sign in with their work account.",
            (
                _c(
                    "Given an identity provider configured for example.com, when a person with an @example.com address "
                    "signs in, then they are sent to that provider and come back signed in."
                ),
                _c(
                    "Given single sign-on enforced for a domain, when a person of that domain tries another sign-in "
                    "method, then it is refused."
                ),
                _c(
                    "Given a person removed from the identity provider, when their session ends (after at most 8 hours), "
                    "then they can no longer sign in."
                ),
            ),
            anchor="IdentityProvider",
        ),
        routes=(
            _R("GET", "/auth/sso/start", "Start single sign-on for an email address's domain"),
            _R("POST", "/auth/sso/callback", "Finish single sign-on (SAML response or OIDC code)"),
            _R("POST", "/auth/sign-out", "End the current session"),
        ),
        non_functional=(
            "Single sign-on accepts only signed SAML assertions or OIDC tokens, checked against the "
            "provider's published keys.",
        ),
    ),
    _M(
        "auth_social",
        keywords=("social login", "sign in with google", "google login"),
        implies=("signin",),
        excludes=("auth_none",),
        feature=_Feature(
            "Social sign-in",
            "People sign in with an existing Google, GitHub, Microsoft or Apple account.",
            (
                _c(
                    "Given a visitor, when they choose Sign in with Google and consent, then an account is created or "
                    "matched by verified email address and they are signed in."
                ),
                _c(
                    "Given a provider that reports an unverified email address, when it is used to sign in, then no "
                    "existing account is matched by that address."
                ),
            ),
        ),
        fields=(
            (
                "User",
                _f(
                    "auth_provider",
                    "enum",
                    "Account used to sign in",
                    values=("google", "github", "microsoft", "apple"),
                ),
            ),
            ("User", _f("provider_subject", "string", "The provider's stable id for the person", unique=True)),
        ),
        routes=(
            _R("GET", "/auth/oauth/{provider}/start", "Start sign-in with a social account"),
            _R("GET", "/auth/oauth/{provider}/callback", "Finish sign-in with a social account"),
            _R("POST", "/auth/sign-out", "End the current session"),
        ),
    ),
    _M(
        "auth_none",
        keywords=("no login", "no sign in", "without login", "no account"),
        excludes=("auth_password", "auth_magic_link", "auth_sso", "auth_social", "mfa"),
        feature=_Feature(
            "Open access",
            "Anyone with the link can use the application without an account.",
            (
                _c(
                    "Given anyone with the link, when they open it, then they can use every public screen without "
                    "signing in."
                ),
                _c(
                    "Given one IP address sending more than 100 requests a minute, when it sends more, then they are "
                    "answered 429."
                ),
            ),
        ),
        non_functional=(
            "Without sign-in, no personal data is collected and abuse is limited by rate limits per IP address.",
        ),
    ),
    _M(
        "mfa",
        keywords=("two factor", "2fa", "mfa", "multi factor", "authenticator app"),
        implies=("signin",),
        feature=_Feature(
            "Two-factor authentication",
            "People can protect their account with a code from an authenticator app.",
            (
                _c(
                    "Given a person with two-factor authentication on, when they sign in, then they must also enter a "
                    "valid 6-digit code from their authenticator app."
                ),
                _c(
                    "Given a person who lost their phone, when they use one of their 10 single-use recovery codes, then "
                    "they can sign in and set up a new phone."
                ),
            ),
        ),
        fields=(("User", _f("mfa_enabled", "boolean", "Two-factor authentication is on")),),
        routes=(
            _R("POST", "/auth/mfa/setup", "Start two-factor setup and return the authenticator secret"),
            _R("POST", "/auth/mfa/verify", "Confirm two-factor setup or sign-in with a 6-digit code"),
        ),
    ),
    # Who uses it (tenancy question) and teams.
    _M(
        "tenancy_single",
        decisions=("One workspace: everyone belongs to the same team or company, so there is no organization entity.",),
    ),
    _M(
        "tenancy_individuals",
        criteria=(
            ("core", _c("Given two people, when either lists anything, then they never see the other's records.")),
        ),
        non_functional=("Each person's data is private to them; nothing is shared in the first version.",),
    ),
    _M(
        "organizations",
        keywords=("multi tenant", "tenant", "organization"),
        entities=("Organization", "Membership"),
        excludes=("tenancy_single", "tenancy_individuals"),
        feature=_Feature(
            "Organizations",
            "Each customer organization has its own private workspace.",
            (
                _c(
                    "Given two organizations, when a member of one lists anything, then nothing from the other appears, "
                    "and fetching another organization's record by id answers 404."
                ),
                _c(
                    "Given a person who signs up, when they create an organization, then they become its first "
                    "administrator."
                ),
                _c(
                    "Given an administrator, when they invite someone by email, then that person joins this "
                    "organization only."
                ),
            ),
            anchor="Organization",
        ),
        non_functional=(
            "Tenant isolation: every query is scoped to the caller's organization, and a test checks "
            "every route for cross-organization access.",
        ),
    ),
    _M(
        "teams",
        keywords=("team", "colleague", "coworker", "invite", "workspace"),
        description_only=("collaboration", "collaborate", "collaborative", "member", "share"),
        entities=("Team", "Membership"),
        feature=_Feature(
            "Team collaboration",
            "People work together in teams they are invited to.",
            (
                _c(
                    "Given a team administrator, when they invite a colleague by email, then the colleague gets an "
                    "invitation and is listed as invited."
                ),
                _c(
                    "Given an invitation, when the colleague accepts it, then they join the team with the role chosen in "
                    "the invitation and see the team's {main_items}."
                ),
                _c(
                    "Given a member removed from a team, when they send their next request, then they no longer see the "
                    "team's data."
                ),
                _c(
                    "Given an invitation older than 7 days, when someone tries to accept it, then it has expired and a new "
                    "one must be sent."
                ),
            ),
            anchor="Team",
        ),
        routes=(_R("POST", "/memberships/{membershipId}/accept", "Accept an invitation", "Membership"),),
    ),
    # Roles (roles question); each adds a role and a permission criterion.
    _M(
        "role_owner",
        keywords=("owner role", "account owner"),
        enum_values=(("roles", "owner"),),
        role=("Owner", "Holds the account: billing, deletion and ownership transfer."),
        criteria=(
            (
                "permissions",
                _c(
                    "Given the only owner, when they try to leave or be removed, then this is "
                    "refused until ownership is transferred."
                ),
            ),
        ),
    ),
    _M(
        "role_admin",
        keywords=("admin", "administrator"),
        enum_values=(("roles", "admin"),),
        role=("Administrator", "Manages members, roles and settings."),
        criteria=(
            (
                "permissions",
                _c(
                    "Given an administrator, when they change a member's role, then the new "
                    "permissions apply from that member's next request."
                ),
            ),
        ),
    ),
    _M(
        "role_manager",
        keywords=("manager role",),
        enum_values=(("roles", "manager"),),
        role=("Manager", "Plans the work and assigns it to members."),
        criteria=(
            (
                "permissions",
                _c(
                    "Given a manager, when they assign work to a member of their team, then the "
                    "member sees it in their assigned work."
                ),
            ),
        ),
    ),
    _M(
        "role_member",
        keywords=("member role",),
        enum_values=(("roles", "member"),),
        role=("Member", "Does the day-to-day work: creates, edits and completes items."),
        criteria=(
            (
                "permissions",
                _c("Given a member, when they try to change roles or workspace settings, then the API answers 403."),
            ),
        ),
    ),
    _M(
        "role_viewer",
        keywords=("viewer", "read only", "view only"),
        enum_values=(("roles", "viewer"),),
        role=("Viewer", "Can read everything they are given access to, and change nothing."),
        criteria=(
            (
                "permissions",
                _c(
                    "Given a viewer, when they try to create, change or delete anything, then the "
                    "API answers 403 and nothing changes."
                ),
            ),
        ),
    ),
    _M(
        "role_guest",
        keywords=("guest",),
        enum_values=(("roles", "guest"),),
        role=("Guest", "An outside collaborator invited to selected items only."),
        criteria=(
            (
                "permissions",
                _c(
                    "Given a guest invited to one {main_item}, when they list {main_items}, then "
                    "they see only that one."
                ),
            ),
        ),
    ),
    _M(
        "role_client",
        keywords=("client access", "client portal", "client role"),
        enum_values=(("roles", "client"),),
        role=("Client", "A customer who follows the work done for them."),
        criteria=(
            (
                "permissions",
                _c(
                    "Given a client, when they sign in, then they see only the records that belong "
                    "to their own company."
                ),
            ),
        ),
    ),
    # Domain modules, in the order their features appear.
    _M(
        "projects",
        keywords=("project", "portfolio", "initiative"),
        entities=("Project",),
        feature=_Feature(
            "Projects",
            "Work is organized in projects with a lead, a status and dates.",
            (
                _c(
                    "Given a member, when they create a project with only a name, then it is active and they are its "
                    "lead."
                ),
                _c(
                    "Given an archived project, when members list projects, then it is hidden unless they ask for archived "
                    "projects."
                ),
                _c(
                    "Given a project past its due date that is not completed, when projects are listed, then it is "
                    "flagged overdue."
                ),
            ),
            anchor="Project",
        ),
    ),
    _M(
        "boards",
        keywords=("board", "kanban", "swimlane"),
        description_only=("column",),
        entities=("Board", "Column"),
        feature=_Feature(
            "Task boards",
            "Work moves across the columns of a board, from to do to done.",
            (
                _c("Given a new board, when it is created, then it has the columns To do, In progress and Done."),
                _c(
                    "Given a task in To do, when a member drags it to In progress, then its column and position are saved "
                    "and the board shows the same order after reloading.",
                    "Task",
                ),
                _c(
                    "Given two tasks in a column, when a member moves the second above the first, then every viewer sees "
                    "the new order.",
                    "Task",
                ),
            ),
            anchor="Board",
        ),
        routes=(
            _R(
                "PATCH", "/tasks/{taskId}/move", "Move a task to another column or position", "Task", ("Task", "Column")
            ),
            _R("GET", "/boards/{boardId}/tasks", "List a board's tasks, grouped by column", "Task", ("Task",)),
        ),
    ),
    _M(
        "board_fixed",
        criteria=(
            (
                "boards",
                _c(
                    "Given a board, when anyone tries to rename, add or remove a column, then the API "
                    "answers 403: the columns To do, In progress and Done are fixed."
                ),
            ),
        ),
    ),
    _M(
        "board_custom",
        criteria=(
            (
                "boards",
                _c(
                    "Given a board administrator, when they add, rename or reorder columns, then every "
                    "member sees the new columns in that order."
                ),
            ),
            (
                "boards",
                _c(
                    "Given a column that still holds tasks, when someone deletes it, then they must pick "
                    "a column to move the tasks to.",
                    "Task",
                ),
            ),
        ),
        routes=(_R("PUT", "/boards/{boardId}/column-order", "Reorder a board's columns", "Column", ("Column",)),),
    ),
    _M(
        "wip_limits",
        keywords=("wip limit", "work in progress limit"),
        implies=("boards",),
        fields=(
            ("Column", _f("wip_limit", "integer", "Most tasks the column may hold; empty means no limit", req=False)),
        ),
        criteria=(
            (
                "boards",
                _c(
                    "Given a column with a WIP limit of 3 that holds 3 tasks, when someone moves a "
                    "fourth task into it, then the move is refused with a message naming the limit.",
                    "Task",
                ),
            ),
        ),
    ),
    _M(
        "tasks",
        keywords=("task", "todo", "to do", "checklist", "backlog", "work item", "chore", "issue tracker", "sprint"),
        description_only=("issue", "assignment"),
        entities=("Task",),
        feature=_Feature(
            "Tasks",
            "Work is split into tasks with an assignee, a priority and a due date.",
            (
                _c(
                    "Given a member, when they create a task with only a title, then it has status todo, priority medium "
                    "and no assignee."
                ),
                _c("Given a task, when it is assigned to a member, then it appears in that member's assigned tasks."),
                _c(
                    "Given a task past its due date that is not done, when tasks are listed, then it is flagged overdue."
                ),
                _c(
                    "Given a task, when it is set to done, then completed_at is set; when it is reopened, then completed_at "
                    "is cleared."
                ),
            ),
            anchor="Task",
        ),
        routes=(_R("GET", "/users/me/tasks", "List the tasks assigned to the signed-in user", "Task"),),
    ),
    _M(
        "comments",
        keywords=("comment", "discussion", "mention", "collaboration", "collaborate", "collaborative"),
        entities=("Comment",),
        feature=_Feature(
            "Comments",
            "People discuss each {comment_subject} in a thread of comments.",
            (
                _c(
                    "Given a {comment_subject}, when a member writes a comment, then it appears under the "
                    "{comment_subject} with their name and the time, oldest first."
                ),
                _c(
                    "Given a comment, when its author edits it, then it shows as edited; when anyone else tries, then the "
                    "API answers 403."
                ),
                _c("Given a {comment_subject} that is deleted, when it goes, then its comments go with it."),
            ),
            anchor="Comment",
        ),
    ),
    _M(
        "time",
        keywords=(
            "time tracking",
            "track time",
            "tracking time",
            "time tracker",
            "timesheet",
            "time sheet",
            "time entry",
            "log hours",
            "logged hours",
            "hours worked",
            "time log",
        ),
        entities=("TimeEntry",),
        feature=_Feature(
            "Time tracking",
            "People record the time they spend on their work and see totals.",
            (
                _c(
                    "Given a member, when they record time on a task, then the entry shows on their timesheet and in the "
                    "task's total.",
                    "Task",
                ),
                _c(
                    "Given time entries in a week, when a member opens their timesheet, then the daily and weekly totals "
                    "match the sum of the entries."
                ),
                _c("Given an entry whose end is before its start, when it is saved, then it is rejected."),
            ),
            anchor="TimeEntry",
        ),
        routes=(
            _R(
                "GET",
                "/projects/{projectId}/time-summary",
                "Total tracked time of a project, per person and per week",
                "TimeEntry",
                ("Project",),
            ),
        ),
    ),
    _M(
        "timers",
        keywords=("timer", "stopwatch"),
        implies=("time",),
        criteria=(
            (
                "time",
                _c(
                    "Given a running timer, when the member stops it, then ended_at is set and "
                    "duration_minutes is the elapsed time rounded to the minute; starting a second timer "
                    "stops the first, so each person has at most one running."
                ),
            ),
        ),
        routes=(
            _R("POST", "/time-entries/{timeEntryId}/stop", "Stop a running timer", "TimeEntry", ("TimeEntry",)),
            _R("GET", "/users/me/timer", "Get the signed-in user's running timer, if any", "TimeEntry", ("TimeEntry",)),
        ),
    ),
    _M(
        "manual_time",
        implies=("time",),
        criteria=(
            (
                "time",
                _c(
                    "Given a member entering 1 h 30 min for yesterday, when they save it, then the entry "
                    "has duration_minutes 90 and appears on yesterday's timesheet; a duration of zero or "
                    "less is rejected."
                ),
            ),
        ),
    ),
    _M(
        "time_source",
        implies=("time",),
        fields=(("TimeEntry", _f("source", "enum", "How the time was recorded", values=("timer", "manual"))),),
    ),
    _M(
        "billable",
        keywords=("billable", "hourly rate"),
        implies=("time",),
        fields=(
            ("TimeEntry", _f("billable", "boolean", "Billed to the client")),
            (
                "TimeEntry",
                _f("hourly_rate", "decimal", "Rate for this entry; defaults to the project's rate", req=False),
            ),
            ("Project", _f("hourly_rate", "decimal", "Default rate for billable time", req=False)),
        ),
        criteria=(
            (
                "time",
                _c(
                    "Given a billable entry of 90 minutes at 80.00 per hour, when it is saved, then it "
                    "adds 120.00 to the project's billable total, and non-billable entries are left out "
                    "of it."
                ),
            ),
        ),
    ),
    _M(
        "customers",
        keywords=("customer", "crm", "client list", "client management"),
        description_only=("client", "contact", "lead"),
        entities=("Customer",),
        feature=_Feature(
            "Customers",
            "A shared list of customers with their contact details.",
            (
                _c(
                    "Given a new customer with a name and an email address, when it is saved, then it can be found by "
                    "either."
                ),
                _c(
                    "Given a customer with invoices or orders, when someone tries to delete it, then this is refused until "
                    "they are archived or removed.",
                    "Invoice",
                ),
            ),
            anchor="Customer",
        ),
    ),
    _M(
        "invoicing",
        keywords=("invoice", "invoicing", "billing"),
        entities=("Invoice", "InvoiceLine", "Customer"),
        feature=_Feature(
            "Invoicing",
            "Invoices are drafted from work done, sent to customers and followed up.",
            (
                _c(
                    "Given a draft invoice with two lines, when it is saved, then its total is the sum of the line amounts, "
                    "rounded to cents."
                ),
                _c(
                    "Given a draft invoice, when it is sent, then it gets the next number in sequence and can no longer be "
                    "edited."
                ),
                _c("Given a sent invoice past its due date, when the daily check runs, then it becomes overdue."),
                _c(
                    "Given billable time entries, when they are added to an invoice, then each becomes a line and none can "
                    "be invoiced twice.",
                    "TimeEntry",
                ),
            ),
            anchor="Invoice",
        ),
        routes=(
            _R("POST", "/invoices/{invoiceId}/send", "Number an invoice and email it to the customer", "Invoice"),
            _R(
                "POST",
                "/invoices/{invoiceId}/lines/from-time-entries",
                "Add uninvoiced billable time as invoice lines",
                "InvoiceLine",
                ("TimeEntry",),
            ),
        ),
    ),
    # Not "catalog" alone: "a recipe catalog" is about recipes, not products for sale.
    _M(
        "catalog",
        keywords=("sku", "product catalog"),
        description_only=("product",),
        entities=("Product",),
        feature=_Feature(
            "Product catalog",
            "Products with prices that customers can browse.",
            (
                _c(
                    "Given an administrator, when they create a product with a SKU already in use, then it is rejected."
                ),
                _c("Given an inactive product, when customers browse, then it is hidden and cannot be ordered."),
            ),
            anchor="Product",
        ),
    ),
    _M(
        "inventory",
        keywords=("inventory", "stock level", "warehouse"),
        implies=("catalog",),
        fields=(("Product", _f("stock_quantity", "integer", "Units in stock")),),
        criteria=(
            (
                "catalog",
                _c(
                    "Given a product with 2 units in stock, when an order for 3 is placed, then it is "
                    "refused and the available quantity is shown."
                ),
            ),
        ),
    ),
    _M(
        "orders",
        keywords=(
            "ecommerce",
            "e commerce",
            "checkout",
            "shopping cart",
            "online shop",
            "online store",
            "webshop",
            "purchase",
        ),
        description_only=("order", "cart", "shop", "sell"),
        entities=("Order", "OrderItem", "Customer"),
        implies=("catalog",),
        feature=_Feature(
            "Orders",
            "Customers order products; orders are followed until delivery.",
            (
                _c(
                    "Given a cart with two products, when the customer checks out, then an order is created with both "
                    "items at their current prices and status pending."
                ),
                _c(
                    "Given a product whose price changes, when an existing order is viewed, then it still shows the price "
                    "paid."
                ),
                _c("Given a paid order, when it is cancelled, then it is refunded and its status becomes refunded."),
            ),
            anchor="Order",
        ),
        routes=(_R("POST", "/orders/{orderId}/cancel", "Cancel an order and refund it if paid", "Order"),),
    ),
    _M(
        "payments",
        keywords=("payment", "stripe", "credit card"),
        entities=("Payment",),
        feature=_Feature(
            "Payments",
            "Money is collected through a payment provider that hosts the checkout.",
            (
                _c(
                    "Given an unpaid order, when the customer completes checkout, then the payment is recorded as "
                    "succeeded and the order becomes paid.",
                    "Order",
                ),
                _c("Given a sent invoice, when the customer pays it, then the invoice becomes paid.", "Invoice"),
                _c("Given a provider event delivered twice, when it is processed, then the payment is recorded once."),
                _c(
                    "Given a failed card payment, when the provider reports it, then the payment is marked failed and the "
                    "customer can try again."
                ),
            ),
            anchor="Payment",
        ),
        routes=(
            _R("POST", "/checkout-sessions", "Start a payment and return the provider's checkout address", "Payment"),
            _R(
                "POST",
                "/payment-provider/events",
                "Receive payment provider events (signature checked, idempotent)",
                "Payment",
            ),
        ),
        non_functional=(
            "Card details never reach the application's servers: the payment provider hosts the "
            "checkout (PCI DSS SAQ A).",
        ),
    ),
    _M(
        "subscriptions",
        keywords=("subscription", "recurring billing", "recurring payment"),
        entities=("Subscription",),
        implies=("payments",),
        feature=_Feature(
            "Subscriptions",
            "Customers pay for a plan every period until they cancel.",
            (
                _c(
                    "Given an active subscription, when the customer cancels it, then it stays active until the end of "
                    "the paid period and then ends."
                ),
                _c(
                    "Given a renewal payment that fails, when the provider reports it, then the subscription becomes "
                    "past_due and the payer is told by email."
                ),
            ),
            anchor="Subscription",
        ),
        routes=(
            _R(
                "POST", "/subscriptions/{subscriptionId}/cancel", "Cancel at the end of the paid period", "Subscription"
            ),
        ),
    ),
    _M("pay_none"),
    _M(
        "documents",
        keywords=("document", "wiki", "knowledge base", "file sharing"),
        description_only=("file",),
        entities=("Document",),
        feature=_Feature(
            "Documents",
            "People write and share documents and files.",
            (
                _c(
                    "Given a member, when they create a document with a title and text, then the other members who can "
                    "see its {scope} can read it."
                ),
                _c(
                    "Given a document edited by two people at once, when the second one saves, then their save is "
                    "refused with a prompt to reload instead of silently overwriting the first."
                ),
            ),
            anchor="Document",
        ),
    ),
    _M(
        "attachments",
        keywords=("attachment", "attach", "file upload", "upload"),
        entities=("Attachment",),
        feature=_Feature(
            "File attachments",
            "Files such as images and PDFs can be attached to each {attachment_subject}.",
            (
                _c(
                    "Given a {attachment_subject}, when a member attaches a PDF of up to 25 MB, then it is listed on the "
                    "{attachment_subject} with its name and size."
                ),
                _c(
                    "Given a file over 25 MB, when someone tries to upload it, then it is refused before the upload "
                    "starts."
                ),
                _c(
                    "Given a person without access to the {attachment_subject}, when they open one of its attachment "
                    "links, then access is denied."
                ),
            ),
            anchor="Attachment",
        ),
        routes=(_R("GET", "/attachments/{attachmentId}/download", "Get a short-lived download link", "Attachment"),),
        non_functional=(
            "Files are uploaded straight to object storage through pre-signed URLs (25 MB each at most) "
            "and scanned for malware before anyone can download them.",
        ),
    ),
    _M(
        "messaging",
        keywords=("chat", "messaging", "direct message", "channel"),
        description_only=("message", "conversation", "inbox"),
        entities=("Channel", "Message"),
        feature=_Feature(
            "Messaging",
            "People talk in channels.",
            (
                _c(
                    "Given a public channel, when a member posts a message, then every member of the channel sees it, in "
                    "order."
                ),
                _c("Given a private channel, when someone who is not a member lists channels, then it is not listed."),
                _c("Given a message, when its author edits it, then it shows as edited."),
            ),
            anchor="Channel",
        ),
    ),
    _M(
        "calendar",
        keywords=("calendar", "appointment", "meeting"),
        description_only=("event",),
        entities=("Event",),
        feature=_Feature(
            "Calendar",
            "Dated events shown by day, week and month.",
            (
                _c(
                    "Given an event from 10:00 to 11:00, when a member in another time zone views it, then it shows in "
                    "their local time."
                ),
                _c("Given an event whose end is before its start, when it is saved, then it is rejected."),
                _c(
                    "Given a week view, when a member opens it, then every event they can see that week is listed by "
                    "start time."
                ),
            ),
            anchor="Event",
        ),
        routes=(
            _R(
                "GET",
                "/users/me/calendar.ics",
                "Subscribe to the signed-in user's events from a calendar app (iCalendar)",
                "Event",
            ),
        ),
    ),
    _M(
        "tickets",
        keywords=("ticket", "helpdesk", "help desk", "service desk", "support request"),
        description_only=("support",),
        entities=("Ticket",),
        feature=_Feature(
            "Support tickets",
            "Requests for help are tracked from open to resolved.",
            (
                _c(
                    "Given a person asking for help, when they open a ticket with a subject and a description, then it "
                    "has status open and they get a confirmation with its reference."
                ),
                _c(
                    "Given an urgent ticket still unassigned after 1 hour, when the hourly check runs, then administrators "
                    "are alerted."
                ),
                _c("Given a resolved ticket, when the requester replies within 7 days, then it reopens."),
            ),
            anchor="Ticket",
        ),
    ),
    _M(
        "notes",
        keywords=("note taking", "notebook", "notes app", "take notes", "meeting notes", "journal"),
        entities=("Note",),
        feature=_Feature(
            "Notes",
            "People keep notes and find them again.",
            (
                _c("Given a member writing a note, when they stop typing, then it is saved within 2 seconds."),
                _c("Given pinned and unpinned notes, when notes are listed, then the pinned ones come first."),
            ),
            anchor="Note",
        ),
    ),
    _M(
        "posts",
        keywords=("blog", "article", "publishing"),
        description_only=("post",),
        entities=("Post",),
        feature=_Feature(
            "Publishing",
            "Posts are drafted, reviewed and published.",
            (
                _c(
                    "Given a draft post, when an editor publishes it, then it gets published_at and appears on the public "
                    "list."
                ),
                _c("Given two posts with the same title, when both are saved, then their slugs differ."),
            ),
            anchor="Post",
        ),
        routes=(_R("POST", "/posts/{postId}/publish", "Publish a draft post", "Post"),),
    ),
    _M(
        "item",
        entities=("Item",),
        feature=_Feature(
            "Manage {items}",
            "People keep a list of {items} and keep it up to date.",
            (
                _c(
                    "Given a signed-in person, when they add a {item} with a name, then it appears in their list of "
                    "{items}."
                ),
                _c(
                    "Given a {item}, when its owner edits or archives it, then the change is saved and archived {items} "
                    "are hidden from the default list."
                ),
                _c("Given a {item} that someone has no access to, when they request it, then the API answers 404."),
            ),
            anchor="Item",
        ),
    ),
    # Cross-cutting modules.
    _M(
        "tags",
        keywords=("tag", "label", "categorize", "categorise", "category"),
        entities=("Tag",),
        feature=_Feature(
            "Tags",
            "Items can be labelled with tags and filtered by them.",
            (
                _c(
                    "Given a {tag_target}, when a member adds the tags urgent and client, then both show on it and "
                    "filtering by either lists it."
                ),
                _c("Given a tag, when an administrator renames it, then the new name shows everywhere it is used."),
                _c(
                    "Given a tag in use, when it is deleted, then it is removed from every item and nothing else "
                    "changes."
                ),
            ),
            anchor="Tag",
        ),
    ),
    _M(
        "notifications",
        keywords=("notification", "notify", "alert", "reminder", "remind"),
        entities=("Notification",),
        feature=_Feature(
            "Notifications",
            "People are told about changes that concern them.",
            (
                _c(
                    "Given a task assigned to a member, when the assignment is saved, then the member is notified with "
                    "the task's title and who assigned it.",
                    "Task",
                ),
                _c("Given a comment mentioning @name, when it is saved, then that person is notified.", "Comment"),
                _c(
                    "Given an unread notification, when its recipient opens it, then it is marked read and the unread "
                    "count drops by one."
                ),
            ),
            anchor="Notification",
        ),
        routes=(
            _R("POST", "/notifications/{notificationId}/read", "Mark a notification read", "Notification"),
            _R("POST", "/notifications/read-all", "Mark all notifications read", "Notification"),
        ),
    ),
    _M("notify_in_app", implies=("notifications",), enum_values=(("channels", "in_app"),)),
    _M(
        "notify_email",
        keywords=("email notification", "email alert", "email reminder"),
        implies=("notifications",),
        enum_values=(("channels", "email"),),
        criteria=(
            (
                "notifications",
                _c(
                    "Given a member who is not using the app, when they are notified, then they "
                    "also get an email within 5 minutes, with a link to unsubscribe."
                ),
            ),
        ),
    ),
    _M(
        "notify_push",
        keywords=("push notification",),
        implies=("notifications", "devices"),
        enum_values=(("channels", "push"),),
        criteria=(
            (
                "notifications",
                _c(
                    "Given a member with the mobile app installed, when they are notified, then a "
                    "push notification reaches their phone."
                ),
            ),
        ),
    ),
    _M(
        "notify_digest",
        keywords=("digest", "daily summary"),
        implies=("notifications",),
        enum_values=(("channels", "email"),),
        criteria=(
            (
                "notifications",
                _c(
                    "Given a member with unread notifications, when the daily summary goes out at "
                    "08:00 in their time zone, then it lists them in one email."
                ),
            ),
        ),
    ),
    _M(
        "audit",
        keywords=("audit", "audit log", "audit trail", "activity log"),
        description_only=("compliance",),
        entities=("AuditLog",),
        feature=_Feature(
            "Audit log",
            "Every change is recorded: who did what, and when.",
            (
                _c(
                    "Given any create, update or delete, when it succeeds, then an audit entry records who, what, when and "
                    "the changed fields."
                ),
                _c(
                    "Given an administrator, when they filter the audit log by person and date, then matching entries are "
                    "listed newest first."
                ),
                _c("Given an audit entry, when anyone tries to change or delete it, then no route allows it."),
            ),
            anchor="AuditLog",
        ),
        non_functional=("Audit entries are append-only and kept for at least one year.",),
    ),
    _M(
        "reporting",
        keywords=("report", "reporting", "analytics", "dashboard", "insight", "metric", "statistic", "chart"),
        feature=_Feature(
            "Reports and dashboards",
            "Summaries and charts of the data, for a chosen date range.",
            (
                _c(
                    "Given a date range, when a manager opens the time report, then it shows hours per person and per "
                    "project, and the totals match the sum of the entries.",
                    "TimeEntry",
                ),
                _c(
                    "Given tasks in several states, when someone opens the dashboard, then it shows open, overdue and "
                    "completed tasks per project.",
                    "Task",
                    "Project",
                ),
                _c(
                    "Given a month of orders, when an administrator opens the sales report, then revenue per day matches "
                    "the paid orders.",
                    "Order",
                ),
                _c(
                    "Given a month of tickets, when the support report is opened, then it shows the median first response "
                    "and resolution times per week.",
                    "Ticket",
                ),
                _c(
                    "Given up to 100,000 records in the range, when any report is opened, then it loads within 3 "
                    "seconds."
                ),
            ),
        ),
        routes=(
            _R("GET", "/reports/overview", "Key figures for a date range"),
            _R("GET", "/reports/time", "Tracked time per person and project for a date range", None, ("TimeEntry",)),
            _R("GET", "/reports/tasks", "Open, overdue and completed tasks per project", None, ("Task",)),
            _R("GET", "/reports/sales", "Revenue and orders per day", None, ("Order",)),
            _R("GET", "/reports/invoices", "Invoiced, paid and overdue amounts", None, ("Invoice",)),
            _R("GET", "/reports/tickets", "Ticket volume and response times", None, ("Ticket",)),
        ),
    ),
    _M(
        "report_schedule",
        keywords=("scheduled report", "weekly report"),
        implies=("reporting",),
        criteria=(
            (
                "reporting",
                _c(
                    "Given a weekly report scheduled for Monday 08:00, when the time comes, then every "
                    "subscriber gets it by email, in their own time zone."
                ),
            ),
        ),
    ),
    _M(
        "exports",
        keywords=("export", "csv", "excel", "spreadsheet", "download data"),
        entities=("Export",),
        feature=_Feature(
            "Data export",
            "Lists and reports can be downloaded as files.",
            (
                _c(
                    "Given a member viewing a filtered list, when they export it as CSV, then the file has a header row "
                    "and one row per record, with the same filters applied."
                ),
                _c(
                    "Given an export of more than 10,000 rows, when it is requested, then it is prepared in the background "
                    "and the member is told when the file is ready; the link expires after 24 hours."
                ),
                _c(
                    "Given a text field that contains commas, quotes, line breaks or starts with =, when it is exported to "
                    "CSV, then a spreadsheet shows the text unchanged and runs no formula."
                ),
            ),
            anchor="Export",
        ),
        criteria=(
            (
                "reporting",
                _c(
                    "Given a report on screen, when it is exported, then the file holds the same "
                    "figures for the same date range."
                ),
            ),
        ),
    ),
    _M(
        "export_pdf",
        keywords=("pdf report", "pdf export"),
        implies=("exports",),
        criteria=(
            (
                "exports",
                _c(
                    "Given a report, when it is exported as PDF, then the PDF matches what is on "
                    "screen, with the date range in its header."
                ),
            ),
        ),
    ),
    _M(
        "search",
        keywords=("search", "full text", "find anything"),
        feature=_Feature(
            "Search",
            "One search box finds {main_items} and other records by their text.",
            (
                _c(
                    "Given records containing the word budget, when a member searches for it, then the matching records "
                    "they may see are listed within 1 second, best matches first."
                ),
                _c("Given a record the member has no access to, when it matches a search, then it is not listed."),
            ),
        ),
        routes=(_R("GET", "/search", "Search the records the signed-in user can see"),),
    ),
    _M(
        "realtime",
        keywords=("real time", "realtime", "live update", "websocket", "live collaboration"),
        feature=_Feature(
            "Live updates",
            "Changes made by one person appear for everyone looking at the same data, without reloading.",
            (
                _c(
                    "Given two members viewing the same board, when one moves a task, then the other sees it move within "
                    "2 seconds.",
                    "Board",
                    "Task",
                ),
                _c(
                    "Given a member viewing a {comment_subject}, when someone else comments on it, then the comment "
                    "appears within 2 seconds.",
                    "Comment",
                ),
                _c(
                    "Given two members in a channel, when one sends a message, then the other receives it within 1 "
                    "second.",
                    "Message",
                ),
                _c(
                    "Given a member whose connection drops, when it comes back, then the changes made meanwhile are "
                    "loaded without reloading the page."
                ),
            ),
        ),
        routes=(_R("GET", "/live-updates", "Open a WebSocket that streams the changes the user may see"),),
        non_functional=(
            "Live updates reach connected viewers within 2 seconds at the 95th percentile; clients fall "
            "back to polling every 30 seconds when the WebSocket fails.",
        ),
    ),
    _M(
        "integrations",
        keywords=("integration", "integrate", "third party"),
        entities=("Integration",),
        feature=_Feature(
            "Integrations",
            "Administrators connect the other tools the team already uses.",
            (
                _c(
                    "Given an administrator, when they connect a tool, then it is listed with its status and its "
                    "credentials are never shown again."
                ),
                _c(
                    "Given a connected tool that fails three deliveries in a row, when the third fails, then the "
                    "integration is marked failing and administrators are notified."
                ),
            ),
            anchor="Integration",
        ),
        routes=(
            _R(
                "POST",
                "/integrations/{integrationId}/test",
                "Send a test message through an integration",
                "Integration",
            ),
        ),
    ),
    _M(
        "integ_slack",
        keywords=("slack",),
        implies=("integrations",),
        enum_values=(("integrations", "slack"),),
        criteria=(
            (
                "integrations",
                _c(
                    "Given a Slack channel chosen for the team, when a {main_item} is created or "
                    "completed, then a message linking to it is posted there."
                ),
            ),
        ),
    ),
    _M(
        "integ_msteams",
        keywords=("microsoft teams", "ms teams"),
        implies=("integrations",),
        enum_values=(("integrations", "microsoft_teams"),),
        criteria=(
            (
                "integrations",
                _c(
                    "Given a Microsoft Teams channel chosen for the team, when a {main_item} is "
                    "created or completed, then a message linking to it is posted there."
                ),
            ),
        ),
    ),
    _M(
        "integ_github",
        keywords=("github",),
        implies=("integrations",),
        enum_values=(("integrations", "github"),),
        criteria=(
            (
                "integrations",
                _c(
                    "Given a connected GitHub repository, when a pull request mentions a "
                    "{main_item}'s reference, then a link to the pull request appears on that "
                    "{main_item}."
                ),
            ),
        ),
    ),
    _M(
        "integ_gcal",
        keywords=("google calendar", "outlook calendar", "calendar sync"),
        implies=("integrations",),
        enum_values=(("integrations", "google_calendar"),),
        criteria=(
            (
                "integrations",
                _c(
                    "Given a member who connected Google Calendar, when something they are involved "
                    "in gets a date or a new date, then their calendar shows it within 5 "
                    "minutes."
                ),
            ),
        ),
    ),
    _M(
        "integ_email",
        keywords=("inbound email", "email integration"),
        implies=("integrations",),
        enum_values=(("integrations", "email"),),
        criteria=(
            (
                "integrations",
                _c(
                    "Given the team's inbound address, when someone emails it, then a new "
                    "{main_item} is created from the subject and body."
                ),
            ),
        ),
    ),
    _M(
        "integ_zapier",
        keywords=("zapier",),
        implies=("integrations", "webhooks"),
        enum_values=(("integrations", "zapier"),),
        criteria=(
            (
                "integrations",
                _c(
                    "Given a Zapier zap using the app's trigger, when the trigger event happens, "
                    "then the zap receives it."
                ),
            ),
        ),
    ),
    _M(
        "webhooks",
        keywords=("webhook",),
        entities=("Webhook",),
        feature=_Feature(
            "Webhooks",
            "Other systems subscribe to events and receive them as signed HTTP calls.",
            (
                _c(
                    "Given a webhook subscribed to an event, when the event happens, then a POST signed with HMAC-SHA256 "
                    "is delivered within 10 seconds and retried with backoff for 24 hours if it fails."
                ),
                _c(
                    "Given an administrator, when they send a test delivery, then the response status and time are "
                    "shown."
                ),
            ),
            anchor="Webhook",
        ),
        routes=(_R("POST", "/webhooks/{webhookId}/test", "Send a test delivery", "Webhook"),),
    ),
    _M(
        "preferences",
        keywords=("dark mode", "dark theme", "light mode", "theme", "user preference", "appearance"),
        entities=("UserPreference",),
        feature=_Feature(
            "Appearance and preferences",
            "People choose a light or dark theme and their language; the choice follows them across devices.",
            (
                _c(
                    "Given a member who picks the dark theme, when they sign in on another device, then the dark theme is "
                    "used there too."
                ),
                _c(
                    "Given the theme set to follow the system, when the device switches to dark mode, then the app "
                    "switches without reloading."
                ),
                _c(
                    "Given the dark theme, when any screen is shown, then text contrast is at least 4.5:1 (WCAG 2.1 AA)."
                ),
            ),
            anchor="UserPreference",
        ),
        routes=(
            _R("GET", "/users/me/preferences", "Get the signed-in user's preferences", "UserPreference"),
            _R("PUT", "/users/me/preferences", "Replace the signed-in user's preferences", "UserPreference"),
        ),
    ),
    # Devices (devices question).
    _M(
        "desktop_only",
        excludes=("mobile_web",),
        non_functional=("Supported browsers: the latest two versions of Chrome, Edge, Firefox and Safari on desktop.",),
    ),
    _M(
        "mobile_web",
        keywords=("mobile", "phone", "smartphone", "responsive", "tablet", "small screen"),
        excludes=("desktop_only",),
        feature=_Feature(
            "Works on phones",
            "Every screen adapts to phones and tablets.",
            (
                _c(
                    "Given a phone 360 pixels wide, when a member opens any screen, then everything is usable without "
                    "horizontal scrolling or zooming."
                ),
                _c(
                    "Given a touch screen, when a member uses any control, then its touch target is at least 44 by 44 "
                    "pixels."
                ),
            ),
        ),
        non_functional=(
            "The web interface is responsive from 360 pixels wide and loads in under 3 seconds on a 4G connection.",
        ),
    ),
    _M(
        "devices",
        keywords=("native app", "ios", "android", "app store"),
        entities=("Device",),
        implies=("mobile_web",),
        feature=_Feature(
            "Mobile apps",
            "Native iOS and Android apps use the same API as the web.",
            (
                _c(
                    "Given the iOS or Android app, when a member signs in, then they can do everything the main web flows "
                    "allow."
                ),
                _c(
                    "Given a member who signs out on a phone, when they do, then the phone's push registration is "
                    "removed."
                ),
            ),
            anchor="Device",
        ),
        routes=(
            _R("POST", "/devices", "Register a phone for push notifications", "Device"),
            _R("DELETE", "/devices/{deviceId}", "Unregister a phone", "Device"),
        ),
        non_functional=("The API stays backward compatible with the two most recent app releases.",),
    ),
    _M(
        "offline",
        keywords=("offline", "no connection", "without internet"),
        implies=("devices",),
        feature=_Feature(
            "Offline use",
            "The apps keep working without a connection and sync later.",
            (
                _c(
                    "Given a member without a connection, when they create or edit {main_items}, then the changes are kept "
                    "on the device and sent when the connection returns."
                ),
                _c(
                    "Given two people who changed the same record while offline, when both sync, then the later change "
                    "wins field by field and both people see the result."
                ),
            ),
        ),
        non_functional=("Offline changes are synced within 30 seconds of reconnecting.",),
    ),
    # Data retention (retention question).
    _M(
        "retention_delete",
        excludes=("retention_trash", "retention_archive", "retention_legal"),
        criteria=(
            (
                "core",
                _c(
                    "Given a person who deletes a record, when they confirm, then it and everything that "
                    "belongs to it are gone and cannot be restored."
                ),
            ),
        ),
        non_functional=("Deleted records are removed at once; backups holding them expire within 35 days.",),
    ),
    _M(
        "retention_trash",
        keywords=("trash", "recycle bin", "soft delete", "restore"),
        excludes=("retention_delete", "retention_archive", "retention_legal"),
        feature=_Feature(
            "Trash and restore",
            "Deleted items stay in a trash for 30 days before they are gone for good.",
            (
                _c(
                    "Given a deleted {main_item}, when a member restores it from the trash within 30 days, then it "
                    "comes back with everything that belonged to it."
                ),
                _c(
                    "Given an item that has been in the trash for 30 days, when the daily clean-up runs, then it is "
                    "deleted permanently."
                ),
            ),
        ),
        routes=(_R("GET", "/trash", "List deleted items that can still be restored"),),
        non_functional=(
            "Deleted records stay restorable for 30 days, then are purged; backups holding them expire "
            "within a further 35 days.",
        ),
    ),
    _M(
        "retention_archive",
        excludes=("retention_delete", "retention_trash", "retention_legal"),
        criteria=(
            (
                "core",
                _c(
                    "Given a record that someone deletes, when the deletion is confirmed, then it is "
                    "archived: hidden from lists but kept, and administrators can still find it."
                ),
            ),
        ),
        non_functional=(
            "Nothing is deleted permanently: deleting archives a record, and personal data of deleted "
            "accounts is anonymised.",
        ),
    ),
    _M(
        "retention_legal",
        keywords=("retention period", "legal retention", "gdpr"),
        excludes=("retention_delete", "retention_trash", "retention_archive"),
        criteria=(
            (
                "core",
                _c(
                    "Given a record older than its retention period, when the nightly clean-up runs, then "
                    "it is deleted permanently."
                ),
            ),
        ),
        non_functional=(
            "Records are kept for the legal retention period (to be confirmed per record type, e.g. 10 "
            "years for invoices) and deleted automatically afterwards; personal data of deleted accounts "
            "is anonymised at once.",
        ),
    ),
)

MODULE_BY_KEY = {module.key: module for module in MODULES}

# --- clarifying topics ---------------------------------------------------------------------

_SINGLE, _MULTI, _BOOL, _TEXT = (
    QuestionType.SINGLE_CHOICE,
    QuestionType.MULTI_CHOICE,
    QuestionType.BOOLEAN,
    QuestionType.TEXT,
)

TOPICS: tuple[Topic, ...] = (
    _T(
        "authentication",
        "Sign-in",
        "How will people sign in?",
        _SINGLE,
        always=True,
        default=(0,),
        options=(
            _O("Email and password", ("auth_password",), ("password", "email and password", "username and password")),
            _O(
                "Magic link sent by email",
                ("auth_magic_link",),
                ("magic link", "passwordless", "login link", "sign in link", "one time code"),
            ),
            _O(
                "Single sign-on with the company's identity provider (SAML or OIDC)",
                ("auth_sso",),
                ("sso", "saml", "single sign on", "okta", "azure ad", "active directory", "entra", "oidc", "openid"),
            ),
            _O(
                "Social login (Google, GitHub, Microsoft or Apple account)",
                ("auth_social",),
                (
                    "sign in with google",
                    "sign in with github",
                    "sign in with microsoft",
                    "sign in with apple",
                    "log in with google",
                    "login with google",
                    "log in with github",
                    "login with github",
                    "google login",
                    "google sign in",
                    "google account",
                    "github login",
                    "microsoft account",
                    "social login",
                    "social sign in",
                    "oauth",
                ),
            ),
            _O(
                "No sign-in: anyone with the link can use it",
                ("auth_none",),
                (
                    "no login",
                    "no sign in",
                    "no signin",
                    "no account",
                    "without login",
                    "without sign in",
                    "without an account",
                    "no authentication",
                    "anonymous",
                ),
            ),
        ),
    ),
    _T(
        "tenancy",
        "Who uses it",
        "Is this for a single team, or for many separate organizations that must not see each other's data?",
        _SINGLE,
        always=True,
        default=(0,),
        options=(
            _O(
                "One team or company",
                ("tenancy_single",),
                (
                    "single team",
                    "one team",
                    "our team",
                    "our company",
                    "in house",
                    "internal tool",
                    "single tenant",
                    "our organization",
                    "our organisation",
                ),
            ),
            _O(
                "Many organizations, each with its own private workspace",
                ("organizations",),
                (
                    "multi tenant",
                    "multitenant",
                    "tenant",
                    "saas",
                    "b2b",
                    "many organization",
                    "multiple organization",
                    "each organization",
                    "many companies",
                    "multiple companies",
                    "each company",
                ),
            ),
            _O(
                "Individuals, each with their own private data",
                ("tenancy_individuals",),
                ("personal", "single user", "just me", "for myself", "individual user"),
            ),
        ),
    ),
    _T(
        "roles",
        "Roles",
        "Which roles do people need?",
        _MULTI,
        asked_with=("teams",),
        asked_when=("role", "permission", "access control", "share"),
        default=(1, 3),
        options=(
            _O("Owner: holds the account, billing and deletion", ("role_owner",)),
            _O("Administrator: manages members and settings", ("role_admin",)),
            _O("Manager: plans and assigns work", ("role_manager",)),
            _O("Member: does the day-to-day work", ("role_member",)),
            _O("Viewer: read-only access", ("role_viewer",)),
            _O("Guest: outside collaborator invited to selected items", ("role_guest",)),
            _O("Client: a customer following the work done for them", ("role_client",)),
        ),
    ),
    _T(
        "realtime",
        "Live updates",
        "Should people see each other's changes immediately, without reloading?",
        _BOOL,
        asked_with=("teams", "boards", "messaging", "documents", "comments"),
        asked_when=("collaboration", "collaborate", "collaborative", "live", "real time", "realtime"),
        default=(0,),
        options=(
            _O(
                "Yes: changes appear for everyone immediately",
                ("realtime",),
                ("real time", "realtime", "live update", "live collaboration", "websocket", "instant update"),
            ),
            _O("No: people reload to see others' changes", (), ("no real time", "without real time", "no live update")),
        ),
    ),
    _T(
        "board_workflow",
        "Board columns",
        "How should board columns work?",
        _SINGLE,
        asked_with=("boards",),
        default=(1,),
        options=(
            _O("Fixed columns: To do, In progress, Done", ("board_fixed",), ("fixed column",)),
            _O(
                "Each board has its own custom columns",
                ("board_custom",),
                ("custom column", "custom workflow", "custom status"),
            ),
            _O(
                "Custom columns with work-in-progress (WIP) limits",
                ("board_custom", "wip_limits"),
                ("wip limit", "work in progress limit"),
            ),
        ),
    ),
    _T(
        "time_billable",
        "Billable time",
        "Is tracked time billed to clients, with hourly rates?",
        _BOOL,
        asked_with=("time",),
        default=(1,),
        options=(
            _O(
                "Yes: time can be billable, with hourly rates",
                ("billable",),
                ("billable", "hourly rate", "bill client", "bill hour"),
            ),
            _O("No: time is tracked for internal use only", (), ("non billable", "internal use only")),
        ),
    ),
    _T(
        "time_capture",
        "Recording time",
        "How will people record their time?",
        _SINGLE,
        asked_with=("time",),
        default=(2,),
        options=(
            _O("Start/stop timers", ("timers",), ("stopwatch", "start stop timer", "start and stop")),
            _O("Manual entries (date and duration)", ("manual_time",), ("manual entry", "manual time")),
            _O(
                "Both timers and manual entries",
                ("timers", "manual_time", "time_source"),
                ("timer and manual", "timers and manual"),
            ),
        ),
    ),
    _T(
        "payments",
        "Payments",
        "How will money be collected?",
        _SINGLE,
        asked_with=("orders", "invoicing"),
        asked_when=(
            "payment",
            "pay",
            "paid",
            "billing",
            "subscription",
            "checkout",
            "price",
            "pricing",
            "sell",
            "stripe",
        ),
        default=(0,),
        options=(
            _O(
                "Card payments through a payment provider (e.g. Stripe)",
                ("payments",),
                ("stripe", "credit card", "card payment", "paypal"),
            ),
            _O("Invoices paid by bank transfer", ("invoicing", "payments"), ("bank transfer", "wire transfer")),
            _O(
                "Recurring subscriptions",
                ("subscriptions", "payments"),
                ("subscription", "recurring billing", "recurring payment", "monthly plan"),
            ),
            _O("No payments in the first version", ("pay_none",), ("no payment",)),
        ),
    ),
    _T(
        "attachments",
        "File attachments",
        "Should people be able to attach files (images, PDFs) to items?",
        _BOOL,
        asked_with=("documents",),
        asked_when=(
            "file",
            "document",
            "attachment",
            "attach",
            "upload",
            "image",
            "photo",
            "pdf",
            "picture",
            "screenshot",
        ),
        required=False,
        default=(0,),
        options=(
            _O(
                "Yes: files can be attached",
                ("attachments",),
                ("attachment", "attach file", "file upload", "upload file"),
            ),
            _O("No attachments in the first version", (), ("no attachment", "without attachment")),
        ),
    ),
    _T(
        "notifications",
        "Notifications",
        "How should people be told about things that concern them (assignments, mentions, due dates)?",
        _MULTI,
        asked_with=("teams", "tasks", "tickets", "messaging", "calendar"),
        asked_when=("notification", "notify", "alert", "reminder", "remind", "deadline", "due date"),
        required=False,
        default=(0, 1),
        options=(
            _O("In-app notifications", ("notify_in_app",), ("in app notification",)),
            _O("Email", ("notify_email",), ("email notification", "email alert", "email reminder")),
            _O("Push notifications on phones", ("notify_push",), ("push notification",)),
            _O("A daily summary email", ("notify_digest",), ("daily digest", "daily summary")),
            _O("No notifications", (), ("no notification",)),
        ),
    ),
    _T(
        "integrations",
        "Integrations",
        "Which other tools should it connect to?",
        _MULTI,
        always=True,
        required=False,
        default=(7,),
        options=(
            _O("Slack", ("integ_slack",), ("slack",)),
            _O("Microsoft Teams", ("integ_msteams",), ("microsoft teams", "ms teams")),
            _O(
                "GitHub",
                ("integ_github",),
                (
                    "github issue",
                    "github repo",
                    "github repository",
                    "pull request",
                    "github integration",
                    "integrate with github",
                    "sync with github",
                ),
            ),
            _O("Google Calendar", ("integ_gcal",), ("google calendar", "outlook calendar", "calendar sync", "ical")),
            _O(
                "Email: create items from incoming email",
                ("integ_email",),
                ("inbound email", "email integration", "email to task"),
            ),
            _O("Outgoing webhooks", ("webhooks",), ("webhook",)),
            _O("Zapier", ("integ_zapier",), ("zapier",)),
            _O("None for now", (), ("no integration", "standalone")),
        ),
    ),
    _T(
        "reporting",
        "Reports",
        "Which reports or exports are needed?",
        _MULTI,
        asked_when=(
            "report",
            "reporting",
            "analytics",
            "dashboard",
            "insight",
            "metric",
            "statistic",
            "chart",
            "export",
            "kpi",
        ),
        required=False,
        default=(0, 1),
        options=(
            _O("Dashboards with charts", ("reporting",), ("dashboard", "chart")),
            _O("CSV or Excel export", ("exports",), ("csv", "excel", "spreadsheet")),
            _O("PDF reports", ("reporting", "export_pdf"), ("pdf report",)),
            _O("Scheduled reports by email", ("report_schedule",), ("scheduled report", "weekly report")),
        ),
    ),
    _T(
        "devices",
        "Devices",
        "Which devices must it work on?",
        _SINGLE,
        asked_when=(
            "mobile",
            "phone",
            "smartphone",
            "ios",
            "android",
            "tablet",
            "offline",
            "on the go",
            "in the field",
            "app store",
        ),
        required=False,
        default=(1,),
        options=(
            _O("Desktop browsers only", ("desktop_only",), ("desktop only", "web only")),
            _O("The web, working well on phones too", ("mobile_web",), ("responsive", "mobile friendly", "mobile web")),
            _O(
                "The web plus native iOS and Android apps",
                ("devices",),
                ("ios", "android", "native app", "mobile app", "app store"),
            ),
            _O("Native apps that also work offline", ("offline",), ("offline", "without internet", "no connection")),
        ),
    ),
    _T(
        "data_retention",
        "Data retention",
        "What should happen to data when someone deletes it?",
        _SINGLE,
        always=True,
        required=False,
        default=(1,),
        options=(
            _O(
                "Delete it immediately and permanently",
                ("retention_delete",),
                ("permanently delete", "hard delete", "delete immediately"),
            ),
            _O(
                "Keep it in a trash for 30 days, then delete it",
                ("retention_trash",),
                ("trash", "recycle bin", "soft delete", "restore deleted", "undo delete"),
            ),
            _O("Archive it and keep it indefinitely", ("retention_archive",), ("keep forever", "keep everything")),
            _O(
                "Keep it for a legal retention period, then delete it",
                ("retention_legal",),
                ("retention period", "legal retention", "gdpr"),
            ),
        ),
    ),
    _T(
        "anything_else",
        "Additional requirements",
        "Anything else the specification should cover: must-haves, constraints, things to avoid?",
        _TEXT,
        always=True,
        required=False,
    ),
)

TOPIC_BY_KEY = {topic.id: topic for topic in TOPICS}
# Modules a question decides: description keywords alone do not switch them on, the question does.
# Invoicing is a domain of its own as well as a way to get paid, so its keywords still count.
GOVERNED = frozenset(key for topic in TOPICS for option in topic.options for key in option.modules) - {"invoicing"}

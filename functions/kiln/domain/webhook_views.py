"""What the API shows of webhooks, their deliveries and custom events (kept out of
kiln.domain.views so the functions answering workspaces or projects do not load them).

A secret appears in exactly two answers, each once: creating a webhook and rotating its secret
(`WebhookWithSecret`); every other answer is a `Webhook`, which has no field that could hold one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from kiln.domain.views import Timestamp, View, WorkspaceId, id_pattern, omitted

WebhookId = Annotated[str, Field(description="A webhook id.", pattern=id_pattern("webhook"))]
EventId = Annotated[str, Field(description="An event id.", pattern=id_pattern("event"))]
SECRET_PATTERN = "^whsec_[A-Za-z0-9+/]{43}=$"  # whsec_ + standard base64 of 32 bytes


class Webhook(View):
    """A webhook subscription (never its secret)."""

    id: WebhookId
    workspaceId: WorkspaceId
    url: str = Field(description="Where deliveries are POSTed (https; checked at every delivery).")
    events: list[str] = Field(description="Event types and wildcards (`run.*`, `custom.*`, `*`) it receives.")
    description: str | None
    status: Literal["enabled", "disabled"]
    disabledReason: Literal["user", "gone", "failing"] | None = Field(
        description="Why it is disabled: by a PATCH (`user`), a 410 answer (`gone`) or 5 days of failures (`failing`)."
    )
    failingSince: Timestamp | None = Field(description="The first failed attempt of the current failing streak.")
    previousSecretExpiresAt: Timestamp | None = Field(
        description="After a rotation: until when the previous secret also signs (both signatures are sent)."
    )
    createdAt: Timestamp
    updatedAt: Timestamp


class WebhookWithSecret(Webhook):
    """A webhook with its signing secret (absent when the answer is an idempotent replay)."""

    # Shown once: an Idempotent-Replayed answer is the same webhook without it (route replay
    # "without-secret"), so the secret never sits in an idempotency record.
    secret: Annotated[str, Field(pattern=SECRET_PATTERN)] | SkipJsonSchema[None] = omitted(
        "The signing secret, `whsec_` + base64 of 32 random bytes: shown in this answer only. "
        "Absent from an `Idempotent-Replayed: true` answer."
    )


class DeliveryAttemptView(View):
    at: Timestamp
    statusCode: int | None = Field(description="The receiver's status; null when it never answered.")
    durationMs: int
    error: str | None = Field(description="Why the attempt failed (refused address, timeout, redirect, ...).")
    responseExcerpt: str | None = Field(description="The first 1 KiB of the receiver's answer.")


class DeliveryView(View):
    """One event on its way to one webhook, with every attempt so far."""

    id: str = Field(description="The delivery id.")
    webhookId: WebhookId
    eventId: str = Field(description="The event's id: the `webhook-id` header of every attempt.")
    eventType: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: list[DeliveryAttemptView]
    nextAttemptAt: Timestamp | None
    createdAt: Timestamp
    redeliveryOf: str | None = Field(description="The delivery this one repeats (POST .../redeliver).")


class EventAccepted(View):
    """A custom event accepted for delivery to the workspace's matching webhooks."""

    id: EventId

"""The audit trail: events filtered and paged, and their CSV export (admin, supervisor)."""

from __future__ import annotations

from pydantic import Field

from ...services.audit import MAX_LIMIT
from .common import Event, Out, Query, or_blank


class AuditQuery(Query):
    """Filters, all optional (an empty one is as if left out); every bad one is named at
    once (422)."""

    ticket: str | None = Field(None, description="A ticket's id or number.")
    unit: str | None = Field(None, description="A unit's id or callsign.")
    user: str | None = Field(
        None, description="A user's id or username: what they did and what was done to them."
    )
    type: str | None = Field(
        None,
        description="Event types, comma-separated; `auth.` or `auth.*` match a prefix.",
    )
    actor: str | None = Field(None, description="Who did it: a user's id or username.")
    from_: str | None = Field(
        None,
        alias="from",
        description="An ISO 8601 time with its offset, or a WIB day `YYYY-MM-DD` (its start).",
    )
    to: str | None = Field(
        None,
        description="An ISO 8601 time (exclusive), or a WIB day `YYYY-MM-DD` (inclusive).",
    )
    before: str | None = Field(
        None,
        description="An event id: only older events (the previous page's `next`).",
        json_schema_extra=or_blank({"pattern": "^[0-9]+$"}),
    )
    limit: str | None = Field(
        None,
        description=f"Events per page, 1 to {MAX_LIMIT} (default 100; not for the CSV).",
        json_schema_extra=or_blank({"pattern": "^[0-9]+$"}),
    )


class AuditEvent(Event):
    """An event with the names of what it refers to."""

    ticket_number: str | None
    unit_callsign: str | None
    actor: str | None = Field(description="The actor's username.")


class AuditPage(Out):
    events: list[AuditEvent] = Field(description="Newest first.")
    next: int | None = Field(description="The `before` of the next (older) page; null: none.")

"""The events table: the audit trail and the live feed are one thing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import JSONType, UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY.
_EventId = BigInteger().with_variant(Integer(), "sqlite")


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(_EventId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(48))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)

    __table_args__ = (
        Index("ix_events_ticket", "ticket_id", "id"),
        Index("ix_events_unit", "unit_id", "id"),
        Index("ix_events_type", "type", "id"),
        Index("ix_events_actor", "actor_id", "id"),  # the audit view: what a user did
        Index("ix_events_at", "at"),  # the audit view: a time range
    )


class EventRecipient(db.Model):
    """A unit, besides the event's own ``unit_id``, whose stream carries the event (a note
    reaches every unit on its ticket)."""

    __tablename__ = "event_recipients"

    event_id: Mapped[int] = mapped_column(
        _EventId, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_event_recipients_unit", "unit_id", "event_id"),)

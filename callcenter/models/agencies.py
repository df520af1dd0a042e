"""Other agencies a ticket is handed to (Damkar, PSC 119, BPBD, ...) and each hand-off."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

AGENCY_KINDS = ("fire", "medical", "disaster", "rescue", "utility", "transport", "police")
HANDOFF_STATUSES = ("pending", "acknowledged")
_PENDING_SQL = text("status = 'pending'")


class Agency(db.Model):
    """One agency of the catalog, named in both languages, with the number to call
    (None where the number is not yet known: the screen says so)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_id


class Handoff(db.Model):
    """A ticket handed to an agency: ``pending`` until the dispatcher records the agency's
    acknowledgement (who, their reference, when); escalated once past its ``due_at``."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The agency's acknowledgement, as the dispatcher recorded it.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    reference: Mapped[str | None] = mapped_column(String(80))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    agency: Mapped[Agency] = relationship(lazy="joined")

    __table_args__ = (
        # One hand-off waiting per agency per ticket: a double click makes one.
        Index(
            "uq_handoffs_pending_ticket_agency",
            "ticket_id",
            "agency_id",
            unique=True,
            postgresql_where=_PENDING_SQL,
            sqlite_where=_PENDING_SQL,
        ),
        Index("ix_handoffs_ticket", "ticket_id"),
        Index(
            "ix_handoffs_pending_due",
            "due_at",
            postgresql_where=_PENDING_SQL,
            sqlite_where=_PENDING_SQL,
        ),
    )

"""Running notes on a ticket, from the command center and from the units on it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

NOTE_MAX = 2000
# The words a note is found by (services/search.py), indexed on PostgreSQL only; written as
# PostgreSQL reflects it, so that the schema comparison sees no change.
NOTES_TSV = "to_tsvector('simple'::regconfig, text)"


class TicketNote(db.Model):
    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The unit that wrote it, when a unit did.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))

    author = relationship("User", lazy="joined")
    unit = relationship("Unit", lazy="joined")

    __table_args__ = (
        Index("ix_ticket_notes_ticket", "ticket_id", "id"),
        Index("ix_ticket_notes_search", sql_text(NOTES_TSV), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

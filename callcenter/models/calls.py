"""Calls: each call about an incident is its own record; a ticket has one or more.

The call that opened a ticket is its first (lowest id). Later calls about the same
incident are attached to it, and a call attached by mistake can be split off into a
ticket of its own. The ticket keeps its caller fields from the call that opened it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class Call(db.Model):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    # What the caller said.
    text: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who took the call (none for a call recorded by the migration without its taker).
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    taken_by = relationship("User", lazy="joined")

    __table_args__ = (
        Index("ix_calls_ticket", "ticket_id", "id"),
        Index("ix_calls_phone_received", "caller_phone", "received_at"),
    )

    @classmethod
    def opening(cls, ticket, taken_by_id: int | None) -> Call:
        """The call that opens ``ticket``, from its caller fields."""
        return cls(
            ticket_id=ticket.id,
            channel=ticket.channel,
            caller_name=ticket.caller_name,
            caller_phone=ticket.caller_phone,
            text=ticket.summary or "",
            received_at=ticket.received_at or ticket.created_at,
            taken_by_id=taken_by_id,
        )

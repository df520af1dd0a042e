"""Call-backs: a silent or dropped call leaves a task to ring the number back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

CALLBACK_STATUSES = ("open", "closed")
OUTCOMES = ("no_answer", "prank", "wrong_number", "genuine")
# Why a task closed: an outcome, or closed at once (a repeat prank number, no number).
CLOSE_REASONS = (*OUTCOMES, "repeat_prank", "no_number")
_OPEN_SQL = text("status = 'open'")


class Callback(db.Model):
    """The task of calling back the number of one silent or dropped call."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True
    )
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the sweep saw it late
    attempts: Mapped[int] = mapped_column(default=0)
    no_answers: Mapped[int] = mapped_column(default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    close_reason: Mapped[str | None] = mapped_column(String(16))
    # The ticket a genuine call-back was logged as.
    result_ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index(
            "ix_callbacks_open_due", "due_at", postgresql_where=_OPEN_SQL, sqlite_where=_OPEN_SQL
        ),
        Index("ix_callbacks_phone", "phone"),
    )


class CallbackAttempt(db.Model):
    """One try at calling back, and how it went."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_callback_attempts_callback", "callback_id", "id"),)

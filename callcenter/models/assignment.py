"""Assignments: one offer of one ticket to one unit, and what became of it.

A ticket needs ``units_needed`` units; each open offer or assignment holds one of its
numbered slots (1..units_needed). The database itself refuses what must never happen:

- a unit holds at most one active assignment (``uq_assignments_active_unit``);
- a ticket never holds the same unit twice while active (``uq_assignments_active_ticket_unit``);
- a ticket never holds more active assignments than it needs: two active assignments of a
  ticket never share a slot (``uq_assignments_active_ticket_slot``), and triggers (written by
  migration 0002, for SQLite and for PostgreSQL) refuse an active slot above the ticket's
  ``units_needed`` and refuse lowering ``units_needed`` below an active slot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .ticket import MAX_UNITS

ASSIGNMENT_STATUSES = (
    "offered",
    "accepted",
    "completed",
    "declined",
    "expired",
    "cancelled",
    "released",
)
ACTIVE_STATUSES = ("offered", "accepted")
# An offer the unit turned down or let run out: that unit is not offered the ticket again.
FAILED_STATUSES = ("declined", "expired")
_ACTIVE_SQL = text("status IN ('offered', 'accepted')")


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    # The ticket's slot this offer or assignment fills (kept afterwards, for the record).
    slot: Mapped[int] = mapped_column(server_default=text("1"))
    status: Mapped[str] = mapped_column(String(16), default="offered")
    manual: Mapped[bool] = mapped_column(default=False)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Accepted or declined.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # This unit's own progress: several units on one ticket each keep theirs.
    en_route_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    distance_m: Mapped[float | None]
    eta_s: Mapped[int | None]
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    end_reason: Mapped[str | None] = mapped_column(String(200))
    # How this unit's part ended when it cleared (the ticket keeps the closing one).
    resolution: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    ticket = relationship("Ticket", lazy="joined")
    unit = relationship("Unit", lazy="joined")

    __table_args__ = (
        CheckConstraint(f"slot BETWEEN 1 AND {MAX_UNITS}", name="ck_assignments_slot"),
        # The invariants the whole product rests on, enforced by the database itself.
        Index(
            "uq_assignments_active_unit",
            "unit_id",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
        Index(
            "uq_assignments_active_ticket_unit",
            "ticket_id",
            "unit_id",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
        Index(
            "uq_assignments_active_ticket_slot",
            "ticket_id",
            "slot",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
        Index("ix_assignments_status_deadline", "status", "deadline_at"),
        Index("ix_assignments_ticket", "ticket_id"),
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def step(self) -> str:
        """How far this unit is: offered, accepted, en_route, on_scene, or how it ended."""
        if self.status != "accepted":
            return self.status
        if self.on_scene_at is not None:
            return "on_scene"
        if self.en_route_at is not None:
            return "en_route"
        return "accepted"

"""Assignments: one offer of one ticket to one unit, and what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

ASSIGNMENT_STATUSES = ("offered", "accepted", "completed", "declined", "expired", "cancelled")
ACTIVE_STATUSES = ("offered", "accepted")
_ACTIVE_SQL = text("status IN ('offered', 'accepted')")


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="offered")
    manual: Mapped[bool] = mapped_column(default=False)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    distance_m: Mapped[float | None]
    eta_s: Mapped[int | None]
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    end_reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    ticket = relationship("Ticket", lazy="joined")
    unit = relationship("Unit", lazy="joined")

    __table_args__ = (
        # The invariant the whole product rests on, enforced by the database itself:
        # at most one open offer or assignment per ticket, and per unit.
        Index(
            "uq_assignments_active_ticket",
            "ticket_id",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
        Index(
            "uq_assignments_active_unit",
            "unit_id",
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

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "ticket_id": self.ticket_id,
            "unit_id": self.unit_id,
            "unit_callsign": self.unit.callsign if self.unit else None,
            "status": self.status,
            "manual": self.manual,
            "offered_at": self.offered_at,
            "deadline_at": self.deadline_at,
            "responded_at": self.responded_at,
            "ended_at": self.ended_at,
            "distance_m": round(self.distance_m) if self.distance_m is not None else None,
            "eta_s": self.eta_s,
            "decline_reason": self.decline_reason,
            "end_reason": self.end_reason,
        }
